/* SPDX-License-Identifier: Apache-2.0 */
/* 8254 PIT: modes 0/2/3, latches, read-back, port 0x61 as Linux's
 * calibration uses it, channel 0's IRQ, state. */
#include "common/testutil.h"
#include "devices/x86/clock.h"
#include "devices/x86/pit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct irqlog {
	int level, rises;
	int64_t first_ns;
};

static void on_irq(void *ctx, unsigned irq, int level)
{
	struct irqlog *g = ctx;
	assert_int_equal(irq, 0);
	if (level && !__atomic_load_n(&g->level, __ATOMIC_SEQ_CST)) {
		if (!__atomic_load_n(&g->rises, __ATOMIC_SEQ_CST))
			__atomic_store_n(&g->first_ns, x86_clock_host_ns(), __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&g->rises, 1, __ATOMIC_SEQ_CST);
	}
	__atomic_store_n(&g->level, level, __ATOMIC_SEQ_CST);
}

struct rig {
	struct dev_timers t;
	struct pit p;
	struct irqlog log;
};

static struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct err e;
	assert_int_equal(dev_timers_init(&r->t, &e), 0);
	assert_int_equal(dev_timers_start(&r->t, &e), 0);
	struct irq_line l = {on_irq, &r->log, 0};
	pit_init(&r->p, &l, &r->t);
	return r;
}

static void rig_free(struct rig *r)
{
	dev_timers_stop(&r->t);
	pit_destroy(&r->p);
	dev_timers_destroy(&r->t);
	free(r);
}

static void out8(struct pit *p, uint16_t port, uint8_t v)
{
	if (port == 0x61)
		pit_speaker_ops.write(p, 0, &v, 1);
	else
		pit_ops.write(p, port - 0x40, &v, 1);
}

static uint8_t in8(struct pit *p, uint16_t port)
{
	uint8_t v;
	if (port == 0x61)
		pit_speaker_ops.read(p, 0, &v, 1);
	else
		pit_ops.read(p, port - 0x40, &v, 1);
	return v;
}

/* PIT ticks in `ns` (upper bound, rounded up). */
static unsigned ticks(int64_t ns)
{
	return (unsigned)(ns * PIT_HZ / 1000000000 + 1);
}

static unsigned latch_read(struct pit *p, unsigned ch)
{
	out8(p, 0x43, (uint8_t)(ch << 6)); /* counter latch */
	unsigned lo = in8(p, 0x40 + ch);
	return lo | (unsigned)in8(p, 0x40 + ch) << 8;
}

/* arch/x86/kernel/tsc.c pit_calibrate_tsc(): gate high, mode 0 on
 * channel 2, poll port 0x61 bit 5 for the terminal count. */
static void test_mode0_port61_calibration(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct pit *p = &r->p;
	unsigned latch = PIT_HZ / 100; /* 10 ms */
	out8(p, 0x61, (in8(p, 0x61) & ~0x02) | 0x01);
	assert_int_equal(in8(p, 0x61) & 1, 1);
	out8(p, 0x43, 0xb0);
	out8(p, 0x42, latch & 0xff);
	out8(p, 0x42, latch >> 8);
	int64_t t0 = x86_clock_host_ns();
	unsigned c1 = latch_read(p, 2);
	int64_t t1 = x86_clock_host_ns();
	if (t1 - t0 < 5000000) { /* not preempted: still counting down */
		assert_int_equal(in8(p, 0x61) & 0x20, 0);
		assert_true(c1 <= latch && c1 >= latch - ticks(t1 - t0) - 2);
	}
	long polls = 0;
	while (!(in8(p, 0x61) & 0x20)) {
		polls++;
		assert_true(x86_clock_host_ns() - t0 < 1000000000);
	}
	int64_t took = x86_clock_host_ns() - t0;
	assert_true(took >= 9900000);
	assert_true(took < 1000000000);
	assert_true(polls > 0);
	/* the output stays high and the counter wraps */
	usleep(1000);
	assert_true(in8(p, 0x61) & 0x20);
	assert_true(latch_read(p, 2) > latch);
	/* the refresh bit toggles */
	int seen[2] = {0, 0};
	for (int i = 0; i < 20000 && !(seen[0] && seen[1]); i++)
		seen[(in8(p, 0x61) >> 4) & 1] = 1;
	assert_true(seen[0] && seen[1]);
	test_measured("pit mode 0, 10 ms: output high after %.2f ms", took / 1e6);
	rig_free(r);
}

/* Linux's quick_pit_calibrate(): mode 0, count 0xffff, reads MSB only. */
static void test_msb_only_reads(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct pit *p = &r->p;
	out8(p, 0x61, 0x01);
	out8(p, 0x43, 0xb0);
	out8(p, 0x42, 0xff);
	out8(p, 0x42, 0xff);
	int64_t t0 = x86_clock_host_ns();
	in8(p, 0x42); /* LSB, ignored */
	unsigned m1 = in8(p, 0x42);
	usleep(5000);
	int64_t t1 = x86_clock_host_ns();
	in8(p, 0x42);
	unsigned m2 = in8(p, 0x42);
	int64_t t2 = x86_clock_host_ns();
	if (t2 - t0 < 40000000) { /* no wrap-around in between */
		assert_true(m1 >= 0xff - ticks(t1 - t0) / 256 - 1);
		assert_true(m2 <= 0xff - (ticks(t1 - t0) - 2) / 256);
		assert_true(m2 + 1 >= 0xff - ticks(t2 - t0) / 256);
	}
	rig_free(r);
}

static void test_mode2_channel0_irq(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct pit *p = &r->p;
	unsigned latch = PIT_HZ / 200; /* 5 ms */
	out8(p, 0x43, 0x34);           /* channel 0, word, mode 2 */
	out8(p, 0x40, latch & 0xff);
	int64_t t0 = x86_clock_host_ns();
	out8(p, 0x40, latch >> 8);
	usleep(52000);
	int n = __atomic_load_n(&r->log.rises, __ATOMIC_SEQ_CST);
	int64_t el = x86_clock_host_ns() - t0;
	/* never more than one per period; missed periods are skipped, so a
	 * stalled host may see fewer */
	assert_true(n <= el / 5000000 + 1);
	assert_true(n >= 1 && n >= el / 5000000 / 2);
	assert_true(__atomic_load_n(&r->log.first_ns, __ATOMIC_SEQ_CST) - t0 >= 4900000);
	assert_int_equal(__atomic_load_n(&r->log.level, __ATOMIC_SEQ_CST), 0); /* pulses */
	unsigned c = latch_read(p, 0);
	assert_true(c >= 1 && c <= latch);
	/* a new control word stops it */
	out8(p, 0x43, 0x30);
	n = __atomic_load_n(&r->log.rises, __ATOMIC_SEQ_CST);
	usleep(15000);
	assert_int_equal(__atomic_load_n(&r->log.rises, __ATOMIC_SEQ_CST), n);
	test_measured("pit mode 2, 5 ms period: %d irqs in 52 ms", n);
	rig_free(r);
}

static void test_mode0_channel0_oneshot(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct pit *p = &r->p;
	out8(p, 0x43, 0x30);
	out8(p, 0x40, 0x9c);
	out8(p, 0x40, 0x2e); /* 11932: 10 ms */
	usleep(40000);
	assert_int_equal(__atomic_load_n(&r->log.rises, __ATOMIC_SEQ_CST), 1);
	rig_free(r);
}

static void test_mode3_square_wave(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct pit *p = &r->p;
	out8(p, 0x61, 0x01);
	out8(p, 0x43, 0xb6);   /* channel 2, word, mode 3 */
	unsigned latch = 2386; /* 2 ms */
	out8(p, 0x42, latch & 0xff);
	out8(p, 0x42, latch >> 8);
	int seen[2] = {0, 0}, toggles = 0, last = -1;
	int64_t t0 = x86_clock_host_ns();
	while (x86_clock_host_ns() - t0 < 10000000) {
		int o = (in8(p, 0x61) >> 5) & 1;
		seen[o] = 1;
		if (last >= 0 && o != last)
			toggles++;
		last = o;
		unsigned c = latch_read(p, 2);
		assert_true(c <= latch && c % 2 == 0);
	}
	assert_true(seen[0] && seen[1]);
	int64_t el = x86_clock_host_ns() - t0;
	assert_true(toggles >= 1 && toggles <= el / 1000000 + 2);
	/* gate low then high restarts the count */
	out8(p, 0x61, 0x00);
	usleep(1000);
	int64_t g0 = x86_clock_host_ns();
	out8(p, 0x61, 0x01);
	unsigned c = latch_read(p, 2);
	int64_t g1 = x86_clock_host_ns();
	if (g1 - g0 < 500000)
		assert_true(c + 2 * ticks(g1 - g0) + 2 >= latch);
	rig_free(r);
}

static void test_readback_and_latch(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct pit *p = &r->p;
	out8(p, 0x61, 0x01);
	out8(p, 0x43, 0xb4); /* channel 2, word, mode 2 */
	out8(p, 0x42, 0x00);
	out8(p, 0x42, 0x80);
	/* read-back: status and count of channel 2 */
	out8(p, 0x43, 0xc8);
	uint8_t st = in8(p, 0x42);
	assert_int_equal(st & 0x3f, (3 << 4) | (2 << 1));
	assert_true(st & 0x80); /* mode 2 output is high */
	unsigned c = in8(p, 0x42);
	c |= (unsigned)in8(p, 0x42) << 8;
	assert_true(c <= 0x8000 && c >= 1); /* mode 2 counts N..1 */
	/* the latch holds while time passes */
	out8(p, 0x43, 0x80);
	usleep(3000);
	unsigned lo = in8(p, 0x42);
	unsigned l = lo | (unsigned)in8(p, 0x42) << 8;
	assert_true(l != latch_read(p, 2));
	/* LSB-only access mode */
	out8(p, 0x43, 0x90);
	out8(p, 0x42, 0x40);
	assert_true(in8(p, 0x42) <= 0x40);
	/* control port reads are not meaningful */
	assert_int_equal(in8(p, 0x43), 0xff);
	rig_free(r);
}

static void test_state_roundtrip(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct pit *p = &r->p;
	out8(p, 0x61, 0x03);
	out8(p, 0x43, 0xb0);
	out8(p, 0x42, 0x34);
	out8(p, 0x42, 0x12);
	out8(p, 0x43, 0x34);
	out8(p, 0x40, 0x9c);
	out8(p, 0x40, 0x2e); /* channel 0: 10 ms periodic */
	struct kvm_pit_state2 s;
	pit_get_state(p, &s);
	assert_int_equal(s.channels[2].count, 0x1234);
	assert_int_equal(s.channels[2].mode, 0);
	assert_int_equal(s.channels[2].gate, 1);
	assert_int_equal(s.channels[0].mode, 2);
	assert_int_equal(s.channels[0].count, 11932);
	assert_true(s.flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON);
	out8(p, 0x43, 0x30); /* stop the source's channel 0 */
	struct pit q;
	struct irqlog log2 = {0};
	struct irq_line l = {on_irq, &log2, 0};
	pit_init(&q, &l, &r->t);
	pit_set_state(&q, &s);
	assert_int_equal(in8(&q, 0x61) & 3, 3);
	unsigned c = latch_read(&q, 2);
	assert_true(c <= 0x1234 && c > 0x1000);
	int64_t t0 = x86_clock_host_ns();
	usleep(35000);
	int n = __atomic_load_n(&log2.rises, __ATOMIC_SEQ_CST);
	int64_t el = x86_clock_host_ns() - t0;
	assert_true(n >= 1 && n <= el / 10000000 + 2);
	dev_timers_stop(&r->t);
	pit_destroy(&q);
	rig_free(r);
}

/* KVM's PIT starts with every channel unprogrammed (mode 0xff): so does
 * this one, and such a state, restored, raises no IRQ 0. */
static void test_unprogrammed_reset(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct kvm_pit_state2 s;
	pit_get_state(&r->p, &s);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(s.channels[i].mode, 0xff);
		assert_int_equal(s.channels[i].count, 0x10000);
		assert_int_equal(s.channels[i].rw_mode, 0);
		assert_int_equal(s.channels[i].gate, i != 2);
	}
	assert_int_equal(s.flags, 0);
	pit_set_state(&r->p, &s);
	usleep(70000); /* longer than a full 65536-tick count */
	assert_int_equal(__atomic_load_n(&r->log.rises, __ATOMIC_SEQ_CST), 0);
	rig_free(r);
}

static void test_hostile_ports(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	srand(5);
	for (int i = 0; i < 200000; i++) {
		uint8_t buf[8];
		for (unsigned k = 0; k < sizeof(buf); k++)
			buf[k] = (uint8_t)rand();
		uint64_t off = (uint64_t)(rand() % 6);
		unsigned size = (unsigned)(rand() % 9);
		const struct io_ops *ops = rand() % 4 ? &pit_ops : &pit_speaker_ops;
		/* no fast periodic channel 0 storms in the middle of this */
		if (ops == &pit_ops && off == 0 && size)
			buf[0] |= 0x10;
		if (rand() & 1)
			ops->read(&r->p, off, buf, size);
		else
			ops->write(&r->p, off, buf, size);
	}
	struct kvm_pit_state2 s;
	memset(&s, 0xff, sizeof(s));
	s.channels[0].count_load_time = INT64_MIN;
	s.channels[1].count_load_time = INT64_MAX;
	s.channels[2].count_load_time = x86_clock_host_ns() - 5;
	s.channels[0].mode = 2;
	s.channels[0].count = 1; /* clamped to the minimum period */
	pit_set_state(&r->p, &s);
	for (int i = 0; i < 1000; i++) {
		in8(&r->p, 0x40 + (i % 4));
		in8(&r->p, 0x61);
	}
	out8(&r->p, 0x43, 0x30); /* stop channel 0 */
	rig_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mode0_port61_calibration),
	    cmocka_unit_test(test_msb_only_reads),
	    cmocka_unit_test(test_mode2_channel0_irq),
	    cmocka_unit_test(test_mode0_channel0_oneshot),
	    cmocka_unit_test(test_mode3_square_wave),
	    cmocka_unit_test(test_readback_and_latch),
	    cmocka_unit_test(test_state_roundtrip),
	    cmocka_unit_test(test_unprogrammed_reset),
	    cmocka_unit_test(test_hostile_ports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
