/* SPDX-License-Identifier: Apache-2.0 */
/* I/O APIC model and the IRQ router: edge/level, Remote-IRR, EOI, masks. */
#include "common/testutil.h"
#include "devices/x86/ioapic.h"
#include "devices/x86/irq.h"

#include <stdlib.h>
#include <string.h>

#define NCPU 2

struct rig {
	struct dev_timers timers;
	struct x86_clock clock;
	struct apic_bus bus;
	struct lapic l[NCPU];
	struct ioapic io;
	int notify[NCPU];
};

static void cb_notify(void *c)
{
	(*(int *)c)++;
}
static const struct lapic_cpu_ops ops = {cb_notify, NULL, NULL, NULL};

static struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct err e;
	assert_int_equal(dev_timers_init(&r->timers, &e), 0);
	x86_clock_init(&r->clock, 1000000, 0);
	apic_bus_init(&r->bus);
	for (unsigned i = 0; i < NCPU; i++) {
		lapic_init(&r->l[i], &r->bus, i, &r->timers, &r->clock, &ops, &r->notify[i]);
		uint32_t svr = 0x1ff;
		lapic_mmio_write(&r->l[i], 0xf0, (uint8_t *)&svr, 4);
	}
	ioapic_init(&r->io, &r->bus, NCPU);
	apic_bus_set_ioapic(&r->bus, ioapic_eoi, &r->io);
	return r;
}

static void rig_free(struct rig *r)
{
	ioapic_destroy(&r->io);
	for (unsigned i = 0; i < NCPU; i++)
		lapic_destroy(&r->l[i]);
	dev_timers_destroy(&r->timers);
	free(r);
}

static void io_w(struct ioapic *io, uint32_t reg, uint32_t v)
{
	ioapic_mmio_write(io, 0, (uint8_t *)&reg, 4);
	ioapic_mmio_write(io, 0x10, (uint8_t *)&v, 4);
}

static uint32_t io_r(struct ioapic *io, uint32_t reg)
{
	uint32_t v;
	ioapic_mmio_write(io, 0, (uint8_t *)&reg, 4);
	ioapic_mmio_read(io, 0x10, (uint8_t *)&v, 4);
	return v;
}

static void route(struct ioapic *io, unsigned pin, uint32_t lo, uint8_t dest)
{
	io_w(io, 0x11 + 2 * pin, (uint32_t)dest << 24);
	io_w(io, 0x10 + 2 * pin, lo);
}

static void eoi(struct lapic *l)
{
	uint32_t z = 0;
	lapic_mmio_write(l, 0xb0, (uint8_t *)&z, 4);
}

static void test_registers(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	assert_int_equal(io_r(&r->io, 0), (uint32_t)NCPU << 24);
	assert_int_equal(io_r(&r->io, 1), 0x00170011);
	for (unsigned p = 0; p < IOAPIC_PINS; p++)
		assert_int_equal(io_r(&r->io, 0x10 + 2 * p), 0x10000);
	io_w(&r->io, 0, 0x0f000000);
	assert_int_equal(io_r(&r->io, 0), 0x0f000000);
	/* delivery status and Remote-IRR are read-only */
	io_w(&r->io, 0x10, 0x15031);
	assert_int_equal(io_r(&r->io, 0x10), 0x10031);
	uint32_t sel = 0;
	ioapic_mmio_read(&r->io, 0, (uint8_t *)&sel, 4);
	assert_int_equal(sel, 0x10);
	rig_free(r);
}

static void test_edge(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	route(&r->io, 4, 0x34, 1); /* edge, fixed, physical CPU 1 */
	ioapic_set_irq(&r->io, 4, 1);
	assert_true(r->notify[1] > 0);
	assert_int_equal(lapic_ack(&r->l[0]), -1);
	assert_int_equal(lapic_ack(&r->l[1]), 0x34);
	eoi(&r->l[1]);
	ioapic_set_irq(&r->io, 4, 1); /* no new edge */
	assert_int_equal(lapic_ack(&r->l[1]), -1);
	ioapic_set_irq(&r->io, 4, 0);
	ioapic_set_irq(&r->io, 4, 1);
	assert_int_equal(lapic_ack(&r->l[1]), 0x34);
	eoi(&r->l[1]);
	assert_int_equal(r->io.delivered, 2);
	rig_free(r);
}

static void test_level_remote_irr(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	route(&r->io, 10, 0x805a, 0); /* level, vector 0x5a, CPU 0 */
	ioapic_set_irq(&r->io, 10, 1);
	assert_true(io_r(&r->io, 0x10 + 20) & (1u << 14));
	assert_int_equal(lapic_ack(&r->l[0]), 0x5a);
	ioapic_set_irq(&r->io, 10, 1); /* still asserted: nothing new while Remote-IRR */
	assert_int_equal(r->io.delivered, 1);
	/* EOI with the line still high delivers again */
	eoi(&r->l[0]);
	assert_int_equal(r->io.delivered, 2);
	assert_true(io_r(&r->io, 0x10 + 20) & (1u << 14));
	assert_int_equal(lapic_ack(&r->l[0]), 0x5a);
	ioapic_set_irq(&r->io, 10, 0);
	eoi(&r->l[0]);
	assert_int_equal(r->io.delivered, 2);
	assert_false(io_r(&r->io, 0x10 + 20) & (1u << 14));
	assert_int_equal(lapic_ack(&r->l[0]), -1);
	/* an EOI of another vector leaves Remote-IRR alone */
	ioapic_set_irq(&r->io, 10, 1);
	assert_int_equal(lapic_ack(&r->l[0]), 0x5a);
	ioapic_eoi(&r->io, 0x5b);
	assert_true(io_r(&r->io, 0x10 + 20) & (1u << 14));
	rig_free(r);
}

static void test_masking(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	route(&r->io, 3, 0x10033, 0); /* masked edge */
	ioapic_set_irq(&r->io, 3, 1);
	assert_int_equal(lapic_ack(&r->l[0]), -1);
	route(&r->io, 3, 0x33, 0); /* unmask: the pending edge is delivered */
	assert_int_equal(lapic_ack(&r->l[0]), 0x33);
	eoi(&r->l[0]);
	route(&r->io, 3, 0x33, 0);
	assert_int_equal(lapic_ack(&r->l[0]), -1); /* only once */
	/* masked level line: delivered on unmask while asserted, not after it dropped */
	route(&r->io, 7, 0x18037, 0);
	ioapic_set_irq(&r->io, 7, 1);
	assert_int_equal(lapic_ack(&r->l[0]), -1);
	route(&r->io, 7, 0x8037, 0);
	assert_int_equal(lapic_ack(&r->l[0]), 0x37);
	ioapic_set_irq(&r->io, 7, 0);
	eoi(&r->l[0]);
	route(&r->io, 8, 0x18038, 0);
	ioapic_set_irq(&r->io, 8, 1);
	ioapic_set_irq(&r->io, 8, 0);
	route(&r->io, 8, 0x8038, 0);
	assert_int_equal(lapic_ack(&r->l[0]), -1);
	rig_free(r);
}

static void test_logical_and_lowest(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	for (unsigned i = 0; i < NCPU; i++) {
		uint32_t ldr = (1u << i) << 24;
		lapic_mmio_write(&r->l[i], 0xd0, (uint8_t *)&ldr, 4);
	}
	route(&r->io, 5, 0x840, 2); /* logical flat, CPU 1 */
	ioapic_set_irq(&r->io, 5, 1);
	assert_int_equal(lapic_ack(&r->l[0]), -1);
	assert_int_equal(lapic_ack(&r->l[1]), 0x40);
	eoi(&r->l[1]);
	/* lowest priority to both: CPU 0 has a higher TPR, CPU 1 gets it */
	lapic_set_tpr(&r->l[0], 0x20);
	route(&r->io, 6, 0x941, 3);
	ioapic_set_irq(&r->io, 6, 1);
	lapic_set_tpr(&r->l[0], 0);
	assert_int_equal(lapic_ack(&r->l[0]), -1);
	assert_int_equal(lapic_ack(&r->l[1]), 0x41);
	rig_free(r);
}

static void test_state_roundtrip(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	route(&r->io, 9, 0x8059, 1);
	route(&r->io, 12, 0x1005c, 0);
	ioapic_set_irq(&r->io, 9, 1);
	assert_int_equal(lapic_ack(&r->l[1]), 0x59);
	struct kvm_ioapic_state s;
	ioapic_get_state(&r->io, &s);
	assert_int_equal(s.base_address, IOAPIC_BASE);
	assert_int_equal(s.redirtbl[9].fields.vector, 0x59);
	assert_int_equal(s.redirtbl[9].fields.remote_irr, 1);
	assert_int_equal(s.redirtbl[9].fields.trig_mode, 1);
	assert_int_equal(s.redirtbl[9].fields.dest_id, 1);
	assert_int_equal(s.redirtbl[12].fields.mask, 1);
	assert_true(s.irr & (1u << 9));
	/* a fresh I/O APIC takes over: the EOI re-delivers the asserted line */
	struct ioapic io2;
	ioapic_init(&io2, &r->bus, 0);
	ioapic_set_state(&io2, &s);
	apic_bus_set_ioapic(&r->bus, ioapic_eoi, &io2);
	assert_int_equal(io_r(&io2, 0x10 + 18), 0xc059);
	eoi(&r->l[1]);
	assert_int_equal(io2.delivered, 1);
	assert_int_equal(lapic_ack(&r->l[1]), 0x59);
	ioapic_set_irq(&io2, 9, 0);
	eoi(&r->l[1]);
	assert_int_equal(io2.delivered, 1);
	struct kvm_ioapic_state s2;
	ioapic_get_state(&io2, &s2);
	assert_int_equal(s2.redirtbl[9].fields.remote_irr, 0);
	ioapic_destroy(&io2);
	rig_free(r);
}

static void test_router(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct pic pic;
	pic_init(&pic, NULL, NULL);
	struct x86_irq_router rt;
	x86_irq_router_init(&rt, &pic, &r->io);
	route(&r->io, 4, 0x34, 0);
	route(&r->io, 19, 0x8053, 0);
	struct irq_line com1 = x86_irq_line(&rt, 4);
	irq_line_set(&com1, 1);
	struct kvm_pic_state m, sl;
	pic_get_state(&pic, &m, &sl);
	assert_int_equal(m.irr, 1u << 4);            /* the PIC saw it */
	assert_int_equal(lapic_ack(&r->l[0]), 0x34); /* and so did the I/O APIC */
	eoi(&r->l[0]);
	struct irq_line gsi19 = x86_irq_line(&rt, 19);
	irq_line_set(&gsi19, 1);
	assert_int_equal(lapic_ack(&r->l[0]), 0x53);
	irq_line_set(&gsi19, 0);
	eoi(&r->l[0]);
	x86_irq_set_level(&rt, 1000, 1); /* out of range: ignored */
	x86_irq_set_level(&rt, 10, 1);
	pic_get_state(&pic, &m, &sl);
	assert_int_equal(sl.irr, 1u << 2);
	pic_destroy(&pic);
	rig_free(r);
}

static void test_hostile_mmio(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	srand(3);
	uint8_t buf[16];
	for (int i = 0; i < 100000; i++) {
		uint64_t off = (uint64_t)rand() % 0x1010;
		unsigned size = (unsigned)(rand() % 9);
		for (unsigned k = 0; k < sizeof(buf); k++)
			buf[k] = (uint8_t)rand();
		if (rand() & 1)
			ioapic_mmio_read(&r->io, off, buf, size);
		else
			ioapic_mmio_write(&r->io, rand() & 1 ? 0x10 : off, buf, size);
		if ((i & 7) == 0)
			ioapic_set_irq(&r->io, (unsigned)rand() % 40, rand() & 1);
		/* an asserted level line re-delivers after every EOI: bounded */
		for (unsigned c = 0; c < NCPU; c++)
			for (int k = 0; k < 4 && lapic_ack(&r->l[c]) >= 0; k++)
				eoi(&r->l[c]);
	}
	rig_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registers),
	    cmocka_unit_test(test_edge),
	    cmocka_unit_test(test_level_remote_irr),
	    cmocka_unit_test(test_masking),
	    cmocka_unit_test(test_logical_and_lowest),
	    cmocka_unit_test(test_state_roundtrip),
	    cmocka_unit_test(test_router),
	    cmocka_unit_test(test_hostile_mmio),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
