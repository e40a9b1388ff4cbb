/* SPDX-License-Identifier: Apache-2.0 */
/* The virtio-mmio transport through its register interface, without KVM:
 * identification, feature negotiation, queue setup, kicks served by the I/O
 * thread, NEEDS_RESET for bad guests and recovery by reset, save/restore;
 * and the virtio-blk model on a temporary raw file. */
#include "vqtest.h"

#include "devices/virtio/balloon.h"
#include "devices/virtio/blk.h"
#include "devices/virtio/mmio.h"
#include "devices/virtio/rng.h"
#include "disk/disk.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static struct virtio_mmio t;
static int irqs;

static void count_irq(void *ctx)
{
	(void)ctx;
	__atomic_add_fetch(&irqs, 1, __ATOMIC_SEQ_CST);
}

static uint32_t rd(uint64_t off)
{
	uint8_t d[4];
	pthread_mutex_lock(&t.lock);
	virtio_mmio_ops.read(&t, off, d, 4);
	pthread_mutex_unlock(&t.lock);
	uint32_t v;
	memcpy(&v, d, 4);
	return v;
}

static void wr(uint64_t off, uint32_t v)
{
	pthread_mutex_lock(&t.lock);
	virtio_mmio_ops.write(&t, off, (uint8_t *)&v, 4);
	pthread_mutex_unlock(&t.lock);
}

/* Driver side of device setup; returns the status read back. */
static uint32_t setup(uint64_t features, uint16_t qsize)
{
	wr(0x70, 0);
	wr(0x70, 1);
	wr(0x70, 3);
	wr(0x24, 0);
	wr(0x20, (uint32_t)features);
	wr(0x24, 1);
	wr(0x20, (uint32_t)(features >> 32));
	wr(0x70, 0xb);
	if (!(rd(0x70) & 8))
		return rd(0x70);
	wr(0x30, 0);
	wr(0x38, qsize);
	wr(0x80, DESC_GPA);
	wr(0x84, 0);
	wr(0x90, AVAIL_GPA);
	wr(0x94, 0);
	wr(0xa0, USED_GPA);
	wr(0xa4, 0);
	wr(0x44, 1);
	wr(0x70, 0xf);
	return rd(0x70);
}

static int wait_used(struct fake *f, uint16_t want)
{
	for (int i = 0; i < 2000; i++) {
		if (used_idx(f) == want)
			return 1;
		if (rd(0x70) & 0x40)
			return 0;
		usleep(1000);
	}
	return 0;
}

static void rng_device(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 8);
	struct virtio_rng rng = {0};
	struct err e = {0};
	assert_int_equal(virtio_mmio_init(&t, &virtio_rng_ops, &rng, &f.gm, &e), 0);
	virtio_mmio_set_irq(&t, (struct virtio_irq){count_irq, NULL});
	assert_int_equal(virtio_mmio_start(&t, &e), 0);
	assert_int_equal(rd(0x000), 0x74726976);
	assert_int_equal(rd(0x004), 2);
	assert_int_equal(rd(0x008), 4);
	wr(0x14, 1);
	assert_true(rd(0x10) & 1); /* VERSION_1 */
	/* 8- and 16-bit register accesses are ignored / read as 0 */
	uint8_t b[2] = {0xff, 0xff};
	virtio_mmio_ops.read(&t, 0, b, 2);
	assert_int_equal(b[0] | b[1], 0);
	/* a feature that was not offered: no FEATURES_OK */
	assert_false(setup((1ULL << 32) | (1ULL << 40), 8) & 8);
	/* no VERSION_1: no FEATURES_OK */
	assert_false(setup(0, 8) & 8);
	uint32_t st = setup((1ULL << 32) | (1ULL << 29) | (1ULL << 28), 8);
	assert_int_equal(st, 0xf);
	assert_int_equal(rd(0x44), 1);
	/* one request: 32 random bytes */
	memset(f.ram + BUF_GPA, 0, 64);
	set_desc(&f, DESC_GPA, 0, BUF_GPA, 32, VRING_DESC_F_WRITE, 0);
	offer(&f, 0);
	wr(0x50, 0);
	assert_true(wait_used(&f, 1));
	uint32_t len;
	memcpy(&len, f.ram + USED_GPA + 8, 4);
	assert_int_equal(len, 32);
	int nonzero = 0;
	for (int i = 0; i < 32; i++)
		nonzero |= f.ram[BUF_GPA + i];
	assert_true(nonzero);
	assert_int_equal(f.ram[BUF_GPA + 40], 0);
	assert_true(rd(0x60) & 1); /* used-buffer interrupt pending */
	assert_true(__atomic_load_n(&irqs, __ATOMIC_SEQ_CST) >= 1);
	wr(0x64, 1);
	assert_int_equal(rd(0x60) & 1, 0);

	/* save, then a hostile chain: NEEDS_RESET and a config interrupt */
	struct virtio_mmio_state saved;
	virtio_mmio_save(&t, &saved);
	assert_int_equal(saved.q[0].used_idx, 1);
	set_desc(&f, DESC_GPA, 1, 0x7f0000000ULL, 32, VRING_DESC_F_WRITE, 0);
	offer(&f, 1);
	wr(0x50, 0);
	for (int i = 0; i < 2000 && !(rd(0x70) & 0x40); i++)
		usleep(1000);
	assert_true(rd(0x70) & 0x40);
	assert_true(rd(0x60) & 2);
	/* further kicks do nothing */
	set_desc(&f, DESC_GPA, 1, BUF_GPA, 32, VRING_DESC_F_WRITE, 0);
	wr(0x50, 0);
	usleep(20000);
	assert_int_equal(used_idx(&f), 1);
	/* reset clears it all */
	wr(0x70, 0);
	assert_int_equal(rd(0x70), 0);
	assert_int_equal(rd(0x60), 0);
	assert_int_equal(rd(0x44), 0);
	/* restore puts the queue back as saved; the next chain is served */
	assert_int_equal(virtio_mmio_restore(&t, &saved, &e), 0);
	assert_int_equal(rd(0x70), 0xf);
	assert_int_equal(rd(0x44), 1);
	wr(0x50, 0);
	assert_true(wait_used(&f, 2));
	/* a saved queue that does not fit this memory is refused */
	saved.q[0].desc = 0x7f0000000ULL;
	assert_int_equal(virtio_mmio_restore(&t, &saved, &e), -1);
	virtio_mmio_destroy(&t);
	fake_free(&f);
}

static void bad_queue_setup(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 8);
	struct virtio_rng rng = {0};
	struct err e = {0};
	assert_int_equal(virtio_mmio_init(&t, &virtio_rng_ops, &rng, &f.gm, &e), 0);
	/* queue size not a power of two */
	wr(0x70, 1);
	wr(0x70, 3);
	wr(0x30, 0);
	wr(0x38, 12);
	assert_true(rd(0x70) & 0x40);
	wr(0x70, 0);
	/* ring outside memory: enabling it fails and asks for a reset */
	wr(0x70, 3);
	wr(0x30, 0);
	wr(0x38, 8);
	wr(0x80, 0xf0000000);
	wr(0x44, 1);
	assert_int_equal(rd(0x44), 0);
	assert_true(rd(0x70) & 0x40);
	/* queue index beyond the device's queues */
	wr(0x70, 0);
	wr(0x30, 5);
	assert_int_equal(rd(0x34), 0);
	wr(0x44, 1);
	assert_int_equal(rd(0x44), 0);
	virtio_mmio_destroy(&t);
	fake_free(&f);
}

struct blk_req {
	uint32_t type, reserved;
	uint64_t sector;
};

/* A 1 MiB raw image in a temporary directory, filled by `fill`, opened with
 * cache=none. */
struct raw_fixture {
	char *dir;
	char path[4200];
	uint8_t *img;
	struct disk *d;
};

static void raw_fixture_open(struct raw_fixture *r, uint8_t (*fill)(int))
{
	r->dir = test_tmpdir();
	snprintf(r->path, sizeof(r->path), "%s/d.raw", r->dir);
	r->img = malloc(1 << 20);
	for (int i = 0; i < (1 << 20); i++)
		r->img[i] = fill(i);
	assert_int_equal(write_file(r->path, r->img, 1 << 20), 0);
	struct disk_options o = {r->path, DISK_FMT_RAW, 0, DISK_CACHE_NONE};
	struct err e = {0};
	assert_int_equal(disk_open(&r->d, &o, &e), 0);
}

static void raw_fixture_close(struct raw_fixture *r)
{
	disk_close(r->d);
	free(r->img);
	unlink(r->path);
	rmdir(r->dir);
	free(r->dir);
}

static uint8_t fill_model(int i)
{
	return (uint8_t)(i * 5 + 1);
}

static uint8_t fill_async(int i)
{
	return (uint8_t)(i * 7 + i / 4096);
}

static void blk_model(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 16);
	struct raw_fixture r;
	raw_fixture_open(&r, fill_model);
	struct disk *d = r.d;
	uint8_t *img = r.img;
	struct err e = {0};
	static struct virtio_blk blk;
	virtio_blk_init(&blk, d, "serial-123");
	assert_int_equal(virtio_mmio_init(&t, &blk.ops, &blk, &f.gm, &e), 0);
	assert_int_equal(virtio_mmio_start(&t, &e), 0);
	assert_int_equal(setup((1ULL << 32) | (1ULL << 9) | (1ULL << 13) | (1ULL << 14), 16), 0xf);
	/* capacity from the configuration space */
	assert_int_equal(rd(0x100), 2048);
	uint16_t n = 0;
	/* write-zeroes on sectors 4..5 */
	struct blk_req h = {13, 0, 0};
	struct {
		uint64_t sector;
		uint32_t num, flags;
	} seg = {4, 2, 0};
	memcpy(f.ram + BUF_GPA, &h, 16);
	memcpy(f.ram + BUF_GPA + 16, &seg, 16);
	f.ram[BUF_GPA + 100] = 0xff;
	set_desc(&f, DESC_GPA, 0, BUF_GPA, 32, VRING_DESC_F_NEXT, 1);
	set_desc(&f, DESC_GPA, 1, BUF_GPA + 100, 1, VRING_DESC_F_WRITE, 0);
	offer(&f, 0);
	wr(0x50, 0);
	assert_true(wait_used(&f, ++n));
	assert_int_equal(f.ram[BUF_GPA + 100], 0);
	/* write-zeroes beyond the end: IOERR */
	seg.sector = 2047;
	memcpy(f.ram + BUF_GPA + 16, &seg, 16);
	offer(&f, 0);
	wr(0x50, 0);
	assert_true(wait_used(&f, ++n));
	assert_int_equal(f.ram[BUF_GPA + 100], 1);
	/* sector number that overflows when multiplied by 512: IOERR */
	h = (struct blk_req){0, 0, UINT64_MAX / 256};
	memcpy(f.ram + BUF_GPA, &h, 16);
	set_desc(&f, DESC_GPA, 0, BUF_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(&f, DESC_GPA, 1, BUF_GPA + 512, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	set_desc(&f, DESC_GPA, 2, BUF_GPA + 100, 1, VRING_DESC_F_WRITE, 0);
	offer(&f, 0);
	wr(0x50, 0);
	assert_true(wait_used(&f, ++n));
	assert_int_equal(f.ram[BUF_GPA + 100], 1);
	/* read sectors 3..4: the zeroes at 4 are on the disk */
	h = (struct blk_req){0, 0, 3};
	memcpy(f.ram + BUF_GPA, &h, 16);
	set_desc(&f, DESC_GPA, 1, BUF_GPA + 512, 1024, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	offer(&f, 0);
	wr(0x50, 0);
	assert_true(wait_used(&f, ++n));
	assert_int_equal(f.ram[BUF_GPA + 100], 0);
	assert_memory_equal(f.ram + BUF_GPA + 512, img + 3 * 512, 512);
	for (int i = 0; i < 512; i++)
		assert_int_equal(f.ram[BUF_GPA + 1024 + i], 0);
	/* GET_ID */
	h = (struct blk_req){8, 0, 0};
	memcpy(f.ram + BUF_GPA, &h, 16);
	set_desc(&f, DESC_GPA, 1, BUF_GPA + 512, 20, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	offer(&f, 0);
	wr(0x50, 0);
	assert_true(wait_used(&f, ++n));
	assert_string_equal((char *)f.ram + BUF_GPA + 512, "serial-123");
	assert_int_equal(blk.stats.zeroes, 1);
	assert_int_equal(blk.stats.reads, 1);
	/* a request without a status byte breaks the device */
	set_desc(&f, DESC_GPA, 0, BUF_GPA, 16, 0, 0);
	offer(&f, 0);
	wr(0x50, 0);
	for (int i = 0; i < 2000 && !(rd(0x70) & 0x40); i++)
		usleep(1000);
	assert_true(rd(0x70) & 0x40);
	virtio_mmio_destroy(&t);
	raw_fixture_close(&r);
	fake_free(&f);
}

/* virtio-blk on io_uring: a batch of reads completes out of order into the
 * right buffers; a snapshot of the transport first waits for requests in
 * flight and returns them, so the saved used index covers every request. The
 * I/O thread is not started: the test calls the device directly. */
static void blk_async_drain(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 64);
	struct raw_fixture r;
	raw_fixture_open(&r, fill_async);
	struct disk *d = r.d;
	uint8_t *img = r.img;
	struct err e = {0};
	static struct virtio_blk blk;
	virtio_blk_init(&blk, d, NULL);
	const char *why = NULL;
	int rc = virtio_blk_enable_async(&blk, &why, &e);
	if (rc == 0) {
		raw_fixture_close(&r);
		fake_free(&f);
		skip_because(why);
	}
	assert_int_equal(rc, 1);
	assert_int_equal(virtio_mmio_init(&t, &blk.ops, &blk, &f.gm, &e), 0);
	assert_int_equal(setup((1ULL << 32) | (1ULL << 9), 64), 0xf);
	/* 19 reads of 4 KiB (blocks in reverse order), one write, then a flush:
	 * 63 descriptors of the 64 */
	const unsigned nreq = 19;
	for (unsigned i = 0; i < nreq + 2; i++) {
		uint64_t hdr = BUF_GPA + 32 * i, st = BUF_GPA + 0x1000 + i;
		uint64_t buf = BUF_GPA + 0x2000 + 4096 * (uint64_t)i;
		uint32_t type = i < nreq ? 0 : i == nreq ? 1 : 4;
		struct blk_req h = {type, 0, 8 * (uint64_t)(nreq - 1 - i)};
		if (i == nreq)
			h.sector = 200 * 8;
		memcpy(f.ram + hdr, &h, 16);
		f.ram[st] = 0xff;
		unsigned dsc = 3 * i;
		if (type == 4) {
			set_desc(&f, DESC_GPA, dsc, hdr, 16, VRING_DESC_F_NEXT,
			         (uint16_t)(dsc + 1));
			set_desc(&f, DESC_GPA, dsc + 1, st, 1, VRING_DESC_F_WRITE, 0);
		} else {
			memset(f.ram + buf, type == 1 ? 0x5a : 0, 4096);
			set_desc(&f, DESC_GPA, dsc, hdr, 16, VRING_DESC_F_NEXT,
			         (uint16_t)(dsc + 1));
			set_desc(&f, DESC_GPA, dsc + 1, buf, 4096,
			         VRING_DESC_F_NEXT | (type == 0 ? VRING_DESC_F_WRITE : 0),
			         (uint16_t)(dsc + 2));
			set_desc(&f, DESC_GPA, dsc + 2, st, 1, VRING_DESC_F_WRITE, 0);
		}
		offer(&f, (uint16_t)dsc);
	}
	pthread_mutex_lock(&t.qlock);
	blk.ops.process(&blk, &t, 0);
	pthread_mutex_unlock(&t.qlock);
	uint16_t before = used_idx(&f);
	struct virtio_mmio_state saved;
	virtio_mmio_save(&t, &saved);
	test_measured("%u of %u requests still in flight when the snapshot began",
	              nreq + 2 - before, nreq + 2);
	assert_int_equal(used_idx(&f), nreq + 2);
	assert_int_equal(saved.q[0].used_idx, nreq + 2);
	assert_int_equal(saved.q[0].last_avail, nreq + 2);
	for (unsigned i = 0; i < nreq + 2; i++)
		assert_int_equal(f.ram[BUF_GPA + 0x1000 + i], 0);
	for (unsigned i = 0; i < nreq; i++)
		assert_memory_equal(f.ram + BUF_GPA + 0x2000 + 4096 * i,
		                    img + 4096 * (nreq - 1 - i), 4096);
	/* used lengths: data + status for reads, status only for write and flush */
	for (unsigned k = 0; k < nreq + 2; k++) {
		uint32_t id, len;
		memcpy(&id, f.ram + USED_GPA + 4 + 8 * k, 4);
		memcpy(&len, f.ram + USED_GPA + 8 + 8 * k, 4);
		assert_int_equal(len, id / 3 < nreq ? 4097 : 1);
	}
	assert_int_equal(blk.stats.reads, nreq);
	assert_int_equal(blk.stats.writes, 1);
	assert_int_equal(blk.stats.flushes, 1);
	virtio_mmio_destroy(&t);
	virtio_blk_destroy(&blk);
	size_t len;
	uint8_t *after = (uint8_t *)read_file(r.path, &len);
	assert_int_equal(len, 1 << 20);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(after[200 * 4096 + i], 0x5a);
	free(after);
	raw_fixture_close(&r);
	fake_free(&f);
}

/* Balloon: a target changed while the driver runs shows in the configuration
 * with a new generation and a configuration interrupt; the device state
 * survives save and restore, and a held stats buffer outside the restored
 * queue is refused. */
static void balloon_target_and_state(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 8);
	static struct virtio_balloon b;
	virtio_balloon_init(&b, &f.gm, 1 << 20);
	struct err e = {0};
	assert_int_equal(virtio_mmio_init(&t, &virtio_balloon_ops, &b, &f.gm, &e), 0);
	virtio_mmio_set_irq(&t, (struct virtio_irq){count_irq, NULL});
	assert_int_equal(rd(0x100), 256); /* num_pages */
	assert_int_equal(setup(1ULL << 32, 8), 0xf);
	uint32_t gen = rd(0xfc);
	wr(0x64, 3);
	virtio_balloon_set_target(&b, &t, 8u << 20);
	assert_int_equal(rd(0x100), 2048);
	assert_int_not_equal(rd(0xfc), gen);
	assert_true(rd(0x60) & 2); /* configuration-change interrupt */
	wr(0x104, 1000);           /* the driver reports what it holds */
	b.stats[4] = 12345;
	b.stats_seen = 1u << 4;
	b.stats_head = 3;
	struct virtio_balloon_state st;
	virtio_balloon_save(&b, &st);
	static struct virtio_balloon b2;
	virtio_balloon_init(&b2, &f.gm, 0);
	assert_int_equal(virtio_balloon_restore(&b2, &st, 8, &e), 0);
	assert_int_equal(b2.target_pages, 2048);
	assert_int_equal(b2.actual_pages, 1000);
	assert_int_equal(b2.stats[4], 12345);
	assert_int_equal(b2.stats_head, 3);
	st.stats_head = 8;
	assert_int_equal(virtio_balloon_restore(&b2, &st, 8, &e), -1);
	assert_non_null(strstr(e.msg, "stats buffer 8"));
	virtio_mmio_destroy(&t);
	fake_free(&f);
}

/* Balloon: a feature the instance withholds is neither offered nor
 * accepted; with a statistics interval the I/O thread's timer asks for the
 * interval and, once due, gives the held stats buffer back to the driver
 * (only while the device runs). */
static void balloon_features_and_stats_timer(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 8);
	static struct virtio_balloon b;
	virtio_balloon_init(&b, &f.gm, 0);
	struct err e = {0};
	assert_int_equal(virtio_mmio_init(&t, &virtio_balloon_ops, &b, &f.gm, &e), 0);
	wr(0x14, 0);
	assert_int_equal(rd(0x10) & 6, 6); /* stats and deflate-on-OOM offered */
	t.features_withheld = 1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
	assert_int_equal(rd(0x10) & 6, 2);
	assert_false(setup((1ULL << 32) | 4, 8) & 8); /* FEATURES_OK refused */
	const struct virtio_device_ops *ops = &virtio_balloon_ops;
	int timeout = -1;
	assert_int_equal(ops->backend_fds(&b, NULL, 0, &timeout), 0);
	assert_int_equal(timeout, -1); /* no interval: no timer */
	virtio_balloon_set_stats_interval(&b, 2);
	assert_int_equal(ops->backend_fds(&b, NULL, 0, &timeout), 0);
	assert_true(timeout > 1000 && timeout <= 2000);
	b.stats_head = 3;
	b.next_stats_ns = 1; /* due */
	ops->backend_event(&b, &t, NULL, 0);
	assert_int_equal(b.stats_head, 3); /* not running: kept */
	assert_true(setup((1ULL << 32) | 2, 8) & 4);
	wr(0x30, 2); /* the stats queue, on the same rings as queue 0 */
	wr(0x38, 8);
	wr(0x80, DESC_GPA);
	wr(0x90, AVAIL_GPA);
	wr(0xa0, USED_GPA);
	wr(0x44, 1);
	pthread_mutex_lock(&t.qlock); /* as the I/O thread calls it */
	b.stats_head = 3;             /* the driver's buffer, held since */
	b.next_stats_ns = 1;
	ops->backend_event(&b, &t, NULL, 0);
	pthread_mutex_unlock(&t.qlock);
	assert_int_equal(b.stats_head, -1);
	assert_int_equal(used_idx(&f), 1);
	assert_true(b.next_stats_ns > 1); /* the next one is two seconds on */
	virtio_mmio_destroy(&t);
	fake_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rng_device),
	    cmocka_unit_test(bad_queue_setup),
	    cmocka_unit_test(blk_model),
	    cmocka_unit_test(blk_async_drain),
	    cmocka_unit_test(balloon_target_and_state),
	    cmocka_unit_test(balloon_features_and_stats_timer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
