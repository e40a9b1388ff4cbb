/* virtio-balloon: pages the guest gives back are returned to the host with
 * MADV_DONTNEED (they read as zeros when touched again); memory statistics
 * from the guest are kept. The host's target is set before boot. */
#ifndef CAPSA_DEVICES_VIRTIO_BALLOON_H
#define CAPSA_DEVICES_VIRTIO_BALLOON_H

#include "devices/virtio/mmio.h"

#define BALLOON_NSTATS 16

struct virtio_balloon {
	const struct guest_mem *mem;
	uint32_t target_pages; /* num_pages: what the host asks for */
	uint32_t actual_pages; /* what the driver says it holds */
	uint64_t inflated, deflated, bad_pfns;
	uint64_t stats[BALLOON_NSTATS];
	uint32_t stats_seen; /* bit per tag */
	int stats_head;      /* held stats buffer, -1 if none */
};

extern const struct virtio_device_ops virtio_balloon_ops;

void virtio_balloon_init(struct virtio_balloon *b, const struct guest_mem *mem,
                         uint64_t target_bytes);
/* Give the held stats buffer back so the guest refreshes it (I/O thread or
 * with the transport's qlock held). */
void virtio_balloon_request_stats(struct virtio_balloon *b, struct virtio_mmio *t);

#endif
