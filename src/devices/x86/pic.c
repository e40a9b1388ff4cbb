/* SPDX-License-Identifier: Apache-2.0 */
/* The logic follows the 8259A data sheet the way QEMU's and KVM's models
 * read it (priority rotation via priority_add, cascade through IRQ 2). */
#include "devices/x86/pic.h"

#include <string.h>

/* Priority (0 highest) of the first bit set in mask, 8 if none. */
static int get_priority(const struct kvm_pic_state *s, int mask)
{
	if (!mask)
		return 8;
	int pri = 0;
	while (!(mask & (1 << ((pri + s->priority_add) & 7))))
		pri++;
	return pri;
}

/* The IRQ this chip would present, or -1. */
static int get_irq(const struct pic *p, const struct kvm_pic_state *s)
{
	int pri = get_priority(s, s->irr & ~s->imr);
	if (pri == 8)
		return -1;
	int mask = s->isr;
	if (s->special_mask)
		mask &= ~s->imr;
	if (s->special_fully_nested_mode && s == &p->chip[0])
		mask &= ~(1 << 2);
	if (pri < get_priority(s, mask))
		return (pri + s->priority_add) & 7;
	return -1;
}

static void chip_set_irq(struct kvm_pic_state *s, int irq, int level)
{
	int mask = 1 << irq;
	if (s->elcr & mask) {
		if (level) {
			s->irr |= mask;
			s->last_irr |= mask;
		} else {
			s->irr &= ~mask;
			s->last_irr &= ~mask;
		}
		return;
	}
	if (level) {
		if (!(s->last_irr & mask))
			s->irr |= mask;
		s->last_irr |= mask;
	} else {
		s->last_irr &= ~mask;
	}
}

static void update(struct pic *p)
{
	/* the slave's INTR is the master's IRQ 2 */
	chip_set_irq(&p->chip[0], 2, get_irq(p, &p->chip[1]) >= 0);
	int out = get_irq(p, &p->chip[0]) >= 0;
	if (out != p->output) {
		p->output = out;
		if (p->intr)
			p->intr(p->intr_ctx, out);
	}
}

void pic_init(struct pic *p, void (*intr)(void *ctx, int level), void *ctx)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	p->intr = intr;
	p->intr_ctx = ctx;
	/* PIIX: IRQ 0, 1, 2 (master) and 8, 13 (slave) are always edge */
	p->chip[0].elcr_mask = 0xf8;
	p->chip[1].elcr_mask = 0xde;
}

void pic_destroy(struct pic *p)
{
	pthread_mutex_destroy(&p->lock);
}

void pic_set_irq(struct pic *p, unsigned irq, int level)
{
	if (irq >= 16)
		return;
	pthread_mutex_lock(&p->lock);
	chip_set_irq(&p->chip[irq >> 3], irq & 7, level != 0);
	update(p);
	pthread_mutex_unlock(&p->lock);
}

static void intack(struct kvm_pic_state *s, int irq)
{
	s->isr |= 1 << irq;
	if (!(s->elcr & (1 << irq))) /* a level request stays until the line drops */
		s->irr &= ~(1 << irq);
	if (s->auto_eoi) {
		if (s->rotate_on_auto_eoi)
			s->priority_add = (irq + 1) & 7;
		s->isr &= ~(1 << irq);
	}
}

int pic_ack(struct pic *p)
{
	pthread_mutex_lock(&p->lock);
	int vec, irq = get_irq(p, &p->chip[0]);
	if (irq < 0) {
		vec = p->chip[0].irq_base + 7; /* spurious */
	} else {
		intack(&p->chip[0], irq);
		if (irq == 2) {
			int irq2 = get_irq(p, &p->chip[1]);
			if (irq2 >= 0)
				intack(&p->chip[1], irq2);
			else
				irq2 = 7;
			vec = p->chip[1].irq_base + irq2;
		} else {
			vec = p->chip[0].irq_base + irq;
		}
	}
	update(p);
	pthread_mutex_unlock(&p->lock);
	return vec;
}

int pic_ack_cb(void *p)
{
	return pic_ack(p);
}

static void icw1(struct kvm_pic_state *s, uint8_t v)
{
	uint8_t irr = s->irr & s->elcr; /* level requests survive */
	uint8_t elcr = s->elcr, mask = s->elcr_mask;
	uint8_t sfnm = s->special_fully_nested_mode, aeoi = s->auto_eoi;
	memset(s, 0, sizeof(*s));
	s->elcr = elcr;
	s->elcr_mask = mask;
	s->irr = irr;
	s->init4 = v & 1;
	if (s->init4) { /* ICW4 will set these again */
		s->special_fully_nested_mode = sfnm;
		s->auto_eoi = aeoi;
	}
	s->init_state = 1;
}

static void ocw2(struct pic *p, struct kvm_pic_state *s, uint8_t v)
{
	int cmd = v >> 5, irq;
	switch (cmd) {
	case 0: /* rotate in auto-EOI mode: clear / set */
	case 4:
		s->rotate_on_auto_eoi = (uint8_t)(cmd >> 2);
		break;
	case 1: /* non-specific EOI (5: and rotate) */
	case 5: {
		int pri = get_priority(s, s->isr);
		if (pri == 8)
			break;
		irq = (pri + s->priority_add) & 7;
		if (cmd == 5)
			s->priority_add = (irq + 1) & 7;
		s->isr &= ~(1 << irq);
		break;
	}
	case 3: /* specific EOI */
		s->isr &= ~(1 << (v & 7));
		break;
	case 6: /* set priority */
		s->priority_add = (v + 1) & 7;
		break;
	case 7: /* rotate on specific EOI */
		irq = v & 7;
		s->priority_add = (irq + 1) & 7;
		s->isr &= ~(1 << irq);
		break;
	default:
		break;
	}
	update(p);
}

static void chip_write(struct pic *p, unsigned n, unsigned port, uint8_t v)
{
	struct kvm_pic_state *s = &p->chip[n];
	if (port == 0) {
		if (v & 0x10) {
			icw1(s, v);
			update(p);
		} else if (v & 0x08) { /* OCW3 */
			if (v & 0x04)
				s->poll = 1;
			if (v & 0x02)
				s->read_reg_select = v & 1;
			if (v & 0x40)
				s->special_mask = (v >> 5) & 1;
			update(p);
		} else {
			ocw2(p, s, v);
		}
		return;
	}
	switch (s->init_state) {
	case 1: /* ICW2 */
		s->irq_base = v & 0xf8;
		s->init_state = 2; /* ICW3 follows: the pair is always cascaded */
		break;
	case 2: /* ICW3: the wiring is fixed */
		s->init_state = s->init4 ? 3 : 0;
		break;
	case 3: /* ICW4 */
		s->special_fully_nested_mode = (v >> 4) & 1;
		s->auto_eoi = (v >> 1) & 1;
		s->init_state = 0;
		break;
	default: /* OCW1 */
		s->imr = v;
		update(p);
		break;
	}
}

/* Poll command: the next request is acknowledged by this read. */
static uint8_t poll_read(struct pic *p, unsigned n)
{
	struct kvm_pic_state *s = &p->chip[n];
	s->poll = 0;
	int irq = get_irq(p, s);
	if (irq < 0)
		return 0;
	intack(s, irq);
	if (n == 1) { /* the master's cascade input was acknowledged with it */
		p->chip[0].isr &= ~(1 << 2);
		p->chip[0].irr &= ~(1 << 2);
	}
	update(p);
	return (uint8_t)(0x80 | irq);
}

static uint8_t chip_read(struct pic *p, unsigned n, unsigned port)
{
	struct kvm_pic_state *s = &p->chip[n];
	if (s->poll)
		return poll_read(p, n);
	if (port == 0)
		return s->read_reg_select ? s->isr : s->irr;
	return s->imr;
}

static void port_read(struct pic *p, unsigned n, uint64_t off, uint8_t *data, unsigned size)
{
	memset(data, 0, size);
	if (!size || off > 1)
		return;
	pthread_mutex_lock(&p->lock);
	data[0] = chip_read(p, n, (unsigned)off);
	pthread_mutex_unlock(&p->lock);
}

static void port_write(struct pic *p, unsigned n, uint64_t off, const uint8_t *data, unsigned size)
{
	if (!size || off > 1)
		return;
	pthread_mutex_lock(&p->lock);
	chip_write(p, n, (unsigned)off, data[0]);
	pthread_mutex_unlock(&p->lock);
}

static void master_read(void *d, uint64_t off, uint8_t *data, unsigned size)
{
	port_read(d, 0, off, data, size);
}
static void master_write(void *d, uint64_t off, const uint8_t *data, unsigned size)
{
	port_write(d, 0, off, data, size);
}
static void slave_read(void *d, uint64_t off, uint8_t *data, unsigned size)
{
	port_read(d, 1, off, data, size);
}
static void slave_write(void *d, uint64_t off, const uint8_t *data, unsigned size)
{
	port_write(d, 1, off, data, size);
}

static void elcr_read(void *d, uint64_t off, uint8_t *data, unsigned size)
{
	struct pic *p = d;
	memset(data, 0, size);
	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < size && off + i < 2; i++)
		data[i] = p->chip[off + i].elcr;
	pthread_mutex_unlock(&p->lock);
}

static void elcr_write(void *d, uint64_t off, const uint8_t *data, unsigned size)
{
	struct pic *p = d;
	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < size && off + i < 2; i++) {
		struct kvm_pic_state *s = &p->chip[off + i];
		s->elcr = data[i] & s->elcr_mask;
	}
	update(p);
	pthread_mutex_unlock(&p->lock);
}

const struct io_ops pic_master_ops = {master_read, master_write};
const struct io_ops pic_slave_ops = {slave_read, slave_write};
const struct io_ops pic_elcr_ops = {elcr_read, elcr_write};

void pic_get_state(struct pic *p, struct kvm_pic_state *master, struct kvm_pic_state *slave)
{
	pthread_mutex_lock(&p->lock);
	*master = p->chip[0];
	*slave = p->chip[1];
	pthread_mutex_unlock(&p->lock);
}

static void sanitize(struct kvm_pic_state *s, uint8_t elcr_mask)
{
	s->elcr_mask = elcr_mask;
	s->elcr &= elcr_mask;
	s->priority_add &= 7;
	s->irq_base &= 0xf8;
	if (s->init_state > 3)
		s->init_state = 0;
	s->read_reg_select &= 1;
	s->poll &= 1;
	s->special_mask &= 1;
	s->auto_eoi &= 1;
	s->rotate_on_auto_eoi &= 1;
	s->special_fully_nested_mode &= 1;
	s->init4 &= 1;
}

void pic_set_state(struct pic *p, const struct kvm_pic_state *master,
                   const struct kvm_pic_state *slave)
{
	pthread_mutex_lock(&p->lock);
	p->chip[0] = *master;
	p->chip[1] = *slave;
	sanitize(&p->chip[0], 0xf8);
	sanitize(&p->chip[1], 0xde);
	update(p);
	pthread_mutex_unlock(&p->lock);
}
