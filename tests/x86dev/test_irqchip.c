/* SPDX-License-Identifier: Apache-2.0 */
/* The assembled interrupt controllers of a software-CPU VM: the path Linux
 * takes at boot (PIC and PIT, then the I/O APIC), the port layout, state,
 * and several threads using it at once. */
#include "common/testutil.h"
#include "devices/x86/irqchip.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NCPU 4

struct vcpu {
	int notify, init, sipi, nmi;
};

static void cb_notify(void *c)
{
	__atomic_add_fetch(&((struct vcpu *)c)->notify, 1, __ATOMIC_SEQ_CST);
}
static void cb_init(void *c)
{
	__atomic_add_fetch(&((struct vcpu *)c)->init, 1, __ATOMIC_SEQ_CST);
}
static void cb_sipi(void *c, uint8_t v)
{
	(void)v;
	__atomic_add_fetch(&((struct vcpu *)c)->sipi, 1, __ATOMIC_SEQ_CST);
}
static void cb_nmi(void *c)
{
	__atomic_add_fetch(&((struct vcpu *)c)->nmi, 1, __ATOMIC_SEQ_CST);
}
static const struct lapic_cpu_ops ops = {cb_notify, cb_init, cb_sipi, cb_nmi};

static struct vcpu vcpus[NCPU];
static struct x86_clock clk;

static struct x86_irqchip *chip_new(void)
{
	memset(vcpus, 0, sizeof(vcpus));
	x86_clock_init(&clk, 1000000, 0);
	void *cpus[NCPU];
	for (unsigned i = 0; i < NCPU; i++)
		cpus[i] = &vcpus[i];
	struct x86_irqchip *c;
	struct err e;
	assert_int_equal(x86_irqchip_create(&c, NCPU, &clk, &ops, cpus, &e), 0);
	assert_int_equal(x86_irqchip_start(c, &e), 0);
	return c;
}

static void outb(struct x86_irqchip *c, uint16_t port, uint8_t v)
{
	struct x86_irqchip_range r[8];
	size_t n = x86_irqchip_ranges(c, r, 8);
	for (size_t i = 0; i < n; i++)
		if (!r[i].mmio && port >= r[i].base && port < r[i].base + r[i].len) {
			r[i].ops->write(r[i].dev, port - r[i].base, &v, 1);
			return;
		}
	fail_msg("port %#x not claimed", port);
}

static void lw(struct lapic *l, unsigned off, uint32_t v)
{
	lapic_mmio_write(l, off, (uint8_t *)&v, 4);
}

static void iow(struct x86_irqchip *c, uint32_t reg, uint32_t v)
{
	ioapic_mmio_write(&c->ioapic, 0, (uint8_t *)&reg, 4);
	ioapic_mmio_write(&c->ioapic, 0x10, (uint8_t *)&v, 4);
}

static int wait_vector(struct lapic *l, int vec, int64_t limit_ns)
{
	int64_t t0 = x86_clock_host_ns();
	while (x86_clock_host_ns() - t0 < limit_ns) {
		int v = lapic_ack(l);
		if (v >= 0) {
			lw(l, 0xb0, 0);
			if (v == vec)
				return 1;
		}
		usleep(200);
	}
	return 0;
}

static void test_ranges(void **state)
{
	(void)state;
	struct x86_irqchip *c = chip_new();
	struct x86_irqchip_range r[16];
	size_t n = x86_irqchip_ranges(c, r, 16);
	assert_int_equal(n, 6);
	assert_int_equal(x86_irqchip_ranges(c, r, 2), 2);
	n = x86_irqchip_ranges(c, r, 16);
	/* the other port devices of the VM (serial, i8042 as two ranges,
	 * CMOS, PCI config, POST, debug exit) must not collide */
	static const uint64_t others[][2] = {{0x3f8, 8}, {0x60, 1}, {0x64, 1}, {0x70, 2},
	                                     {0xcf8, 8}, {0x80, 1}, {0x501, 1}};
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++)
			if (i != j && r[i].mmio == r[j].mmio)
				assert_true(r[i].base + r[i].len <= r[j].base ||
				            r[j].base + r[j].len <= r[i].base);
		if (r[i].mmio) {
			assert_int_equal(r[i].base, 0xfec00000);
			continue;
		}
		for (size_t k = 0; k < sizeof(others) / sizeof(others[0]); k++)
			assert_true(r[i].base + r[i].len <= others[k][0] ||
			            others[k][0] + others[k][1] <= r[i].base);
	}
	x86_irqchip_destroy(c);
}

static void test_linux_boot_path(void **state)
{
	(void)state;
	struct x86_irqchip *c = chip_new();
	struct lapic *bsp = &c->lapic[0];
	/* PIC phase: init_8259A, PIT at HZ=1000 in mode 2, IRQ 0 unmasked */
	static const uint8_t init[][2] = {{0x21, 0xff}, {0xa1, 0xff}, {0x20, 0x11}, {0x21, 0x30},
	                                  {0x21, 0x04}, {0x21, 0x01}, {0xa0, 0x11}, {0xa1, 0x38},
	                                  {0xa1, 0x02}, {0xa1, 0x01}, {0x21, 0xfa}};
	for (unsigned i = 0; i < sizeof(init) / 2; i++)
		outb(c, init[i][0], init[i][1]);
	outb(c, 0x43, 0x34);
	outb(c, 0x40, 1193 & 0xff);
	outb(c, 0x40, 1193 >> 8);
	int64_t t0 = x86_clock_host_ns();
	int got = 0;
	while (got < 3 && x86_clock_host_ns() - t0 < 2000000000) {
		int v = lapic_ack(bsp); /* ExtINT: the PIC's vector */
		if (v >= 0) {
			assert_int_equal(v, 0x30);
			outb(c, 0x20, 0x20);
			got++;
		}
		usleep(200);
	}
	assert_int_equal(got, 3);
	assert_true(vcpus[0].notify >= 3);
	assert_int_equal(vcpus[1].notify, 0);
	/* switch to the I/O APIC: mask the PIC and LINT0, enable the APIC,
	 * route IRQ 0 (pin 0, as the MP table says) and a level GSI 20 */
	outb(c, 0x21, 0xff);
	outb(c, 0xa1, 0xff);
	lw(bsp, 0xf0, 0x1ff);
	lw(bsp, 0x350, 0x10700);
	iow(c, 0x11, 0);
	iow(c, 0x10, 0xef);
	assert_true(wait_vector(bsp, 0xef, 1000000000));
	assert_true(wait_vector(bsp, 0xef, 1000000000));
	/* a device line through the router, level-triggered to CPU 2 */
	struct lapic *ap = &c->lapic[2];
	lw(ap, 0xf0, 0x1ff);
	iow(c, 0x11 + 40, 2u << 24);
	iow(c, 0x10 + 40, 0x8061);
	struct irq_line dev = x86_irqchip_line(c, 20);
	irq_line_set(&dev, 1);
	assert_int_equal(lapic_ack(ap), 0x61);
	irq_line_set(&dev, 0);
	lw(ap, 0xb0, 0); /* EOI clears Remote-IRR through the bus */
	struct x86_irqchip_state s;
	x86_irqchip_get_state(c, &s);
	assert_int_equal(s.ioapic.redirtbl[20].fields.remote_irr, 0);
	assert_int_equal(s.ioapic.id, NCPU);
	assert_int_equal(s.pic[0].imr, 0xff);
	assert_int_equal(s.pit.channels[0].mode, 2);
	/* stop the PIT */
	outb(c, 0x43, 0x30);
	x86_irqchip_destroy(c);
}

static void test_state_moves(void **state)
{
	(void)state;
	struct x86_irqchip *a = chip_new();
	outb(a, 0x20, 0x11);
	outb(a, 0x21, 0x20);
	outb(a, 0x21, 0x04);
	outb(a, 0x21, 0x01);
	outb(a, 0x21, 0xbe);
	iow(a, 0x10 + 6, 0x10044);
	outb(a, 0x43, 0xb0);
	outb(a, 0x42, 0x00);
	outb(a, 0x42, 0x40);
	struct x86_irqchip_state s, s2;
	x86_irqchip_get_state(a, &s);
	x86_irqchip_destroy(a);
	struct x86_irqchip *b = chip_new();
	x86_irqchip_set_state(b, &s);
	x86_irqchip_get_state(b, &s2);
	assert_memory_equal(&s.pic, &s2.pic, sizeof(s.pic));
	assert_memory_equal(&s.ioapic, &s2.ioapic, sizeof(s.ioapic));
	assert_memory_equal(&s.pit, &s2.pit, sizeof(s.pit));
	assert_int_equal(s2.pic[0].irq_base, 0x20);
	assert_int_equal(s2.pic[0].imr, 0xbe);
	x86_irqchip_destroy(b);
}

/* Several vCPU threads send IPIs, acknowledge and EOI, change TPR, while a
 * device thread toggles a level line and LAPIC timers fire: no deadlock,
 * and every CPU keeps receiving. */
struct stress {
	struct x86_irqchip *c;
	unsigned id;
	int stop;
	long acks;
};

static void *cpu_thread(void *arg)
{
	struct stress *st = arg;
	struct lapic *l = &st->c->lapic[st->id];
	unsigned seed = st->id;
	while (!__atomic_load_n(&st->stop, __ATOMIC_SEQ_CST)) {
		unsigned dest = (unsigned)rand_r(&seed) % NCPU;
		lw(l, 0x310, dest << 24);
		lw(l, 0x300, 0x4040 + (dest & 3)); /* fixed */
		if ((rand_r(&seed) & 15) == 0)
			lw(l, 0x300, 0xc4050); /* all but self */
		if ((rand_r(&seed) & 31) == 0)
			lapic_set_tpr(l, (uint8_t)(rand_r(&seed) & 0x30));
		for (int k = 0; k < 4; k++) {
			int v = lapic_ack(l);
			if (v < 0)
				break;
			st->acks++;
			lw(l, 0xb0, 0);
		}
		uint32_t cnt;
		lapic_mmio_read(l, 0x390, (uint8_t *)&cnt, 4);
	}
	lapic_set_tpr(l, 0);
	return NULL;
}

static void *dev_thread(void *arg)
{
	struct stress *st = arg;
	struct irq_line line = x86_irqchip_line(st->c, 21);
	int lv = 0;
	while (!__atomic_load_n(&st->stop, __ATOMIC_SEQ_CST)) {
		lv = !lv;
		irq_line_set(&line, lv);
		outb(st->c, 0x21, lv ? 0xff : 0xfe); /* PIC traffic too */
	}
	irq_line_set(&line, 0);
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	struct x86_irqchip *c = chip_new();
	for (unsigned i = 0; i < NCPU; i++) {
		struct lapic *l = &c->lapic[i];
		lw(l, 0xf0, 0x1ff);
		lw(l, 0x3e0, 0xb);
		lw(l, 0x320, 0x20000 | (0x90 + i)); /* periodic timers, 200 us */
		lw(l, 0x380, 200000);
	}
	iow(c, 0x11 + 42, 0xff000000);
	iow(c, 0x10 + 42, 0x8170); /* level, lowest priority, all in logical mode */
	for (unsigned i = 0; i < NCPU; i++)
		lw(&c->lapic[i], 0xd0, 0x01000000);
	struct stress st[NCPU + 1];
	pthread_t th[NCPU + 1];
	for (unsigned i = 0; i <= NCPU; i++) {
		st[i] = (struct stress){c, i, 0, 0};
		pthread_create(&th[i], NULL, i < NCPU ? cpu_thread : dev_thread, &st[i]);
	}
	usleep(300000);
	for (unsigned i = 0; i <= NCPU; i++)
		__atomic_store_n(&st[i].stop, 1, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i <= NCPU; i++)
		pthread_join(th[i], NULL);
	long total = 0;
	for (unsigned i = 0; i < NCPU; i++) {
		assert_true(st[i].acks > 0);
		total += st[i].acks;
	}
	test_measured("irqchip stress: %ld interrupts acknowledged by %d threads in 0.3 s", total,
	              NCPU);
	x86_irqchip_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ranges),
	    cmocka_unit_test(test_linux_boot_path),
	    cmocka_unit_test(test_state_moves),
	    cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
