/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/virtio/balloon.h"

#include "devices/virtio/ratelimit.h"

#include <string.h>
#include <sys/mman.h>

#define Q_INFLATE 0
#define Q_DEFLATE 1
#define Q_STATS   2
#define PAGE      4096ULL

static int inflate(void *dev, struct vq_chain *c)
{
	struct virtio_balloon *b = dev;
	if (c->out_len % 4)
		return -1;
	for (uint32_t off = 0; off < c->out_len; off += 4) {
		uint32_t pfn;
		vq_copy_from(c, off, &pfn, 4);
		uint8_t *p = gm_ptr(b->mem, (uint64_t)pfn * PAGE, PAGE);
		if (!p) {
			b->bad_pfns++; /* not RAM: ignored, as a real balloon would */
			continue;
		}
		madvise(p, PAGE, MADV_DONTNEED);
		gm_note_write(b->mem, (uint64_t)pfn * PAGE, PAGE); /* now reads as zeros */
		b->inflated++;
	}
	return 0;
}

static int deflate(void *dev, struct vq_chain *c)
{
	struct virtio_balloon *b = dev;
	if (c->out_len % 4)
		return -1;
	b->deflated += c->out_len / 4; /* the pages come back when touched */
	return 0;
}

static void process(void *dev, struct virtio_mmio *t, unsigned q)
{
	struct virtio_balloon *b = dev;
	if (q == Q_INFLATE) {
		virtio_queue_run(t, q, inflate, dev);
		return;
	}
	if (q == Q_DEFLATE) {
		virtio_queue_run(t, q, deflate, dev);
		return;
	}
	/* stats: read the buffer, keep it until the host wants fresh numbers */
	struct vq_chain *c = &t->chain;
	int r;
	while ((r = vq_pop(&t->q[Q_STATS], c)) > 0) {
		if (b->stats_head >= 0) /* a second buffer: return the old one */
			vq_push(&t->q[Q_STATS], (uint16_t)b->stats_head, 0);
		for (uint32_t off = 0; off + 10 <= c->out_len; off += 10) {
			uint8_t s[10];
			vq_copy_from(c, off, s, 10);
			uint16_t tag;
			uint64_t val;
			memcpy(&tag, s, 2);
			memcpy(&val, s + 2, 8);
			if (tag < BALLOON_NSTATS) {
				b->stats[tag] = val;
				b->stats_seen |= 1u << tag;
			}
		}
		b->stats_head = c->head;
	}
	if (r < 0)
		virtio_mmio_fail(t, vq_error_name(t->q[Q_STATS].last_error));
}

void virtio_balloon_request_stats(struct virtio_balloon *b, struct virtio_mmio *t)
{
	if (b->stats_head < 0)
		return;
	vq_push(&t->q[Q_STATS], (uint16_t)b->stats_head, 0);
	b->stats_head = -1;
}

/* No descriptors: only a timer, when statistics are asked for. */
static unsigned stats_timer(void *dev, struct pollfd *p, unsigned max, int *timeout_ms)
{
	(void)p, (void)max;
	struct virtio_balloon *b = dev;
	if (!b->stats_s)
		return 0;
	uint64_t now = rl_now_ns();
	if (!b->next_stats_ns)
		b->next_stats_ns = now + b->stats_s * 1000000000ULL;
	uint64_t ms = b->next_stats_ns <= now ? 0 : (b->next_stats_ns - now + 999999) / 1000000;
	if (*timeout_ms < 0 || ms < (uint64_t)*timeout_ms)
		*timeout_ms = (int)ms;
	return 0;
}

static void stats_tick(void *dev, struct virtio_mmio *t, const struct pollfd *p, unsigned n)
{
	(void)p, (void)n;
	struct virtio_balloon *b = dev;
	uint64_t now = rl_now_ns();
	if (!b->stats_s || !b->next_stats_ns || now < b->next_stats_ns)
		return;
	b->next_stats_ns = now + b->stats_s * 1000000000ULL;
	if (virtio_mmio_running(t))
		virtio_balloon_request_stats(b, t);
}

void virtio_balloon_set_stats_interval(struct virtio_balloon *b, uint32_t seconds)
{
	b->stats_s = seconds;
	b->next_stats_ns = 0; /* counted from the I/O thread's next wakeup */
}

void virtio_balloon_info(const struct virtio_balloon *b, struct virtio_balloon_info *out)
{
	out->target_pages = __atomic_load_n(&b->target_pages, __ATOMIC_RELAXED);
	out->actual_pages = __atomic_load_n(&b->actual_pages, __ATOMIC_RELAXED);
	out->stats_seen = b->stats_seen;
	memcpy(out->stats, b->stats, sizeof(out->stats));
}

static void config_read(void *dev, uint32_t off, uint8_t *data, unsigned size)
{
	struct virtio_balloon *b = dev;
	uint32_t cfg[2] = {__atomic_load_n(&b->target_pages, __ATOMIC_RELAXED), b->actual_pages};
	if (off < sizeof(cfg) && size <= sizeof(cfg) - off)
		memcpy(data, (uint8_t *)cfg + off, size);
}

static void config_write(void *dev, uint32_t off, const uint8_t *data, unsigned size)
{
	struct virtio_balloon *b = dev;
	if (off == 4 && size == 4)
		memcpy(&b->actual_pages, data, 4);
}

static void reset(void *dev)
{
	struct virtio_balloon *b = dev;
	b->stats_head = -1;
	b->actual_pages = 0;
}

const struct virtio_device_ops virtio_balloon_ops = {
    .name = "balloon",
    .device_id = VIRTIO_ID_BALLOON,
    .nqueues = 3,
    .queue_max = 256,
    .features = (1ULL << VIRTIO_BALLOON_F_STATS_VQ) | (1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM),
    .config_read = config_read,
    .config_write = config_write,
    .process = process,
    .reset = reset,
    .backend_fds = stats_timer,
    .backend_event = stats_tick,
};

static uint32_t pages_of(uint64_t bytes)
{
	uint64_t pages = bytes / PAGE;
	return pages > UINT32_MAX ? UINT32_MAX : (uint32_t)pages;
}

void virtio_balloon_set_target(struct virtio_balloon *b, struct virtio_mmio *t,
                               uint64_t target_bytes)
{
	__atomic_store_n(&b->target_pages, pages_of(target_bytes), __ATOMIC_RELAXED);
	virtio_mmio_config_changed(t);
}

void virtio_balloon_save(const struct virtio_balloon *b, struct virtio_balloon_state *st)
{
	memset(st, 0, sizeof(*st));
	st->target_pages = b->target_pages;
	st->actual_pages = b->actual_pages;
	st->stats_head = b->stats_head;
	st->stats_seen = b->stats_seen;
	memcpy(st->stats, b->stats, sizeof(st->stats));
}

int virtio_balloon_restore(struct virtio_balloon *b, const struct virtio_balloon_state *st,
                           uint16_t stats_queue_size, struct err *e)
{
	if (st->stats_head < -1 || (st->stats_head >= 0 && st->stats_head >= stats_queue_size))
		return err_set(e, ERR_INPUT,
		               "virtio balloon: saved stats buffer %d outside its queue",
		               (int)st->stats_head);
	b->target_pages = st->target_pages;
	b->actual_pages = st->actual_pages;
	b->stats_head = st->stats_head;
	b->stats_seen = st->stats_seen;
	memcpy(b->stats, st->stats, sizeof(b->stats));
	return 0;
}

void virtio_balloon_init(struct virtio_balloon *b, const struct guest_mem *mem,
                         uint64_t target_bytes)
{
	memset(b, 0, sizeof(*b));
	b->mem = mem;
	b->stats_head = -1;
	b->target_pages = pages_of(target_bytes);
}
