# capsa vm: the CLI's --json-events output uses json-c.
LDLIBS += -ljson-c

# The guest kernel (guest/kernel/build.sh caches it by a hash of config and
# patches); build/guest/kernel-path names the directory with vmlinux and bzImage.
.PHONY: guest-kernel
guest-kernel:
	@mkdir -p build/guest
	@guest/kernel/build.sh >build/guest/kernel-path.tmp
	@mv build/guest/kernel-path.tmp build/guest/kernel-path

TEST_DEPS += guest-kernel guest-initramfs

demo: deps
	@$(MAKE) --no-print-directory build/capsa guest-kernel guest-initramfs
	@scripts/demo.sh
