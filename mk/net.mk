# virtio-net backends (src/net): user-mode networking through libslirp.
# Debian ships libslirp only as a shared library (it needs glibc's shared
# libc), so the release binary links glibc and libslirp dynamically and keeps
# its other libraries (json-c, seccomp, cap, zlib, zstd) static: the shared
# ones come first, -Bstatic covers the rest, -Bdynamic at the end for libc.
STATIC := -Wl,--no-as-needed -Wl,-Bdynamic -lslirp -lm -lpthread -Wl,-Bstatic
build/capsa: LDLIBS += -Wl,-Bdynamic
build/asan/capsa build/asan/tests/%: LDLIBS += -lslirp

# init for the slow virtio-net test (an initramfs with only /init): freestanding,
# 32-bit (int $0x80) for paravirtual KVM hosts, 64-bit otherwise.
build/net/netinit-32: tests/virtio/guest/netinit.c
	@mkdir -p $(dir $@)
	$(CC) -m32 $(VIRTIO_INIT_CFLAGS) -o $@ $<
build/net/netinit-64: tests/virtio/guest/netinit.c
	@mkdir -p $(dir $@)
	$(CC) -m64 $(VIRTIO_INIT_CFLAGS) -o $@ $<
build/net/initramfs-%.cpio: guest/initramfs/initramfs.spec build/net/netinit-% build/tools/mkcpio
	sed 's|@INIT@|build/net/netinit-$*|' $< | build/tools/mkcpio -o $@

TEST_DEPS += build/net/initramfs-32.cpio build/net/initramfs-64.cpio
