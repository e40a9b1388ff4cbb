/* SPDX-License-Identifier: Apache-2.0 */
/* Split virtqueues (virtio 1.x section 2.7), walked defensively: every
 * descriptor the guest wrote is checked before use (address and length inside
 * guest RAM, chain no longer than the queue, readable buffers before writable
 * ones, indirect tables well formed). A malformed queue makes vq_pop() return
 * -1 and the caller marks the device NEEDS_RESET. */
#ifndef CAPSA_DEVICES_VIRTIO_QUEUE_H
#define CAPSA_DEVICES_VIRTIO_QUEUE_H

#include "mem/guest_mem.h"

#include <stdint.h>
#include <sys/uio.h>

#define VQ_MAX_SIZE 256 /* largest queue (and chain) capsa offers */

#define VRING_DESC_F_NEXT     1
#define VRING_DESC_F_WRITE    2
#define VRING_DESC_F_INDIRECT 4

/* Why a chain was rejected (for tests and the device's report). */
enum vq_error {
	VQ_OK = 0,
	VQ_E_AVAIL_IDX, /* avail->idx ran more than a queue ahead */
	VQ_E_HEAD,      /* head index >= queue size */
	VQ_E_NEXT,      /* next index >= queue or table size */
	VQ_E_TOO_LONG,  /* more descriptors than the queue size (or a loop) */
	VQ_E_RANGE,     /* buffer not inside guest RAM (or wraps) */
	VQ_E_ZERO_LEN,  /* buffer of length 0 */
	VQ_E_ORDER,     /* readable buffer after a writable one */
	VQ_E_INDIRECT,  /* bad indirect table: nested, with NEXT, bad length */
	VQ_E_TOTAL,     /* total length of the chain overflows 32 bits */
	VQ_E_RING,      /* ring addresses not in guest RAM or misaligned */
};

struct vq_chain {
	uint16_t head;
	unsigned nout, nin; /* iov[0..nout) readable, iov[nout..nout+nin) writable */
	uint32_t out_len, in_len;
	struct iovec iov[VQ_MAX_SIZE];
};

/* State a snapshot needs: everything else is derived from it. */
struct vq_state {
	uint64_t desc, avail, used; /* guest physical addresses */
	uint16_t size, last_avail, used_idx, signalled_used;
	uint8_t ready, signalled_valid, event_idx, indirect;
};

struct vq {
	struct vq_state s;
	const struct guest_mem *mem;
	/* host views of the rings, valid while s.ready */
	const volatile uint8_t *desc_h, *avail_h;
	volatile uint8_t *used_h;
	enum vq_error last_error;
};

void vq_init(struct vq *q, const struct guest_mem *mem);
/* Check the ring addresses for s.size and make the queue usable. 0 or -1 (VQ_E_RING). */
int vq_activate(struct vq *q);
void vq_reset(struct vq *q);
/* Take the next available chain: 1 with *c filled, 0 if none, -1 if the guest
 * broke the rules (q->last_error says how; nothing was consumed). */
int vq_pop(struct vq *q, struct vq_chain *c);
/* Has the driver made buffers available that we have not taken? */
int vq_has_avail(const struct vq *q);
/* Put the chain just popped back (it will be popped again). */
void vq_unpop(struct vq *q);
/* Return a chain to the driver with `written` bytes written into it. */
void vq_push(struct vq *q, uint16_t head, uint32_t written);
/* After pushes: does the driver want an interrupt (EVENT_IDX aware)? */
int vq_should_notify(struct vq *q);
/* Before sleeping: ask for a kick at the next buffer. Returns 1 if buffers
 * arrived meanwhile (the caller should pop again). */
int vq_enable_kick(struct vq *q);
/* Copy helpers over a chain's readable/writable parts, from byte `off`. */
size_t vq_copy_from(const struct vq_chain *c, size_t off, void *dst, size_t len);
size_t vq_copy_to(const struct vq_chain *c, size_t off, const void *src, size_t len);
const char *vq_error_name(enum vq_error e);

#endif
