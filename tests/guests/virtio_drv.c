/* SPDX-License-Identifier: Apache-2.0 */
/* The test guest's polling virtio-mmio driver; see virtio_drv.h. */
#include "virtio_drv.h"

#include "guest.h"
#include "io.h"

/* Ring memory: one page each for the descriptor table, the avail ring and the
 * used ring of every queue. A driver for one device at a time. */
static struct vdesc ring_desc[VDRV_MAX_QUEUES][VDRV_QS] __attribute__((aligned(4096)));
static volatile uint16_t ring_avail[VDRV_MAX_QUEUES][2048] __attribute__((aligned(4096)));
static volatile uint32_t ring_used[VDRV_MAX_QUEUES][1024] __attribute__((aligned(4096)));

void vdrv_barrier(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

uint32_t vdrv_rd(const struct vdev *d, uint32_t off)
{
	return mmio_read32(d->base + off);
}

void vdrv_wr(const struct vdev *d, uint32_t off, uint32_t v)
{
	mmio_write32(d->base + off, v);
}

int vdrv_find(struct vdev *d, const char *cmdline, uint32_t id)
{
	uint64_t b = cmdline_num(cmdline, "vbase", 0xd0000000ull);
	uint64_t stride = cmdline_num(cmdline, "vstride", 0x1000);
	uint64_t n = cmdline_num(cmdline, "vcount", 9);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t a = b + i * stride;
		if (mmio_read32(a + R_MAGIC) == 0x74726976 && mmio_read32(a + R_DEVICE_ID) == id) {
			memset(d, 0, sizeof(*d));
			d->base = a;
			return 1;
		}
	}
	return 0;
}

static void wr64(const struct vdev *d, uint32_t off, uint64_t v)
{
	vdrv_wr(d, off, (uint32_t)v);
	vdrv_wr(d, off + 4, (uint32_t)(v >> 32));
}

int vdrv_init(struct vdev *d, uint64_t want, unsigned nqueues)
{
	if (nqueues > VDRV_MAX_QUEUES) {
		gprintf("virtio: %u queues wanted, driver has %u\n", nqueues, VDRV_MAX_QUEUES);
		return -1;
	}
	vdrv_wr(d, R_STATUS, 0);
	vdrv_wr(d, R_STATUS, ST_ACK);
	vdrv_wr(d, R_STATUS, ST_ACK | ST_DRIVER);
	vdrv_wr(d, R_DEV_FEATSEL, 1);
	uint64_t f = (uint64_t)vdrv_rd(d, R_DEV_FEAT) << 32;
	vdrv_wr(d, R_DEV_FEATSEL, 0);
	f |= vdrv_rd(d, R_DEV_FEAT);
	uint64_t use = f & (want | VIRTIO_F_V1);
	if (!(use & VIRTIO_F_V1)) {
		gprintf("virtio: device features 0x%lx lack VERSION_1\n", f);
		return -1;
	}
	vdrv_wr(d, R_DRV_FEATSEL, 0);
	vdrv_wr(d, R_DRV_FEAT, (uint32_t)use);
	vdrv_wr(d, R_DRV_FEATSEL, 1);
	vdrv_wr(d, R_DRV_FEAT, (uint32_t)(use >> 32));
	vdrv_wr(d, R_STATUS, ST_ACK | ST_DRIVER | ST_FEAT_OK);
	if (!(vdrv_rd(d, R_STATUS) & ST_FEAT_OK)) {
		gputs("virtio: FEATURES_OK refused\n");
		return -1;
	}
	d->features = use;
	d->nqueues = nqueues;
	for (unsigned i = 0; i < nqueues; i++) {
		struct vqueue *q = &d->q[i];
		q->desc = ring_desc[i];
		q->avail = ring_avail[i];
		q->used = ring_used[i];
		q->avail_idx = q->used_seen = 0;
		memset(q->desc, 0, sizeof(ring_desc[i]));
		memset((void *)q->avail, 0, sizeof(ring_avail[i]));
		memset((void *)q->used, 0, sizeof(ring_used[i]));
		vdrv_wr(d, R_QSEL, i);
		if (vdrv_rd(d, R_QMAX) < VDRV_QS) {
			gprintf("virtio: queue %u max %u < %u\n", i, vdrv_rd(d, R_QMAX), VDRV_QS);
			return -1;
		}
		vdrv_wr(d, R_QNUM, VDRV_QS);
		wr64(d, R_DESC, (uintptr_t)q->desc);
		wr64(d, R_AVAIL, (uintptr_t)q->avail);
		wr64(d, R_USED, (uintptr_t)q->used);
		vdrv_wr(d, R_QREADY, 1);
	}
	vdrv_wr(d, R_STATUS, ST_ACK | ST_DRIVER | ST_FEAT_OK | ST_DRV_OK);
	return (vdrv_rd(d, R_STATUS) & ST_NEED_RST) ? -1 : 0;
}

void vdrv_publish(struct vdev *d, unsigned qi, uint16_t head)
{
	struct vqueue *q = &d->q[qi];
	q->avail[2 + q->avail_idx % VDRV_QS] = head;
	vdrv_barrier();
	q->avail[1] = ++q->avail_idx;
	vdrv_barrier();
}

void vdrv_kick(struct vdev *d, unsigned q)
{
	vdrv_wr(d, R_NOTIFY, q);
}

int vdrv_poll_used(struct vdev *d, unsigned qi, uint32_t *id, uint32_t *len)
{
	struct vqueue *q = &d->q[qi];
	uint16_t idx = ((volatile uint16_t *)q->used)[1];
	if (idx == q->used_seen)
		return 0;
	vdrv_barrier();
	uint32_t slot = q->used_seen % VDRV_QS;
	q->used_seen++;
	if (id)
		*id = q->used[1 + 2 * slot];
	if (len)
		*len = q->used[2 + 2 * slot];
	return 1;
}

int64_t vdrv_wait_used(struct vdev *d, unsigned q, uint32_t *id, uint64_t spins)
{
	if (!spins)
		spins = 4000000000ull;
	for (uint64_t i = 0; i < spins; i++) {
		uint32_t len;
		if (vdrv_poll_used(d, q, id, &len))
			return len;
		if (i && (i & 0xfffff) == 0 && (vdrv_rd(d, R_STATUS) & ST_NEED_RST))
			return -1;
		cpu_relax();
	}
	return -1;
}
