# Freestanding x86 test guests (tests/guests), the demo VM's init (guest/init)
# and the initramfs builder (guest/initramfs). See tests/guests/README.md.

GUEST_CC     ?= gcc
GUEST_LD     ?= ld
# CPL0 code is emulated on paravirtual KVM hosts and SSE may fault there: no SSE at all.
GUEST_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -g -ffreestanding -fno-pic -fno-pie \
                -nostdlib -mno-sse -mno-mmx -mno-avx -mno-red-zone -mcmodel=small \
                -fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none \
                -fno-builtin -mgeneral-regs-only -Itests/guests -MMD -MP
GUEST_LDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack --build-id=none \
                 --no-warn-rwx-segments

GUEST_HOST_SRCS := tests/guests/mkbzimage.c tests/guests/workload_native.c
GUEST_C_SRCS := $(sort $(filter-out $(GUEST_HOST_SRCS),$(wildcard tests/guests/*.c)))
GUEST_OBJS   := $(GUEST_C_SRCS:tests/guests/%.c=build/guests/obj/%.o) build/guests/obj/entry.o
GUEST_ARTIFACTS := build/guests/testguest.elf build/guests/testguest-nopvh.elf \
                   build/guests/testguest.bzImage build/guests/workload-native

.PHONY: guests
guests: $(GUEST_ARTIFACTS)

build/guests/obj/%.o: tests/guests/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@
build/guests/obj/%.o: tests/guests/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

build/guests/guest-pvh.ld: tests/guests/guest.ld.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) -E -P -undef -x c -DWITH_PVH $< -o $@
build/guests/guest-nopvh.ld: tests/guests/guest.ld.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) -E -P -undef -x c $< -o $@

build/guests/testguest.elf: $(GUEST_OBJS) build/guests/obj/pvhnote.o build/guests/guest-pvh.ld
	$(GUEST_LD) $(GUEST_LDFLAGS) -T build/guests/guest-pvh.ld -o $@ $(GUEST_OBJS) \
		build/guests/obj/pvhnote.o
build/guests/testguest-nopvh.elf: $(GUEST_OBJS) build/guests/guest-nopvh.ld
	$(GUEST_LD) $(GUEST_LDFLAGS) -T build/guests/guest-nopvh.ld -o $@ $(GUEST_OBJS)

# Host twin of test=cpl3: the same workload.h loop with the guest's code-generation flags.
build/guests/workload-native: tests/guests/workload_native.c tests/guests/workload.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -Wall -Wextra -Werror -O2 -ffreestanding -mno-sse -mno-mmx -mno-avx -mno-red-zone \
		-fno-pic -no-pie -Itests/guests -o $@ $<

# Host tool: wraps the no-PVH image (linked at 1 MiB) into a Linux bzImage.
build/tools/mkbzimage: tests/guests/mkbzimage.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) -o $@ $<
# Real-mode setup code of the bzImage (used only by loaders that run it, e.g. QEMU).
build/guests/setup.bin: build/guests/obj/setup.o
	$(GUEST_LD) -nostdlib -static --build-id=none -Ttext=0 -e 0 --oformat=binary -o $@ $<
build/guests/testguest.bzImage: build/guests/setup.bin build/guests/testguest-nopvh.elf \
				build/tools/mkbzimage
	build/tools/mkbzimage build/guests/setup.bin build/guests/testguest-nopvh.elf $@

TEST_DEPS      += $(GUEST_ARTIFACTS)
TEST_DEPS_FAST += $(GUEST_ARTIFACTS)

# Guest inits (pid 1): the demo VM's and the slow tests' (tests/virtio/guest),
# freestanding, no SSE, on guest/init/freestanding.h; 32-bit uses int $0x80,
# 64-bit syscall.
GUEST_INIT_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -static -nostdlib -ffreestanding \
                     -fno-pic -no-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
                     -fcf-protection=none -mno-sse -mno-mmx -mno-avx -Wl,--build-id=none \
                     -Iguest/init
GUEST_INIT_HDRS := guest/init/freestanding.h
build/guest/init-32: guest/init/init.c $(GUEST_INIT_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m32 $(GUEST_INIT_CFLAGS) -o $@ $<
build/guest/init-64: guest/init/init.c $(GUEST_INIT_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m64 $(GUEST_INIT_CFLAGS) -o $@ $<

# Uncompressed newc initramfs builder (host tool) and the demo initramfs images.
build/tools/mkcpio: guest/initramfs/mkcpio.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) -o $@ $<
build/guest/initramfs-%.cpio: guest/initramfs/initramfs.spec build/guest/init-% build/tools/mkcpio
	sed 's|@INIT@|build/guest/init-$*|' $< | build/tools/mkcpio -o $@

GUEST_DEMO_ARTIFACTS := build/guest/initramfs-32.cpio build/guest/initramfs-64.cpio
.PHONY: guest-initramfs
guest-initramfs: $(GUEST_DEMO_ARTIFACTS)

TEST_DEPS      += build/tools/mkcpio $(GUEST_DEMO_ARTIFACTS)
TEST_DEPS_FAST += build/tools/mkcpio $(GUEST_DEMO_ARTIFACTS)
