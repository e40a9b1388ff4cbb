/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/virtio/queue.h"

#include <string.h>

#define VRING_AVAIL_F_NO_INTERRUPT 1

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static uint16_t ld16(const volatile uint8_t *p)
{
	return __atomic_load_n((const volatile uint16_t *)p, __ATOMIC_RELAXED);
}

static void st16(volatile uint8_t *p, uint16_t v)
{
	__atomic_store_n((volatile uint16_t *)p, v, __ATOMIC_RELAXED);
}

static void st32(volatile uint8_t *p, uint32_t v)
{
	__atomic_store_n((volatile uint32_t *)p, v, __ATOMIC_RELAXED);
}

void vq_init(struct vq *q, const struct guest_mem *mem)
{
	memset(q, 0, sizeof(*q));
	q->mem = mem;
	q->s.size = VQ_MAX_SIZE;
}

void vq_reset(struct vq *q)
{
	const struct guest_mem *mem = q->mem;
	vq_init(q, mem);
}

int vq_activate(struct vq *q)
{
	uint16_t n = q->s.size;
	q->s.ready = 0;
	if (n == 0 || n > VQ_MAX_SIZE || (n & (n - 1)) || (q->s.desc & 15) || (q->s.avail & 1) ||
	    (q->s.used & 3)) {
		q->last_error = VQ_E_RING;
		return -1;
	}
	q->desc_h = gm_ptr(q->mem, q->s.desc, 16ULL * n);
	q->avail_h = gm_ptr(q->mem, q->s.avail, 6ULL + 2ULL * n);
	q->used_h = gm_ptr(q->mem, q->s.used, 6ULL + 8ULL * n);
	if (!q->desc_h || !q->avail_h || !q->used_h) {
		q->last_error = VQ_E_RING;
		return -1;
	}
	q->s.ready = 1;
	return 0;
}

static int fail(struct vq *q, enum vq_error e)
{
	q->last_error = e;
	return -1;
}

static int walk(struct vq *q, uint16_t head, struct vq_chain *c)
{
	const volatile uint8_t *table = q->desc_h;
	unsigned tsize = q->s.size, idx = head, count = 0;
	int indirect = 0;
	uint64_t out = 0, in = 0;
	c->head = head;
	c->nout = c->nin = 0;
	for (;;) {
		if (idx >= tsize)
			return fail(q, VQ_E_NEXT);
		struct vring_desc d;
		/* one copy: the guest may change the descriptor while we look at it */
		memcpy(&d, (const void *)(table + 16ULL * idx), sizeof(d));
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (indirect || !q->s.indirect || (d.flags & VRING_DESC_F_NEXT))
				return fail(q, VQ_E_INDIRECT);
			if (d.len == 0 || d.len % 16 || d.len / 16 > VQ_MAX_SIZE)
				return fail(q, VQ_E_INDIRECT);
			table = gm_ptr(q->mem, d.addr, d.len);
			if (!table)
				return fail(q, VQ_E_RANGE);
			tsize = d.len / 16;
			idx = 0;
			indirect = 1;
			continue;
		}
		if (++count > q->s.size)
			return fail(q, VQ_E_TOO_LONG);
		if (d.len == 0)
			return fail(q, VQ_E_ZERO_LEN);
		void *p = gm_ptr(q->mem, d.addr, d.len);
		if (!p)
			return fail(q, VQ_E_RANGE);
		if (d.flags & VRING_DESC_F_WRITE) {
			/* the device writes here before the driver sees it again */
			gm_note_write(q->mem, d.addr, d.len);
			in += d.len;
			c->nin++;
		} else {
			if (c->nin)
				return fail(q, VQ_E_ORDER);
			out += d.len;
			c->nout++;
		}
		if (in > UINT32_MAX || out > UINT32_MAX)
			return fail(q, VQ_E_TOTAL);
		c->iov[count - 1] = (struct iovec){p, d.len};
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		idx = d.next;
	}
	c->out_len = (uint32_t)out;
	c->in_len = (uint32_t)in;
	return 1;
}

int vq_pop(struct vq *q, struct vq_chain *c)
{
	if (!q->s.ready)
		return 0;
	uint16_t n = q->s.size;
	uint16_t avail_idx = ld16(q->avail_h + 2);
	if (avail_idx == q->s.last_avail)
		return 0;
	if ((uint16_t)(avail_idx - q->s.last_avail) > n)
		return fail(q, VQ_E_AVAIL_IDX);
	/* the ring entry must be read after the index that published it */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	uint16_t head = ld16(q->avail_h + 4 + 2u * (q->s.last_avail % n));
	if (head >= n)
		return fail(q, VQ_E_HEAD);
	int r = walk(q, head, c);
	if (r < 0)
		return r;
	q->s.last_avail++;
	return 1;
}

int vq_has_avail(const struct vq *q)
{
	return q->s.ready && ld16(q->avail_h + 2) != q->s.last_avail;
}

void vq_unpop(struct vq *q)
{
	q->s.last_avail--;
}

/* Tell the memory's listener (the dirty-page log of a live migration) about
 * every buffer of chain `head` the device may have written, now that it has:
 * the note taken when the chain was popped can be collected before the data
 * lands. Done while the chain is still the device's (before it is used). */
static void note_chain_written(struct vq *q, uint16_t head)
{
	if (!q->mem->on_write || head >= q->s.size)
		return;
	struct vq_chain c;
	enum vq_error keep = q->last_error;
	(void)walk(q, head, &c); /* notes each device-writable descriptor */
	q->last_error = keep;
}

void vq_push(struct vq *q, uint16_t head, uint32_t written)
{
	if (!q->s.ready)
		return;
	note_chain_written(q, head);
	uint16_t slot = q->s.used_idx % q->s.size;
	volatile uint8_t *e = q->used_h + 4 + 8u * slot;
	st32(e, head);
	st32(e + 4, written);
	/* the element must be visible before the index that publishes it */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	q->s.used_idx++;
	st16(q->used_h + 2, q->s.used_idx);
	gm_note_write(q->mem, q->s.used + 4 + 8u * slot, 8);
	gm_note_write(q->mem, q->s.used + 2, 2);
}

int vq_should_notify(struct vq *q)
{
	if (!q->s.ready)
		return 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->s.event_idx)
		return !(ld16(q->avail_h) & VRING_AVAIL_F_NO_INTERRUPT);
	uint16_t event = ld16(q->avail_h + 4 + 2u * q->s.size);
	uint16_t old = q->s.signalled_used, new = q->s.used_idx;
	int valid = q->s.signalled_valid;
	q->s.signalled_used = new;
	q->s.signalled_valid = 1;
	if (!valid)
		return 1;
	/* the driver wants an interrupt once used_idx moves past `event` */
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

int vq_enable_kick(struct vq *q)
{
	if (!q->s.ready)
		return 0;
	if (q->s.event_idx) {
		st16(q->used_h + 4 + 8u * q->s.size, q->s.last_avail);
		gm_note_write(q->mem, q->s.used + 4 + 8u * q->s.size, 2);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ld16(q->avail_h + 2) != q->s.last_avail;
}

static size_t copy(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len,
                   int to_iov)
{
	size_t done = 0;
	for (unsigned i = 0; i < n && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t k = iov[i].iov_len - off;
		if (k > len - done)
			k = len - done;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + off, (const uint8_t *)buf + done, k);
		else
			memcpy((uint8_t *)buf + done, (const uint8_t *)iov[i].iov_base + off, k);
		done += k;
		off = 0;
	}
	return done;
}

size_t vq_copy_from(const struct vq_chain *c, size_t off, void *dst, size_t len)
{
	return copy(c->iov, c->nout, off, dst, len, 0);
}

size_t vq_copy_to(const struct vq_chain *c, size_t off, const void *src, size_t len)
{
	return copy(c->iov + c->nout, c->nin, off, (void *)src, len, 1);
}

const char *vq_error_name(enum vq_error e)
{
	static const char *const names[] = {
	    "ok",
	    "avail index more than a queue ahead",
	    "head index out of range",
	    "next index out of range",
	    "chain longer than the queue (or a loop)",
	    "buffer outside guest memory",
	    "zero-length buffer",
	    "readable buffer after a writable one",
	    "malformed indirect table",
	    "chain length overflows",
	    "ring not in guest memory or misaligned",
	};
	return (unsigned)e < sizeof(names) / sizeof(names[0]) ? names[e] : "unknown";
}
