/* SPDX-License-Identifier: Apache-2.0 */
/* The models' state uses KVM's layouts so that a snapshot moves between
 * accelerators: program the models, load their state into KVM's in-kernel
 * chips and read it back, and the other way round. Skips without KVM. */
#include "common/testutil.h"
#include "devices/x86/irqchip.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct kvm {
	int sys, vm, cpu;
};

static int kvm_open(struct kvm *k)
{
	k->sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->sys < 0)
		return -1;
	k->vm = ioctl(k->sys, KVM_CREATE_VM, 0);
	struct kvm_pit_config pc = {0};
	if (k->vm < 0 || ioctl(k->vm, KVM_CREATE_IRQCHIP, 0) || ioctl(k->vm, KVM_CREATE_PIT2, &pc))
		return -1;
	k->cpu = ioctl(k->vm, KVM_CREATE_VCPU, 0);
	return k->cpu < 0 ? -1 : 0;
}

static void kvm_close(struct kvm *k)
{
	close(k->cpu);
	close(k->vm);
	close(k->sys);
}

#define NEED_KVM(k)                                                                                \
	do {                                                                                       \
		if (kvm_open(k))                                                                   \
			skip_because("host has no usable /dev/kvm with an in-kernel irqchip");     \
	} while (0)

static void cb_notify(void *c)
{
	(void)c;
}
static const struct lapic_cpu_ops ops = {cb_notify, NULL, NULL, NULL};
static struct x86_clock clk;

static struct x86_irqchip *chip_new(void)
{
	x86_clock_init(&clk, 1000000, 0);
	struct x86_irqchip *c;
	struct err e;
	assert_int_equal(x86_irqchip_create(&c, 1, &clk, &ops, NULL, &e), 0);
	return c;
}

static void outb(struct x86_irqchip *c, const struct io_ops *o, void *dev, uint64_t off, uint8_t v)
{
	(void)c;
	o->write(dev, off, &v, 1);
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

/* A state worth moving: PICs initialised as Linux does with a request in
 * service, I/O APIC entries incl. a level one with Remote-IRR, PIT channel
 * 2 counting, a LAPIC with TPR, LDR, a pending and an in-service vector. */
static void program(struct x86_irqchip *c)
{
	static const uint8_t m[] = {0x11, 0x30, 0x04, 0x01}, s[] = {0x11, 0x38, 0x02, 0x01};
	outb(c, &pic_master_ops, &c->pic, 0, m[0]);
	outb(c, &pic_slave_ops, &c->pic, 0, s[0]);
	for (int i = 1; i < 4; i++) {
		outb(c, &pic_master_ops, &c->pic, 1, m[i]);
		outb(c, &pic_slave_ops, &c->pic, 1, s[i]);
	}
	outb(c, &pic_master_ops, &c->pic, 1, 0xe8);
	outb(c, &pic_elcr_ops, &c->pic, 1, 0x0c);
	pic_set_irq(&c->pic, 4, 1);
	assert_int_equal(pic_ack(&c->pic), 0x34);
	struct lapic *l = &c->lapic[0];
	lw(l, 0xf0, 0x1ff);
	lw(l, 0xd0, 0x01000000);
	lw(l, 0x80, 0x20);
	lw(l, 0x370, 0xfe);
	lw(l, 0x360, 0x400);
	iow(c, 0x10 + 2 * 3, 0x13);
	iow(c, 0x11 + 2 * 9, 0);
	iow(c, 0x10 + 2 * 9, 0x8059);
	ioapic_set_irq(&c->ioapic, 9, 1);
	assert_int_equal(lapic_ack(l), 0x59);
	ioapic_set_irq(&c->ioapic, 3, 0);
	struct apic_msg msg = {.vector = 0x41, .delivery = APIC_DM_FIXED, .dest = 0};
	apic_bus_deliver(&c->bus, &msg, NULL);
	outb(c, &pit_speaker_ops, &c->pit, 0, 1);
	outb(c, &pit_ops, &c->pit, 3, 0xb4);
	outb(c, &pit_ops, &c->pit, 2, 0x34);
	outb(c, &pit_ops, &c->pit, 2, 0x12);
}

static void kvm_get(struct kvm *k, struct x86_irqchip_state *s, uint8_t *page)
{
	for (int i = 0; i < 3; i++) {
		struct kvm_irqchip ic = {.chip_id = (uint32_t)i};
		assert_int_equal(ioctl(k->vm, KVM_GET_IRQCHIP, &ic), 0);
		if (i < 2)
			s->pic[i] = ic.chip.pic;
		else
			s->ioapic = ic.chip.ioapic;
	}
	assert_int_equal(ioctl(k->vm, KVM_GET_PIT2, &s->pit), 0);
	struct kvm_lapic_state ls;
	assert_int_equal(ioctl(k->cpu, KVM_GET_LAPIC, &ls), 0);
	memcpy(page, ls.regs, LAPIC_PAGE_SIZE);
}

static void kvm_set(struct kvm *k, const struct x86_irqchip_state *s, const uint8_t *page)
{
	for (int i = 0; i < 3; i++) {
		struct kvm_irqchip ic = {.chip_id = (uint32_t)i};
		if (i < 2)
			ic.chip.pic = s->pic[i];
		else
			ic.chip.ioapic = s->ioapic;
		assert_int_equal(ioctl(k->vm, KVM_SET_IRQCHIP, &ic), 0);
	}
	assert_int_equal(ioctl(k->vm, KVM_SET_PIT2, &s->pit), 0);
	struct kvm_lapic_state ls;
	memcpy(ls.regs, page, LAPIC_PAGE_SIZE);
	assert_int_equal(ioctl(k->cpu, KVM_SET_LAPIC, &ls), 0);
}

static uint32_t reg(const uint8_t *page, unsigned off)
{
	uint32_t v;
	memcpy(&v, page + off, 4);
	return v;
}

/* Registers both sides must agree on (the version differs: KVM offers no
 * CMCI LVT; the current count moves; PPR is derived, and each side
 * recomputes it on restore). */
static void same_lapic(const uint8_t *a, const uint8_t *b)
{
	static const unsigned regs[] = {0x20,  0x80,  0xd0,  0xe0,  0xf0, 0x320,
	                                0x350, 0x360, 0x370, 0x380, 0x3e0};
	for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		assert_int_equal(reg(a, regs[i]), reg(b, regs[i]));
	for (unsigned off = 0x100; off < 0x280; off += 0x10) /* ISR, TMR, IRR */
		assert_int_equal(reg(a, off), reg(b, off));
}

static void same_chips(const struct x86_irqchip_state *a, const struct x86_irqchip_state *b)
{
	assert_memory_equal(&a->pic, &b->pic, sizeof(a->pic));
	assert_int_equal(a->ioapic.irr, b->ioapic.irr);
	for (int i = 0; i < IOAPIC_PINS; i++)
		assert_int_equal(a->ioapic.redirtbl[i].bits, b->ioapic.redirtbl[i].bits);
	for (int i = 0; i < 3; i++) {
		const struct kvm_pit_channel_state *x = &a->pit.channels[i],
		                                   *y = &b->pit.channels[i];
		assert_int_equal(x->count, y->count);
		assert_int_equal(x->mode, y->mode);
		assert_int_equal(x->rw_mode, y->rw_mode);
		assert_int_equal(x->gate, y->gate);
		assert_int_equal(x->read_state, y->read_state);
		assert_int_equal(x->write_state, y->write_state);
	}
	assert_int_equal(a->pit.flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON,
	                 b->pit.flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON);
}

static void test_models_to_kvm(void **state)
{
	(void)state;
	struct kvm k;
	NEED_KVM(&k);
	struct x86_irqchip *c = chip_new();
	program(c);
	struct x86_irqchip_state mine, theirs;
	uint8_t page[LAPIC_PAGE_SIZE], kpage[LAPIC_PAGE_SIZE];
	x86_irqchip_get_state(c, &mine);
	lapic_get_state(&c->lapic[0], page);
	kvm_set(&k, &mine, page);
	kvm_get(&k, &theirs, kpage);
	same_chips(&mine, &theirs);
	same_lapic(page, kpage);
	assert_int_equal(reg(kpage, 0x30) & 0xff, 0x14);
	x86_irqchip_destroy(c);
	kvm_close(&k);
}

static void test_kvm_to_models(void **state)
{
	(void)state;
	struct kvm k;
	NEED_KVM(&k);
	struct x86_irqchip *src = chip_new();
	program(src);
	struct x86_irqchip_state s0, theirs, mine;
	uint8_t page[LAPIC_PAGE_SIZE], kpage[LAPIC_PAGE_SIZE];
	x86_irqchip_get_state(src, &s0);
	lapic_get_state(&src->lapic[0], page);
	x86_irqchip_destroy(src);
	kvm_set(&k, &s0, page);
	kvm_get(&k, &theirs, kpage);
	struct x86_irqchip *c = chip_new();
	x86_irqchip_set_state(c, &theirs);
	lapic_set_state(&c->lapic[0], kpage);
	x86_irqchip_get_state(c, &mine);
	lapic_get_state(&c->lapic[0], page);
	same_chips(&theirs, &mine);
	same_lapic(kpage, page);
	/* and it behaves: 0x41 is pending above TPR, 0x59 in service; its EOI
	 * reaches the I/O APIC, whose line is still high */
	struct lapic *l = &c->lapic[0];
	assert_int_equal(lapic_ack(l), -1); /* 0x41 is below in-service 0x59 */
	uint64_t before = c->ioapic.delivered;
	lw(l, 0xb0, 0);
	assert_int_equal(c->ioapic.delivered, before + 1);
	assert_int_equal(lapic_ack(l), 0x59);
	/* the PIC still has IRQ 4 in service: its EOI goes through */
	struct kvm_pic_state m, sl;
	pic_get_state(&c->pic, &m, &sl);
	assert_int_equal(m.isr, 1u << 4);
	outb(c, &pic_master_ops, &c->pic, 0, 0x20);
	pic_get_state(&c->pic, &m, &sl);
	assert_int_equal(m.isr, 0);
	x86_irqchip_destroy(c);
	kvm_close(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_models_to_kvm),
	    cmocka_unit_test(test_kvm_to_models),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
