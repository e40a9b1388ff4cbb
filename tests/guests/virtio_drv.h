/* SPDX-License-Identifier: Apache-2.0 */
/* A small polling virtio-mmio driver for the test guest (virtio 1.x, split
 * queues, interrupts off): find a device by ID, negotiate features, set up to
 * VDRV_MAX_QUEUES queues of VDRV_QS entries, publish chains, kick, and wait for
 * used elements with a bounded wait. Device tests (virtio.c, virtio_*.c) build
 * on it; it works under capsa and QEMU microvm (see vdrv_find). */
#ifndef CAPSA_GUEST_VIRTIO_DRV_H
#define CAPSA_GUEST_VIRTIO_DRV_H

#include <stdint.h>

#define VDRV_MAX_QUEUES 4
#define VDRV_QS         64 /* entries per queue */

/* virtio-mmio registers (version 2) */
#define R_MAGIC       0x000
#define R_VERSION     0x004
#define R_DEVICE_ID   0x008
#define R_DEV_FEAT    0x010
#define R_DEV_FEATSEL 0x014
#define R_DRV_FEAT    0x020
#define R_DRV_FEATSEL 0x024
#define R_QSEL        0x030
#define R_QMAX        0x034
#define R_QNUM        0x038
#define R_QREADY      0x044
#define R_NOTIFY      0x050
#define R_ISR         0x060
#define R_ISR_ACK     0x064
#define R_STATUS      0x070
#define R_DESC        0x080
#define R_AVAIL       0x090
#define R_USED        0x0a0
#define R_CONFIG      0x100

#define ST_ACK      1
#define ST_DRIVER   2
#define ST_DRV_OK   4
#define ST_FEAT_OK  8
#define ST_NEED_RST 0x40

#define F_NEXT     1
#define F_WRITE    2
#define F_INDIRECT 4

#define VIRTIO_F_INDIRECT (1ull << 28)
#define VIRTIO_F_EVENT    (1ull << 29)
#define VIRTIO_F_V1       (1ull << 32)

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct vqueue {
	struct vdesc *desc;       /* VDRV_QS entries */
	volatile uint16_t *avail; /* flags, idx, ring[VDRV_QS], used_event */
	volatile uint32_t *used;  /* flags|idx, {id, len}[VDRV_QS], avail_event */
	uint16_t avail_idx, used_seen;
};

struct vdev {
	uint64_t base;
	uint64_t features; /* negotiated */
	unsigned nqueues;
	struct vqueue q[VDRV_MAX_QUEUES];
};

uint32_t vdrv_rd(const struct vdev *d, uint32_t off);
void vdrv_wr(const struct vdev *d, uint32_t off, uint32_t v);
/* Find the first device with this ID, scanning vbase=ADDR (default
 * 0xd0000000), vstride=N (default 0x1000) and vcount=N (default 9) from the
 * command line (QEMU microvm: vbase=0xfeb00000 vstride=0x200 vcount=24). */
int vdrv_find(struct vdev *d, const char *cmdline, uint32_t id);
/* Reset the device, negotiate VERSION_1 plus whatever of `want` it offers,
 * set up queues 0..nqueues-1 (empty rings) and set DRIVER_OK. 0 on success;
 * prints the reason and returns -1 otherwise. */
int vdrv_init(struct vdev *d, uint64_t want, unsigned nqueues);
/* Make the chain starting at descriptor `head` of queue q available. */
void vdrv_publish(struct vdev *d, unsigned q, uint16_t head);
void vdrv_kick(struct vdev *d, unsigned q);
/* Take one used element of queue q if there is one: 1 (with *id, *len), else 0. */
int vdrv_poll_used(struct vdev *d, unsigned q, uint32_t *id, uint32_t *len);
/* Wait (bounded, about `spins` pause loops; 0 means a generous default) for
 * one used element of queue q: its length, or -1 on timeout or NEEDS_RESET. */
int64_t vdrv_wait_used(struct vdev *d, unsigned q, uint32_t *id, uint64_t spins);
void vdrv_barrier(void);

#endif
