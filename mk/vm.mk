# capsa vm: the CLI's --json-events output and the control API use json-c; the
# control API parses HTTP with http-parser (docs/vm.md, CONTROL API). Snapshots
# keep guest memory in LZ4-compressed chunks (format version 4; docs/vm.md,
# SNAPSHOTS) and read the zstd chunks of version 3; -lzstd is already linked for
# qcow2 (mk/virtio.mk).
LDLIBS += -ljson-c -lhttp_parser -llz4

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

# libFuzzer target for the kernel-image loaders (fuzz/vm); tests/vm/test_slow_fuzz_loaders
# runs it for a fixed budget.
VM_FUZZ_SRCS := src/vm/x86/boot.c src/vm/x86/elf.c src/vm/x86/bzimage.c src/vm/x86/e820.c \
	src/mem/guest_mem.c src/lib/err.c
build/fuzz/vm_kernel_image_fuzz: fuzz/vm/fuzz_kernel_image.c $(VM_FUZZ_SRCS)
	@mkdir -p $(dir $@)
	clang -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -o $@ $^
ifneq ($(shell command -v clang 2>/dev/null),)
TEST_DEPS += build/fuzz/vm_kernel_image_fuzz
endif

# libFuzzer target for the snapshot loader (fuzz/vm/fuzz_snapshot.c).
SNAP_FUZZ_SRCS := src/vm/snapshot/load.c src/vm/snapshot/format.c src/vm/snapshot/memz.c \
	src/vm/snapshot/devices_load.c src/lib/err.c
build/fuzz/vm_snapshot_fuzz: fuzz/vm/fuzz_snapshot.c $(SNAP_FUZZ_SRCS)
	@mkdir -p $(dir $@)
	clang -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -o $@ $^ -lz -lzstd -llz4

# libFuzzer target for the control API's HTTP parsing and routing
# (fuzz/vm/fuzz_http.c). The router reaches into the VM core, so it links the
# library's VM side (all but src/oci and src/wasm), built again with clang and
# the fuzzer's sanitizers.
# (clang warns about the GNU extension the KVM ioctl buffers use on purpose and
# about libseccomp's SCMP_A* macros)
FUZZ_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -Iinclude -g -O1 \
	-Wno-gnu-variable-sized-type-not-at-end -Wno-missing-field-initializers \
	-fno-sanitize-recover=undefined
FUZZ_LIB_OBJS := $(patsubst %.c,build/fuzz/obj/%.o,$(filter-out src/oci/% src/wasm/%,$(LIB_SRCS)))
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@
build/fuzz/libcapsa-vm.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^
build/fuzz/vm_http_fuzz: fuzz/vm/fuzz_http.c build/fuzz/libcapsa-vm.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< build/fuzz/libcapsa-vm.a \
		$(LDLIBS)
ifneq ($(shell command -v clang 2>/dev/null),)
TEST_DEPS += build/fuzz/vm_http_fuzz
endif
