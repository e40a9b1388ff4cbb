/* virtio-blk device model over a struct disk (raw or qcow2). */
#ifndef CAPSA_DEVICES_VIRTIO_BLK_H
#define CAPSA_DEVICES_VIRTIO_BLK_H

#include "devices/virtio/mmio.h"
#include "disk/disk.h"

#define VIRTIO_BLK_ID_BYTES 20

struct virtio_blk_stats {
	uint64_t reads, writes, flushes, discards, zeroes, errors, bytes_read, bytes_written;
};

struct virtio_blk {
	struct virtio_device_ops ops; /* per device: the RO bit depends on the disk */
	struct disk *disk;
	char id[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_stats stats;
};

/* The disk stays owned by the caller. id may be NULL. */
void virtio_blk_init(struct virtio_blk *b, struct disk *disk, const char *id);

#endif
