/* SPDX-License-Identifier: Apache-2.0 */
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
	struct blk_async *async; /* NULL: requests are served synchronously */
};

/* The disk stays owned by the caller. id may be NULL. */
void virtio_blk_init(struct virtio_blk *b, struct disk *disk, const char *id);
/* Serve reads, writes and flushes asynchronously (io_uring) from now on.
 * 1 if enabled, 0 if this disk or host cannot (*why says which), -1 on error.
 * Call before the transport starts. */
int virtio_blk_enable_async(struct virtio_blk *b, const char **why, struct err *e);
/* Serve `disk` from now on instead (the caller closes the old one): the
 * transport stopped with no request in flight, the disk as read-only as the
 * old one. Nothing changes on an error. */
int virtio_blk_swap(struct virtio_blk *b, struct disk *disk, struct err *e);
/* After the transport stopped: wait for requests in flight, free the engine. */
void virtio_blk_destroy(struct virtio_blk *b);

#endif
