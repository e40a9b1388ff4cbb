# virtio devices and disk images (src/devices/virtio, src/disk): qcow2
# compressed clusters are deflate (zlib) or zstd.
LDLIBS += -lz -lzstd

# init for the slow virtio test (root file system on a virtio-blk disk):
# freestanding, no SSE; 32-bit (int $0x80) for paravirtual KVM hosts, 64-bit otherwise.
VIRTIO_INIT_CFLAGS := $(GUEST_INIT_CFLAGS)
build/virtio/rootinit-32: tests/virtio/guest/rootinit.c $(GUEST_INIT_HDRS)
	@mkdir -p $(dir $@)
	$(CC) -m32 $(VIRTIO_INIT_CFLAGS) -o $@ $<
build/virtio/rootinit-64: tests/virtio/guest/rootinit.c $(GUEST_INIT_HDRS)
	@mkdir -p $(dir $@)
	$(CC) -m64 $(VIRTIO_INIT_CFLAGS) -o $@ $<

TEST_DEPS += build/virtio/rootinit-32 build/virtio/rootinit-64
LDLIBS += -luring

# libFuzzer target for the qcow2 driver (fuzz/disk); tests/disk/test_slow_fuzz_qcow2
# runs it for a fixed budget.
DISK_FUZZ_SRCS := src/disk/qcow2.c src/disk/qcow2_meta.c src/disk/disk.c src/lib/err.c src/lib/iov.c
build/fuzz/disk_qcow2_fuzz: fuzz/disk/fuzz_qcow2.c $(DISK_FUZZ_SRCS) $(wildcard src/disk/*.h)
	@mkdir -p $(dir $@)
	clang -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -o $@ \
		fuzz/disk/fuzz_qcow2.c $(DISK_FUZZ_SRCS) -lz -lzstd
ifneq ($(shell command -v clang 2>/dev/null),)
TEST_DEPS += build/fuzz/disk_qcow2_fuzz
endif
