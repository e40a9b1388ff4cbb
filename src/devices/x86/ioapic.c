/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/x86/ioapic.h"

#include <string.h>

#define REG_ID      0x00
#define REG_VERSION 0x01
#define REG_ARB     0x02
#define REG_REDIR   0x10

#define IOWIN_OFF 0x10
#define VERSION   (0x11u | ((IOAPIC_PINS - 1u) << 16))

#define RT_DELIVERY_STATUS (1ull << 12)
#define RT_REMOTE_IRR      (1ull << 14)
#define RT_LEVEL           (1ull << 15)
#define RT_MASKED          (1ull << 16)
/* writable bits: vector, mode, dest mode, polarity, trigger, mask, dest */
#define RT_WRITABLE (0xff000000000000ffull | 0x700 | 0x800 | 0x2000 | RT_LEVEL | RT_MASKED)

static void service(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->redir[pin];
	if (!(io->irr & (1u << pin)) || (e & RT_MASKED))
		return;
	int level = (e & RT_LEVEL) != 0;
	if (level && (e & RT_REMOTE_IRR))
		return; /* the previous one has not been EOIed yet */
	struct apic_msg m = {
	    .vector = (uint8_t)e,
	    .delivery = (e >> 8) & 7,
	    .logical = (e >> 11) & 1,
	    .level = 1,
	    .trigger = (uint8_t)level,
	    .dest = (uint8_t)(e >> 56),
	};
	if (level)
		io->redir[pin] |= RT_REMOTE_IRR;
	else
		io->irr &= ~(1u << pin);
	io->delivered++;
	apic_bus_deliver(io->bus, &m, NULL);
}

void ioapic_init(struct ioapic *io, struct apic_bus *bus, unsigned id)
{
	memset(io, 0, sizeof(*io));
	pthread_mutex_init(&io->lock, NULL);
	io->bus = bus;
	io->id = id & 0xf;
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		io->redir[i] = RT_MASKED;
}

void ioapic_destroy(struct ioapic *io)
{
	pthread_mutex_destroy(&io->lock);
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, int level)
{
	if (pin >= IOAPIC_PINS)
		return;
	uint32_t bit = 1u << pin;
	pthread_mutex_lock(&io->lock);
	int old = (io->level & bit) != 0;
	level = level != 0;
	if (level)
		io->level |= bit;
	else
		io->level &= ~bit;
	if (io->redir[pin] & RT_LEVEL) {
		if (level) {
			io->irr |= bit;
			service(io, pin);
		} else {
			io->irr &= ~bit;
		}
	} else if (level && !old) {
		io->irr |= bit;
		service(io, pin);
	}
	pthread_mutex_unlock(&io->lock);
}

void ioapic_eoi(void *ctx, uint8_t vector)
{
	struct ioapic *io = ctx;
	pthread_mutex_lock(&io->lock);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t e = io->redir[pin];
		if ((uint8_t)e != vector || !(e & RT_LEVEL) || !(e & RT_REMOTE_IRR))
			continue;
		io->redir[pin] &= ~RT_REMOTE_IRR;
		service(io, pin); /* still asserted: deliver again */
	}
	pthread_mutex_unlock(&io->lock);
}

static uint32_t read_reg(const struct ioapic *io)
{
	unsigned r = io->ioregsel & 0xff;
	switch (r) {
	case REG_ID:
	case REG_ARB:
		return io->id << 24;
	case REG_VERSION:
		return VERSION;
	default:
		if (r >= REG_REDIR && r < REG_REDIR + 2 * IOAPIC_PINS) {
			uint64_t e = io->redir[(r - REG_REDIR) / 2];
			return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
		}
		return 0xffffffffu;
	}
}

static void write_reg(struct ioapic *io, uint32_t v)
{
	unsigned r = io->ioregsel & 0xff;
	if (r == REG_ID) {
		io->id = (v >> 24) & 0xf;
		return;
	}
	if (r < REG_REDIR || r >= REG_REDIR + 2 * IOAPIC_PINS)
		return;
	unsigned pin = (r - REG_REDIR) / 2;
	uint64_t e = io->redir[pin];
	uint64_t ro = e & (RT_DELIVERY_STATUS | RT_REMOTE_IRR);
	if (r & 1)
		e = (e & 0xffffffffull) | ((uint64_t)v << 32);
	else
		e = (e & ~0xffffffffull) | v;
	e = (e & RT_WRITABLE) | ro;
	if (!(e & RT_LEVEL))
		e &= ~RT_REMOTE_IRR;
	io->redir[pin] = e;
	/* a level line that is still asserted, or an edge that arrived while
	 * masked, is delivered now that the entry allows it */
	if (e & RT_LEVEL) {
		if (io->level & (1u << pin))
			io->irr |= 1u << pin;
		else
			io->irr &= ~(1u << pin);
	}
	service(io, pin);
}

void ioapic_mmio_read(struct ioapic *io, uint64_t off, uint8_t *data, unsigned size)
{
	memset(data, 0, size);
	uint32_t v = 0;
	pthread_mutex_lock(&io->lock);
	if (off < 4)
		v = io->ioregsel;
	else if (off >= IOWIN_OFF && off < IOWIN_OFF + 4)
		v = read_reg(io);
	pthread_mutex_unlock(&io->lock);
	unsigned within = (unsigned)(off & 3);
	for (unsigned i = 0; i < size && within + i < 4; i++)
		data[i] = (uint8_t)(v >> (8 * (within + i)));
}

void ioapic_mmio_write(struct ioapic *io, uint64_t off, const uint8_t *data, unsigned size)
{
	if (size == 0 || (off != 0 && off != IOWIN_OFF))
		return;
	uint32_t v = 0;
	memcpy(&v, data, size < 4 ? size : 4);
	pthread_mutex_lock(&io->lock);
	if (off == 0)
		io->ioregsel = v & 0xff;
	else if (size == 4)
		write_reg(io, v);
	pthread_mutex_unlock(&io->lock);
}

static void ops_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	ioapic_mmio_read(dev, off, data, size);
}

static void ops_write(void *dev, uint64_t off, const uint8_t *data, unsigned size)
{
	ioapic_mmio_write(dev, off, data, size);
}

const struct io_ops ioapic_ops = {ops_read, ops_write};

void ioapic_get_state(struct ioapic *io, struct kvm_ioapic_state *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&io->lock);
	s->base_address = IOAPIC_BASE;
	s->ioregsel = io->ioregsel;
	s->id = io->id;
	s->irr = io->irr;
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		s->redirtbl[i].bits = io->redir[i];
	pthread_mutex_unlock(&io->lock);
}

void ioapic_set_state(struct ioapic *io, const struct kvm_ioapic_state *s)
{
	pthread_mutex_lock(&io->lock);
	io->ioregsel = s->ioregsel & 0xff;
	io->id = s->id & 0xf;
	io->irr = s->irr & ((1u << IOAPIC_PINS) - 1);
	io->level = 0;
	for (unsigned i = 0; i < IOAPIC_PINS; i++) {
		io->redir[i] = s->redirtbl[i].bits & (RT_WRITABLE | RT_REMOTE_IRR);
		if ((io->redir[i] & RT_LEVEL) && (io->irr & (1u << i)))
			io->level |= 1u << i;
	}
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		service(io, i);
	pthread_mutex_unlock(&io->lock);
}
