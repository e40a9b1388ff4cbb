/* SPDX-License-Identifier: Apache-2.0 */
/* 8259 PIC pair: Linux's init sequence, priorities, cascade, EOI modes,
 * ELCR level triggering, poll mode, state, and the path to the LAPIC. */
#include "common/testutil.h"
#include "devices/x86/lapic.h"
#include "devices/x86/pic.h"

#include <stdlib.h>
#include <string.h>

static int intr_level, intr_changes;

static void on_intr(void *ctx, int level)
{
	(void)ctx;
	intr_level = level;
	intr_changes++;
}

static void out8(struct pic *p, uint16_t port, uint8_t v)
{
	if (port >= PIC_ELCR_PORT)
		pic_elcr_ops.write(p, port - PIC_ELCR_PORT, &v, 1);
	else if (port >= PIC_SLAVE_PORT)
		pic_slave_ops.write(p, port - PIC_SLAVE_PORT, &v, 1);
	else
		pic_master_ops.write(p, port - PIC_MASTER_PORT, &v, 1);
}

static uint8_t in8(struct pic *p, uint16_t port)
{
	uint8_t v;
	if (port >= PIC_ELCR_PORT)
		pic_elcr_ops.read(p, port - PIC_ELCR_PORT, &v, 1);
	else if (port >= PIC_SLAVE_PORT)
		pic_slave_ops.read(p, port - PIC_SLAVE_PORT, &v, 1);
	else
		pic_master_ops.read(p, port - PIC_MASTER_PORT, &v, 1);
	return v;
}

/* arch/x86/kernel/i8259.c: init_8259A(auto_eoi) */
static void linux_init(struct pic *p, int auto_eoi)
{
	out8(p, 0x21, 0xff);
	out8(p, 0xa1, 0xff);
	out8(p, 0x20, 0x11);
	out8(p, 0x21, 0x30);
	out8(p, 0x21, 1u << 2);
	out8(p, 0x21, auto_eoi ? 0x03 : 0x01);
	out8(p, 0xa0, 0x11);
	out8(p, 0xa1, 0x38);
	out8(p, 0xa1, 2);
	out8(p, 0xa1, 0x01);
	out8(p, 0x21, 0xfb); /* everything masked but the cascade */
	out8(p, 0xa1, 0xff);
}

static struct pic *pic_new(int auto_eoi)
{
	struct pic *p = calloc(1, sizeof(*p));
	intr_level = intr_changes = 0;
	pic_init(p, on_intr, NULL);
	linux_init(p, auto_eoi);
	return p;
}

static void pic_free(struct pic *p)
{
	pic_destroy(p);
	free(p);
}

static void test_linux_init_and_delivery(void **state)
{
	(void)state;
	struct pic *p = pic_new(0);
	assert_int_equal(in8(p, 0x21), 0xfb);
	assert_int_equal(in8(p, 0xa1), 0xff);
	pic_set_irq(p, 1, 1);
	assert_int_equal(intr_level, 0); /* masked */
	out8(p, 0x21, 0xf9);             /* unmask IRQ 1 */
	assert_int_equal(intr_level, 1);
	assert_int_equal(pic_ack(p), 0x31);
	assert_int_equal(intr_level, 0);
	out8(p, 0x20, 0x0b); /* OCW3: read ISR */
	assert_int_equal(in8(p, 0x20), 0x02);
	out8(p, 0x20, 0x20); /* non-specific EOI */
	assert_int_equal(in8(p, 0x20), 0x00);
	out8(p, 0x20, 0x0a); /* read IRR */
	pic_set_irq(p, 1, 0);
	pic_set_irq(p, 1, 1);
	assert_int_equal(in8(p, 0x20), 0x02);
	assert_int_equal(pic_ack(p), 0x31);
	out8(p, 0x20, 0x61); /* specific EOI for IRQ 1 */
	out8(p, 0x20, 0x0b);
	assert_int_equal(in8(p, 0x20), 0);
	/* nothing pending: spurious IRQ 7 */
	assert_int_equal(pic_ack(p), 0x37);
	pic_free(p);
}

static void test_priority(void **state)
{
	(void)state;
	struct pic *p = pic_new(0);
	out8(p, 0x21, 0x00);
	pic_set_irq(p, 3, 1);
	pic_set_irq(p, 1, 1);
	assert_int_equal(pic_ack(p), 0x31);
	/* IRQ 3 is lower priority than IRQ 1 in service */
	assert_int_equal(intr_level, 0);
	pic_set_irq(p, 0, 1); /* IRQ 0 preempts */
	assert_int_equal(intr_level, 1);
	assert_int_equal(pic_ack(p), 0x30);
	out8(p, 0x20, 0x20); /* EOI IRQ 0 */
	assert_int_equal(intr_level, 0);
	out8(p, 0x20, 0x20); /* EOI IRQ 1 */
	assert_int_equal(intr_level, 1);
	assert_int_equal(pic_ack(p), 0x33);
	out8(p, 0x20, 0x20);
	/* rotate: set lowest priority to IRQ 3, so IRQ 4 now beats IRQ 1 */
	out8(p, 0x20, 0xc3);
	pic_set_irq(p, 1, 0);
	pic_set_irq(p, 1, 1);
	pic_set_irq(p, 4, 1);
	assert_int_equal(pic_ack(p), 0x34);
	pic_free(p);
}

static void test_cascade(void **state)
{
	(void)state;
	struct pic *p = pic_new(0);
	out8(p, 0xa1, 0x00);
	pic_set_irq(p, 10, 1);
	assert_int_equal(intr_level, 1);
	assert_int_equal(pic_ack(p), 0x3a);
	out8(p, 0xa0, 0x0b);
	assert_int_equal(in8(p, 0xa0), 1u << 2);
	out8(p, 0x20, 0x0b);
	assert_int_equal(in8(p, 0x20), 1u << 2);
	out8(p, 0xa0, 0x20);
	out8(p, 0x20, 0x20);
	assert_int_equal(in8(p, 0xa0), 0);
	assert_int_equal(in8(p, 0x20), 0);
	/* masking the cascade input blocks the slave */
	out8(p, 0x21, 0xff);
	pic_set_irq(p, 12, 1);
	assert_int_equal(intr_level, 0);
	out8(p, 0x21, 0xfb);
	assert_int_equal(pic_ack(p), 0x3c);
	pic_free(p);
}

static void test_auto_eoi(void **state)
{
	(void)state;
	struct pic *p = pic_new(1);
	out8(p, 0x21, 0x00);
	pic_set_irq(p, 5, 1);
	assert_int_equal(pic_ack(p), 0x35);
	out8(p, 0x20, 0x0b);
	assert_int_equal(in8(p, 0x20), 0); /* no EOI needed */
	pic_set_irq(p, 6, 1);
	assert_int_equal(intr_level, 1);
	assert_int_equal(pic_ack(p), 0x36);
	pic_free(p);
}

static void test_elcr_level(void **state)
{
	(void)state;
	struct pic *p = pic_new(0);
	out8(p, 0x4d1, 0xff);
	assert_int_equal(in8(p, 0x4d1), 0xde); /* IRQ 8 and 13 are always edge */
	out8(p, 0x4d0, 0xff);
	assert_int_equal(in8(p, 0x4d0), 0xf8);
	out8(p, 0xa1, 0x00);
	pic_set_irq(p, 9, 1);
	assert_int_equal(pic_ack(p), 0x39);
	out8(p, 0xa0, 0x20);
	out8(p, 0x20, 0x20);
	/* still asserted: requested again */
	assert_int_equal(intr_level, 1);
	assert_int_equal(pic_ack(p), 0x39);
	pic_set_irq(p, 9, 0);
	out8(p, 0xa0, 0x20);
	out8(p, 0x20, 0x20);
	assert_int_equal(intr_level, 0);
	pic_free(p);
}

static void test_poll_mode(void **state)
{
	(void)state;
	struct pic *p = pic_new(0);
	out8(p, 0x21, 0x00);
	pic_set_irq(p, 4, 1);
	out8(p, 0x20, 0x0c); /* OCW3 poll */
	assert_int_equal(in8(p, 0x20), 0x84);
	out8(p, 0x20, 0x0b);
	assert_int_equal(in8(p, 0x20), 1u << 4); /* the poll acknowledged it */
	out8(p, 0x20, 0x20);
	out8(p, 0x20, 0x0c);
	assert_int_equal(in8(p, 0x20), 0); /* nothing pending */
	pic_free(p);
}

static void test_state_roundtrip(void **state)
{
	(void)state;
	struct pic *p = pic_new(0);
	out8(p, 0x21, 0xe0);
	out8(p, 0x4d0, 0x20);
	pic_set_irq(p, 3, 1);
	assert_int_equal(pic_ack(p), 0x33);
	pic_set_irq(p, 2 + 8, 1);
	out8(p, 0xa1, 0x00);
	struct kvm_pic_state m, s;
	pic_get_state(p, &m, &s);
	assert_int_equal(m.irq_base, 0x30);
	assert_int_equal(s.irq_base, 0x38);
	assert_int_equal(m.imr, 0xe0);
	assert_int_equal(m.isr, 1u << 3);
	assert_int_equal(m.elcr, 0x20);
	struct pic q;
	int changes = intr_changes;
	pic_init(&q, on_intr, NULL);
	pic_set_state(&q, &m, &s);
	assert_true(intr_changes > changes);
	assert_int_equal(in8(&q, 0x21), 0xe0);
	/* the slave request (IRQ 10) is higher than IRQ 3 in service */
	assert_int_equal(intr_level, 1);
	assert_int_equal(pic_ack(&q), 0x3a);
	pic_destroy(&q);
	pic_free(p);
}

/* ExtINT path: the PIC drives the BSP's LINT0, the LAPIC acknowledges here. */
static void cb_notify(void *c)
{
	(*(int *)c)++;
}
static const struct lapic_cpu_ops lops = {cb_notify, NULL, NULL, NULL};

static void test_through_lapic(void **state)
{
	(void)state;
	struct dev_timers t;
	struct err e;
	assert_int_equal(dev_timers_init(&t, &e), 0);
	struct apic_bus bus;
	apic_bus_init(&bus);
	struct lapic l;
	int notified = 0;
	lapic_init(&l, &bus, 0, &t, NULL, &lops, &notified);
	struct pic p;
	pic_init(&p, apic_bus_pic_intr, &bus);
	apic_bus_set_pic(&bus, pic_ack_cb, &p);
	linux_init(&p, 0);
	out8(&p, 0x21, 0xfa);
	pic_set_irq(&p, 0, 1);
	assert_true(notified > 0);
	assert_int_equal(lapic_ack(&l), 0x30);
	assert_int_equal(lapic_ack(&l), -1);
	/* Linux switches to the I/O APIC by masking LINT0 */
	out8(&p, 0x20, 0x20);
	uint32_t lvt0 = 0x10700;
	lapic_mmio_write(&l, 0x350, (uint8_t *)&lvt0, 4);
	pic_set_irq(&p, 0, 0);
	pic_set_irq(&p, 0, 1);
	assert_int_equal(lapic_ack(&l), -1);
	pic_destroy(&p);
	lapic_destroy(&l);
	dev_timers_destroy(&t);
}

static void test_hostile_ports(void **state)
{
	(void)state;
	struct pic *p = pic_new(0);
	srand(11);
	for (int i = 0; i < 200000; i++) {
		uint8_t buf[8];
		for (unsigned k = 0; k < sizeof(buf); k++)
			buf[k] = (uint8_t)rand();
		const struct io_ops *ops = (const struct io_ops *[]){
		    &pic_master_ops, &pic_slave_ops, &pic_elcr_ops}[rand() % 3];
		uint64_t off = (uint64_t)(rand() % 4);
		unsigned size = (unsigned)(rand() % 9);
		if (rand() & 1)
			ops->read(p, off, buf, size);
		else
			ops->write(p, off, buf, size);
		if ((i & 3) == 0)
			pic_set_irq(p, (unsigned)rand() % 20, rand() & 1);
		if ((i & 7) == 0) {
			int v = pic_ack(p);
			assert_true(v >= 0 && v < 256);
		}
	}
	struct kvm_pic_state m, s;
	memset(&m, 0xff, sizeof(m));
	memset(&s, 0xa5, sizeof(s));
	pic_set_state(p, &m, &s); /* garbage state is tolerated */
	for (int i = 0; i < 100; i++)
		assert_true(pic_ack(p) < 256);
	pic_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_linux_init_and_delivery),
	    cmocka_unit_test(test_priority),
	    cmocka_unit_test(test_cascade),
	    cmocka_unit_test(test_auto_eoi),
	    cmocka_unit_test(test_elcr_level),
	    cmocka_unit_test(test_poll_mode),
	    cmocka_unit_test(test_state_roundtrip),
	    cmocka_unit_test(test_through_lapic),
	    cmocka_unit_test(test_hostile_ports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
