# virtio devices and disk images (src/devices/virtio, src/disk): qcow2
# compressed clusters are deflate (zlib) or zstd.
LDLIBS += -lz -lzstd
