# virtio-net backends (src/net): user-mode networking through libslirp, which
# Debian ships only as a shared library: src/net/slirp.c loads libslirp.so.0
# with dlopen() when a --net user device is created, so build/capsa stays
# static (a static dlopen needs the glibc the binary was linked with, which
# is the host's own here). Only its header is needed at build time.

# init for the slow virtio-net test (an initramfs with only /init): freestanding,
# 32-bit (int $0x80) for paravirtual KVM hosts, 64-bit otherwise.
build/net/netinit-32: tests/virtio/guest/netinit.c $(GUEST_INIT_HDRS)
	@mkdir -p $(dir $@)
	$(CC) -m32 $(VIRTIO_INIT_CFLAGS) -o $@ $<
build/net/netinit-64: tests/virtio/guest/netinit.c $(GUEST_INIT_HDRS)
	@mkdir -p $(dir $@)
	$(CC) -m64 $(VIRTIO_INIT_CFLAGS) -o $@ $<
build/net/initramfs-%.cpio: guest/initramfs/initramfs.spec build/net/netinit-% build/tools/mkcpio
	sed 's|@INIT@|build/net/netinit-$*|' $< | build/tools/mkcpio -o $@

TEST_DEPS += build/net/initramfs-32.cpio build/net/initramfs-64.cpio
