/* SPDX-License-Identifier: Apache-2.0 */
/* Local APIC model: priorities, EOI, timer modes, IPIs, INIT/SIPI, state. */
#include "common/testutil.h"
#include "devices/x86/lapic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NCPU 4

struct fake_cpu {
	int notify, init, sipi, nmi;
	uint8_t sipi_vec;
};

static void cb_notify(void *c)
{
	__atomic_add_fetch(&((struct fake_cpu *)c)->notify, 1, __ATOMIC_SEQ_CST);
}
static void cb_init(void *c)
{
	((struct fake_cpu *)c)->init++;
}
static void cb_sipi(void *c, uint8_t v)
{
	((struct fake_cpu *)c)->sipi++;
	((struct fake_cpu *)c)->sipi_vec = v;
}
static void cb_nmi(void *c)
{
	((struct fake_cpu *)c)->nmi++;
}
static const struct lapic_cpu_ops ops = {cb_notify, cb_init, cb_sipi, cb_nmi};

struct rig {
	struct dev_timers timers;
	struct x86_clock clock;
	struct apic_bus bus;
	struct lapic l[NCPU];
	struct fake_cpu cpu[NCPU];
	int eoi_count, eoi_vec;
	int pic_acks;
};

static void rig_eoi(void *ctx, uint8_t v)
{
	struct rig *r = ctx;
	r->eoi_count++;
	r->eoi_vec = v;
}

static int rig_pic_ack(void *ctx)
{
	struct rig *r = ctx;
	r->pic_acks++;
	return 0x30;
}

static struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct err e;
	assert_int_equal(dev_timers_init(&r->timers, &e), 0);
	assert_int_equal(dev_timers_start(&r->timers, &e), 0);
	x86_clock_init(&r->clock, 2000000, 1000); /* 2 GHz */
	apic_bus_init(&r->bus);
	apic_bus_set_ioapic(&r->bus, rig_eoi, r);
	apic_bus_set_pic(&r->bus, rig_pic_ack, r);
	for (unsigned i = 0; i < NCPU; i++)
		lapic_init(&r->l[i], &r->bus, i, &r->timers, &r->clock, &ops, &r->cpu[i]);
	return r;
}

static void rig_free(struct rig *r)
{
	dev_timers_stop(&r->timers);
	for (unsigned i = 0; i < NCPU; i++)
		lapic_destroy(&r->l[i]);
	dev_timers_destroy(&r->timers);
	free(r);
}

static void w32(struct lapic *l, unsigned off, uint32_t v)
{
	lapic_mmio_write(l, off, (uint8_t *)&v, 4);
}

static uint32_t r32(struct lapic *l, unsigned off)
{
	uint32_t v;
	lapic_mmio_read(l, off, (uint8_t *)&v, 4);
	return v;
}

static void enable(struct lapic *l)
{
	w32(l, 0xf0, 0x1ff); /* SVR: enabled, spurious 0xff */
}

static void fixed_to(struct rig *r, unsigned cpu, uint8_t vec, int level)
{
	struct apic_msg m = {.vector = vec,
	                     .delivery = APIC_DM_FIXED,
	                     .dest = (uint8_t)cpu,
	                     .trigger = (uint8_t)level,
	                     .level = 1};
	apic_bus_deliver(&r->bus, &m, NULL);
}

static void test_reset_values(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	assert_int_equal(r32(&r->l[2], 0x20), 2u << 24);
	assert_int_equal(r32(&r->l[0], 0x30) & 0xff, 0x14);
	assert_int_equal((r32(&r->l[0], 0x30) >> 16) & 0xff, 6); /* 7 LVT entries */
	assert_int_equal(r32(&r->l[0], 0x30) & (1u << 24), 0);   /* no directed EOI */
	assert_int_equal(r32(&r->l[0], 0xf0), 0xff);
	assert_int_equal(r32(&r->l[0], 0xe0), 0xffffffffu);
	assert_int_equal(r32(&r->l[0], 0x350), 0x700); /* BSP: virtual wire */
	assert_int_equal(r32(&r->l[1], 0x350), 0x10000);
	uint64_t base;
	assert_int_equal(lapic_msr(&r->l[0], MSR_APIC_BASE, &base, 0), 0);
	assert_int_equal(base, 0xfee00900ull);
	assert_int_equal(lapic_msr(&r->l[1], MSR_APIC_BASE, &base, 0), 0);
	assert_int_equal(base, 0xfee00800ull);
	/* x2APIC cannot be enabled, its MSRs fault */
	base |= APIC_BASE_EXTD;
	assert_int_equal(lapic_msr(&r->l[1], MSR_APIC_BASE, &base, 1), -1);
	uint64_t v = 0;
	assert_int_equal(lapic_msr(&r->l[1], 0x802, &v, 0), -1);
	rig_free(r);
}

static void test_priority_and_eoi(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct lapic *l = &r->l[0];
	/* software-disabled: fixed interrupts are dropped */
	fixed_to(r, 0, 0x40, 0);
	assert_int_equal(lapic_ack(l), -1);
	enable(l);
	fixed_to(r, 0, 0x40, 0);
	fixed_to(r, 0, 0x61, 0);
	fixed_to(r, 0, 0x35, 0);
	assert_true(r->cpu[0].notify > 0);
	assert_true(lapic_pending(l));
	/* TPR 0x60 blocks classes <= 6 */
	w32(l, 0x80, 0x60);
	assert_int_equal(r32(l, 0xa0), 0x60);
	int before = r->cpu[0].notify;
	assert_int_equal(lapic_ack(l), -1);
	w32(l, 0x80, 0x50);
	assert_true(r->cpu[0].notify > before); /* lowering TPR makes 0x61 deliverable */
	assert_int_equal(lapic_ack(l), 0x61);
	assert_int_equal(r32(l, 0xa0), 0x60);              /* PPR = ISR class */
	assert_int_equal(r32(l, 0x100 + 3 * 16), 1u << 1); /* ISR bit 0x61 */
	/* 0x40 is pending but below the in-service class */
	assert_int_equal(lapic_ack(l), -1);
	/* a higher class preempts */
	fixed_to(r, 0, 0x90, 0);
	assert_int_equal(lapic_ack(l), 0x90);
	assert_int_equal(r32(l, 0xa0), 0x90);
	w32(l, 0xb0, 0); /* EOI 0x90 */
	assert_int_equal(r32(l, 0xa0), 0x60);
	w32(l, 0xb0, 0); /* EOI 0x61 */
	assert_int_equal(r32(l, 0xa0), 0x50);
	/* TPR 0x50 still blocks 0x40 and 0x35 */
	assert_int_equal(lapic_ack(l), -1);
	lapic_set_tpr(l, 0);
	assert_int_equal(lapic_get_tpr(l), 0);
	assert_int_equal(lapic_ack(l), 0x40);
	/* same class as in service: blocked until EOI */
	fixed_to(r, 0, 0x41, 0);
	assert_int_equal(lapic_ack(l), -1);
	w32(l, 0xb0, 0);
	assert_int_equal(lapic_ack(l), 0x41);
	w32(l, 0xb0, 0);
	assert_int_equal(lapic_ack(l), 0x35);
	w32(l, 0xb0, 0);
	assert_int_equal(lapic_ack(l), -1);
	assert_int_equal(r->eoi_count, 0); /* all edge: no EOI broadcast */
	assert_int_equal(r32(l, 0xa0), 0);
	rig_free(r);
}

static void test_level_eoi_broadcast(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct lapic *l = &r->l[1];
	enable(l);
	fixed_to(r, 1, 0x51, 1);
	assert_int_equal(r32(l, 0x180 + 2 * 16), 1u << 17); /* TMR */
	assert_int_equal(lapic_ack(l), 0x51);
	w32(l, 0xb0, 0);
	assert_int_equal(r->eoi_count, 1);
	assert_int_equal(r->eoi_vec, 0x51);
	rig_free(r);
}

static void test_illegal_vector_esr(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct lapic *l = &r->l[0];
	enable(l);
	w32(l, 0x370, 0xe0); /* error LVT unmasked, vector 0xe0 */
	w32(l, 0x310, 0);
	w32(l, 0x300, 0x4005); /* fixed IPI vector 5: send illegal vector */
	w32(l, 0x280, 0);
	assert_int_equal(r32(l, 0x280), 0x20);
	assert_int_equal(lapic_ack(l), 0xe0);
	w32(l, 0x280, 0);
	assert_int_equal(r32(l, 0x280), 0);
	rig_free(r);
}

static int64_t wait_ack(struct lapic *l, int vec, int64_t limit_ns)
{
	int64_t t0 = x86_clock_host_ns();
	while (x86_clock_host_ns() - t0 < limit_ns) {
		int v = lapic_ack(l);
		if (v >= 0) {
			assert_int_equal(v, vec);
			w32(l, 0xb0, 0);
			return x86_clock_host_ns() - t0;
		}
		usleep(200);
	}
	return -1;
}

static void test_timer_oneshot(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct lapic *l = &r->l[0];
	enable(l);
	w32(l, 0x3e0, 0xb);  /* divide by 1 */
	w32(l, 0x320, 0xec); /* one-shot, vector 0xec */
	int64_t tw = x86_clock_host_ns();
	w32(l, 0x380, 20000000); /* 20 ms at 1 GHz */
	uint32_t c1 = r32(l, 0x390);
	int64_t t1 = x86_clock_host_ns();
	usleep(2000);
	uint32_t c2 = r32(l, 0x390);
	assert_true(c1 <= 20000000);
	assert_true((int64_t)c1 + (t1 - tw) >= 20000000); /* 1 count per ns */
	assert_true(c2 < c1 || c1 == 0);
	assert_true(wait_ack(l, 0xec, 1000000000) >= 0);
	int64_t t = x86_clock_host_ns() - tw;
	assert_true(t >= 20000000);
	assert_true(t < 1000000000);
	assert_int_equal(r32(l, 0x390), 0);
	usleep(30000); /* no second expiry */
	assert_int_equal(lapic_ack(l), -1);
	/* divide by 16: a count of 1e6 lasts 16 ms */
	w32(l, 0x3e0, 0x3);
	int64_t t0 = x86_clock_host_ns();
	w32(l, 0x380, 1000000);
	assert_true(wait_ack(l, 0xec, 1000000000) >= 0);
	assert_true(x86_clock_host_ns() - t0 >= 16000000);
	/* masked: counts to zero, no interrupt */
	w32(l, 0x320, 0x100ec);
	w32(l, 0x3e0, 0xb);
	w32(l, 0x380, 1000000);
	usleep(10000);
	assert_int_equal(r32(l, 0x390), 0);
	assert_int_equal(lapic_ack(l), -1);
	rig_free(r);
}

static void test_timer_periodic(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct lapic *l = &r->l[0];
	enable(l);
	w32(l, 0x3e0, 0xb);
	w32(l, 0x320, 0x200d0); /* periodic, vector 0xd0 */
	int64_t t0 = x86_clock_host_ns();
	w32(l, 0x380, 5000000); /* 5 ms */
	int n = 0;
	while (n < 6 && x86_clock_host_ns() - t0 < 2000000000) {
		if (wait_ack(l, 0xd0, 100000000) >= 0)
			n++;
	}
	int64_t took = x86_clock_host_ns() - t0;
	assert_int_equal(n, 6);
	assert_true(took >= 29000000); /* 6 periods of 5 ms */
	assert_true(r32(l, 0x390) <= 5000000);
	/* writing 0 stops it */
	w32(l, 0x380, 0);
	usleep(12000);
	while (lapic_ack(l) >= 0)
		w32(l, 0xb0, 0);
	usleep(12000);
	assert_int_equal(lapic_ack(l), -1);
	rig_free(r);
}

static void test_timer_tsc_deadline(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct lapic *l = &r->l[1];
	enable(l);
	uint64_t v = x86_clock_tsc(&r->clock) + 1000;
	/* ignored outside TSC-deadline mode */
	assert_int_equal(lapic_msr(l, MSR_TSC_DEADLINE, &v, 1), 0);
	uint64_t got = 1;
	lapic_msr(l, MSR_TSC_DEADLINE, &got, 0);
	assert_int_equal(got, 0);
	w32(l, 0x320, 0x400c1); /* TSC-deadline, vector 0xc1 */
	w32(l, 0x380, 1000);    /* initial count is ignored in this mode */
	assert_int_equal(r32(l, 0x380), 0);
	int64_t t0 = x86_clock_host_ns();
	v = x86_clock_tsc(&r->clock) + 2000000ull * 15; /* 15 ms at 2 GHz */
	assert_int_equal(lapic_msr(l, MSR_TSC_DEADLINE, &v, 1), 0);
	lapic_msr(l, MSR_TSC_DEADLINE, &got, 0);
	assert_int_equal(got, v);
	assert_true(wait_ack(l, 0xc1, 1000000000) >= 0);
	int64_t took = x86_clock_host_ns() - t0;
	assert_true(took >= 15000000);
	assert_true(took < 1000000000);
	lapic_msr(l, MSR_TSC_DEADLINE, &got, 0);
	assert_int_equal(got, 0); /* disarmed after firing */
	/* a deadline in the past fires at once; 0 disarms */
	v = 1;
	lapic_msr(l, MSR_TSC_DEADLINE, &v, 1);
	assert_true(wait_ack(l, 0xc1, 100000000) >= 0);
	v = x86_clock_tsc(&r->clock) + 2000000ull * 50;
	lapic_msr(l, MSR_TSC_DEADLINE, &v, 1);
	v = 0;
	lapic_msr(l, MSR_TSC_DEADLINE, &v, 1);
	usleep(60000);
	assert_int_equal(lapic_ack(l), -1);
	rig_free(r);
}

/* A guest whose TSC runs ahead of the clock (restored from a snapshot taken
 * after an hour of uptime): its deadline 15 ms ahead fires after 15 ms, not
 * an hour later, and one behind it fires at once. */
static void test_timer_tsc_deadline_offset(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct lapic *l = &r->l[1];
	enable(l);
	const uint64_t hour = 2000000000ull * 3600; /* at 2 GHz */
	lapic_set_tsc_offset(l, hour);
	w32(l, 0x320, 0x400c1); /* TSC-deadline, vector 0xc1 */
	int64_t t0 = x86_clock_host_ns();
	uint64_t v = x86_clock_tsc(&r->clock) + hour + 2000000ull * 15, got = 0;
	assert_int_equal(lapic_msr(l, MSR_TSC_DEADLINE, &v, 1), 0);
	lapic_msr(l, MSR_TSC_DEADLINE, &got, 0);
	assert_int_equal(got, v); /* the guest reads back its own value */
	assert_true(wait_ack(l, 0xc1, 1000000000) >= 0);
	int64_t took = x86_clock_host_ns() - t0;
	assert_true(took >= 15000000);
	assert_true(took < 1000000000);
	v = x86_clock_tsc(&r->clock) + hour / 2; /* in the guest's past */
	lapic_msr(l, MSR_TSC_DEADLINE, &v, 1);
	assert_true(wait_ack(l, 0xc1, 100000000) >= 0);
	rig_free(r);
}

static void ipi(struct lapic *l, uint8_t dest, uint32_t lo)
{
	w32(l, 0x310, (uint32_t)dest << 24);
	w32(l, 0x300, lo);
}

static unsigned acked_mask(struct rig *r, int vec)
{
	unsigned m = 0;
	for (unsigned i = 0; i < NCPU; i++) {
		int v = lapic_ack(&r->l[i]);
		if (v >= 0) {
			assert_int_equal(v, vec);
			w32(&r->l[i], 0xb0, 0);
			m |= 1u << i;
		}
	}
	return m;
}

static void test_ipi_destinations(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	for (unsigned i = 0; i < NCPU; i++)
		enable(&r->l[i]);
	/* physical */
	ipi(&r->l[0], 2, 0x4041);
	assert_int_equal(acked_mask(r, 0x41), 1u << 2);
	ipi(&r->l[0], 0xff, 0x4042); /* physical broadcast */
	assert_int_equal(acked_mask(r, 0x42), 0xf);
	/* shorthands */
	ipi(&r->l[1], 0, 0x44043); /* self */
	assert_int_equal(acked_mask(r, 0x43), 1u << 1);
	ipi(&r->l[1], 0, 0x84044); /* all including self */
	assert_int_equal(acked_mask(r, 0x44), 0xf);
	ipi(&r->l[1], 0, 0xc4045); /* all excluding self */
	assert_int_equal(acked_mask(r, 0x45), 0xd);
	/* logical flat: LDR bit per CPU */
	for (unsigned i = 0; i < NCPU; i++)
		w32(&r->l[i], 0xd0, (1u << i) << 24);
	ipi(&r->l[0], 0x0a, 0x4846); /* logical, CPUs 1 and 3 */
	assert_int_equal(acked_mask(r, 0x46), 0xa);
	/* logical cluster: cluster 1 holds CPUs 0,1, cluster 2 CPUs 2,3 */
	for (unsigned i = 0; i < NCPU; i++) {
		w32(&r->l[i], 0xe0, 0x0fffffff);
		w32(&r->l[i], 0xd0, ((1u + i / 2) << 28) | ((1u << (i % 2)) << 24));
	}
	ipi(&r->l[0], 0x23, 0x4847); /* cluster 2, members 0 and 1 */
	assert_int_equal(acked_mask(r, 0x47), 0xc);
	ipi(&r->l[0], 0x12, 0x4848); /* cluster 1, member 1 */
	assert_int_equal(acked_mask(r, 0x48), 0x2);
	/* lowest priority: the CPU with the lowest TPR gets it */
	for (unsigned i = 0; i < NCPU; i++) {
		w32(&r->l[i], 0xe0, 0xffffffff);
		w32(&r->l[i], 0xd0, 0x01000000);
		w32(&r->l[i], 0x80, i == 2 ? 0x10 : 0x30);
	}
	ipi(&r->l[0], 0x01, 0x4949); /* lowest priority, logical */
	for (unsigned i = 0; i < NCPU; i++)
		w32(&r->l[i], 0x80, 0);
	assert_int_equal(acked_mask(r, 0x49), 1u << 2);
	/* a software-disabled target drops fixed IPIs */
	w32(&r->l[3], 0xf0, 0xff);
	ipi(&r->l[0], 3, 0x404a);
	assert_int_equal(acked_mask(r, 0x4a), 0);
	rig_free(r);
}

static void test_init_sipi_nmi(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	enable(&r->l[0]);
	enable(&r->l[2]);
	w32(&r->l[2], 0x80, 0x20);
	/* Linux's wakeup: INIT assert, INIT de-assert, SIPI, SIPI */
	ipi(&r->l[0], 2, 0xc500);
	assert_int_equal(r->cpu[2].init, 1);
	assert_int_equal(r32(&r->l[2], 0x80), 0);    /* INIT reset the APIC */
	assert_int_equal(r32(&r->l[2], 0xf0), 0xff); /* software-disabled again */
	assert_int_equal(r32(&r->l[2], 0x20), 2u << 24);
	ipi(&r->l[0], 2, 0x8500);
	assert_int_equal(r->cpu[2].init, 1); /* de-assert does nothing */
	ipi(&r->l[0], 2, 0x0609);
	assert_int_equal(r->cpu[2].sipi, 1);
	assert_int_equal(r->cpu[2].sipi_vec, 0x09);
	assert_int_equal(r->cpu[1].sipi + r->cpu[3].sipi + r->cpu[0].sipi, 0);
	/* NMI to all but self */
	ipi(&r->l[0], 0, 0xc0400);
	assert_int_equal(r->cpu[0].nmi, 0);
	assert_int_equal(r->cpu[1].nmi + r->cpu[2].nmi + r->cpu[3].nmi, 3);
	/* LINT1 as NMI */
	w32(&r->l[0], 0x360, 0x400);
	lapic_set_lint(&r->l[0], 1, 1);
	lapic_set_lint(&r->l[0], 1, 0);
	assert_int_equal(r->cpu[0].nmi, 1);
	rig_free(r);
}

static void test_extint(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct lapic *l = &r->l[0];
	/* virtual wire at reset: the PIC's INTR reaches the BSP even while the
	 * APIC is software-disabled */
	int n0 = r->cpu[0].notify;
	apic_bus_pic_intr(&r->bus, 1);
	assert_true(r->cpu[0].notify > n0);
	assert_int_equal(lapic_ack(l), 0x30);
	assert_int_equal(r->pic_acks, 1);
	apic_bus_pic_intr(&r->bus, 0);
	assert_int_equal(lapic_ack(l), -1);
	/* masked LINT0 blocks it */
	enable(l);
	w32(l, 0x350, 0x10700);
	apic_bus_pic_intr(&r->bus, 1);
	assert_int_equal(lapic_ack(l), -1);
	/* unmasking while INTR is high makes it deliverable */
	w32(l, 0x350, 0x700);
	assert_int_equal(lapic_ack(l), 0x30);
	apic_bus_pic_intr(&r->bus, 0);
	rig_free(r);
}

static void test_state_roundtrip(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct lapic *a = &r->l[0], *b = &r->l[1];
	enable(a);
	w32(a, 0x80, 0x20);
	fixed_to(r, 0, 0x70, 1);
	fixed_to(r, 0, 0x33, 0);
	assert_int_equal(lapic_ack(a), 0x70);
	w32(a, 0xd0, 0x04000000);
	w32(a, 0x3e0, 0xb);
	w32(a, 0x320, 0xee);
	w32(a, 0x380, 400000000); /* 400 ms one-shot */
	usleep(5000);
	uint8_t page[LAPIC_PAGE_SIZE];
	lapic_get_state(a, page);
	uint32_t cnt;
	memcpy(&cnt, page + 0x390, 4);
	assert_true(cnt < 396000000 && cnt > 0);
	w32(a, 0x380, 0); /* stop a's timer */
	lapic_set_state(b, page);
	assert_int_equal(r32(b, 0x20), 0); /* the page carries the ID */
	assert_int_equal(r32(b, 0xd0), 0x04000000);
	assert_int_equal(r32(b, 0xa0), 0x70);
	assert_true(r32(b, 0x390) <= cnt);
	/* behaviour continues: EOI of the level vector broadcasts, then 0x33 */
	assert_int_equal(lapic_ack(b), -1);
	w32(b, 0xb0, 0);
	assert_int_equal(r->eoi_vec, 0x70);
	assert_int_equal(lapic_ack(b), 0x33); /* class 3 is above TPR 0x20 */
	rig_free(r);
}

static void test_hostile_mmio(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct lapic *l = &r->l[0];
	uint8_t buf[16];
	srand(7);
	for (int i = 0; i < 200000; i++) {
		uint64_t off = (uint64_t)rand() % 0x1100;
		if (i & 1)
			off = (uint64_t)rand() << 20 | (uint64_t)rand();
		unsigned size = 1u << (rand() % 4);
		if ((i & 255) == 0)
			size = (unsigned)(rand() % 16) + 1;
		for (unsigned k = 0; k < sizeof(buf); k++)
			buf[k] = (uint8_t)rand();
		if (rand() & 1) {
			lapic_mmio_read(l, off, buf, size);
		} else {
			/* aligned register writes most of the time */
			if (rand() % 4)
				off = (off & 0x3f0), size = 4;
			if (off == 0x300 && (buf[1] & 7) == APIC_DM_INIT)
				continue; /* an INIT to everyone is fine, but keep it short */
			lapic_mmio_write(l, off, buf, size);
		}
		if ((i & 15) == 0)
			while (lapic_ack(l) >= 0)
				w32(l, 0xb0, 0);
	}
	/* still functional */
	lapic_reset(l);
	w32(l, 0x20, 0); /* the random writes may have changed the ID */
	enable(l);
	fixed_to(r, 0, 0x80, 0);
	assert_int_equal(lapic_ack(l), 0x80);
	rig_free(r);
}

static void test_apic_base_disable(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct lapic *l = &r->l[0];
	enable(l);
	uint64_t base;
	lapic_msr(l, MSR_APIC_BASE, &base, 0);
	uint64_t off = base & ~APIC_BASE_ENABLE;
	assert_int_equal(lapic_msr(l, MSR_APIC_BASE, &off, 1), 0);
	/* reserved bits fault, the BSP bit is read-only */
	uint64_t bad = base | 1;
	assert_int_equal(lapic_msr(l, MSR_APIC_BASE, &bad, 1), -1);
	/* hardware-disabled: the page reads as nothing, writes are dropped,
	 * fixed interrupts are refused, the PIC reaches the CPU directly */
	assert_int_equal(r32(l, 0x30), 0xffffffffu);
	w32(l, 0x80, 0x70);
	fixed_to(r, 0, 0x50, 0);
	assert_int_equal(lapic_ack(l), -1);
	w32(l, 0x350, 0x10700);
	apic_bus_pic_intr(&r->bus, 1);
	assert_int_equal(lapic_ack(l), 0x30);
	apic_bus_pic_intr(&r->bus, 0);
	assert_int_equal(lapic_msr(l, MSR_APIC_BASE, &base, 1), 0);
	assert_int_equal(r32(l, 0x80), 0);
	uint64_t now;
	lapic_msr(l, MSR_APIC_BASE, &now, 0);
	assert_int_equal(now, base);
	rig_free(r);
}

static void test_hostile_state(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct lapic *l = &r->l[3];
	uint8_t page[LAPIC_PAGE_SIZE];
	srand(9);
	for (int i = 0; i < 2000; i++) {
		for (unsigned k = 0; k < sizeof(page); k++)
			page[k] = (uint8_t)rand();
		/* no periodic storms: one-shot or deadline mode */
		page[0x322] &= 0xfd;
		lapic_set_state(l, page);
		for (int k = 0; k < 8 && lapic_ack(l) >= 0; k++)
			w32(l, 0xb0, 0);
		r32(l, 0x390);
		uint64_t v = (uint64_t)rand() << 20;
		lapic_msr(l, MSR_TSC_DEADLINE, &v, 1);
		lapic_get_state(l, page);
	}
	lapic_reset(l);
	rig_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reset_values),
	    cmocka_unit_test(test_priority_and_eoi),
	    cmocka_unit_test(test_level_eoi_broadcast),
	    cmocka_unit_test(test_illegal_vector_esr),
	    cmocka_unit_test(test_timer_oneshot),
	    cmocka_unit_test(test_timer_periodic),
	    cmocka_unit_test(test_timer_tsc_deadline),
	    cmocka_unit_test(test_timer_tsc_deadline_offset),
	    cmocka_unit_test(test_ipi_destinations),
	    cmocka_unit_test(test_init_sipi_nmi),
	    cmocka_unit_test(test_extint),
	    cmocka_unit_test(test_state_roundtrip),
	    cmocka_unit_test(test_hostile_mmio),
	    cmocka_unit_test(test_apic_base_disable),
	    cmocka_unit_test(test_hostile_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
