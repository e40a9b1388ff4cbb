/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-balloon: pages the guest gives back are returned to the host with
 * MADV_DONTNEED (they read as zeros when touched again); memory statistics
 * from the guest are kept, and asked for again every stats interval. The
 * host's target is set before boot and may be changed while the VM runs. */
#ifndef CAPSA_DEVICES_VIRTIO_BALLOON_H
#define CAPSA_DEVICES_VIRTIO_BALLOON_H

#include "devices/virtio/mmio.h"

#define BALLOON_NSTATS 16
/* Feature bits (virtio spec 5.5.3). */
#define VIRTIO_BALLOON_F_STATS_VQ       1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM 2
/* Statistics tags (5.5.6.3). */
enum {
	BALLOON_STAT_SWAP_IN,
	BALLOON_STAT_SWAP_OUT,
	BALLOON_STAT_MAJFLT,
	BALLOON_STAT_MINFLT,
	BALLOON_STAT_MEMFREE,
	BALLOON_STAT_MEMTOT,
	BALLOON_STAT_AVAIL,
	BALLOON_STAT_CACHES,
	BALLOON_STAT_HTLB_PGALLOC,
	BALLOON_STAT_HTLB_PGFAIL,
};

struct virtio_balloon {
	const struct guest_mem *mem;
	uint32_t target_pages; /* num_pages: what the host asks for */
	uint32_t actual_pages; /* what the driver says it holds */
	uint64_t inflated, deflated, bad_pfns;
	uint64_t stats[BALLOON_NSTATS];
	uint32_t stats_seen; /* bit per tag */
	int stats_head;      /* held stats buffer, -1 if none */
	uint32_t stats_s;    /* give the buffer back this often (0: never) */
	uint64_t next_stats_ns;
};

/* What the host can read of the device while it runs. */
struct virtio_balloon_info {
	uint32_t target_pages, actual_pages;
	uint32_t stats_seen; /* bit per tag */
	uint64_t stats[BALLOON_NSTATS];
};

extern const struct virtio_device_ops virtio_balloon_ops;

void virtio_balloon_init(struct virtio_balloon *b, const struct guest_mem *mem,
                         uint64_t target_bytes);
/* What a snapshot keeps (the transport saves the queues). */
struct virtio_balloon_state {
	uint32_t target_pages, actual_pages;
	int32_t stats_head; /* held stats buffer, -1 if none */
	uint32_t stats_seen;
	uint64_t stats[BALLOON_NSTATS];
};

void virtio_balloon_save(const struct virtio_balloon *b, struct virtio_balloon_state *st);
/* stats_queue_size: the restored stats queue's size (0 if not set up); a
 * held buffer must lie inside it. */
int virtio_balloon_restore(struct virtio_balloon *b, const struct virtio_balloon_state *st,
                           uint16_t stats_queue_size, struct err *e);
/* Change the target while the VM runs; the driver is told through a
 * configuration-change interrupt. */
void virtio_balloon_set_target(struct virtio_balloon *b, struct virtio_mmio *t,
                               uint64_t target_bytes);

/* Give the held stats buffer back so the guest refreshes it (I/O thread or
 * with the transport's qlock held). */
void virtio_balloon_request_stats(struct virtio_balloon *b, struct virtio_mmio *t);
/* The statistics interval in seconds (0: the host never asks); with the
 * transport's qlock held. The I/O thread asks at the next tick. */
void virtio_balloon_set_stats_interval(struct virtio_balloon *b, uint32_t seconds);
/* Target, what the driver holds and the last statistics (qlock held). */
void virtio_balloon_info(const struct virtio_balloon *b, struct virtio_balloon_info *out);

#endif
