# virtio-vsock (src/devices/virtio/vsock*.c): the slow Linux test's init and
# initramfs (tests/virtio/guest/vsockinit.c, built like the virtio root init).
build/vsock/vsockinit-%: tests/virtio/guest/vsockinit.c $(GUEST_INIT_HDRS)
	@mkdir -p $(dir $@)
	$(CC) -m$* $(VIRTIO_INIT_CFLAGS) -o $@ $<
build/vsock/initramfs-%.cpio: guest/initramfs/initramfs.spec build/vsock/vsockinit-% build/tools/mkcpio
	sed 's|@INIT@|build/vsock/vsockinit-$*|' $< | build/tools/mkcpio -o $@

.PRECIOUS: build/vsock/vsockinit-%
TEST_DEPS += build/vsock/initramfs-32.cpio build/vsock/initramfs-64.cpio
