/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/x86/mptable.h"

#include "vm/x86/layout.h"

#include <string.h>

#define MP_PROCESSOR 0
#define MP_BUS       1
#define MP_IOAPIC    2
#define MP_INTSRC    3
#define MP_LINTSRC   4

#define MP_IRQ_INT    0
#define MP_IRQ_NMI    1
#define MP_IRQ_EXTINT 3

#define ISA_IRQS 16

struct mp_float {
	char signature[4];
	uint32_t physptr;
	uint8_t length;
	uint8_t specrev;
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mp_config {
	char signature[4];
	uint16_t length;
	uint8_t specrev;
	uint8_t checksum;
	char oem[8];
	char product[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t count;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mp_cpu {
	uint8_t type, apicid, apicver, cpuflag;
	uint32_t signature, features;
	uint32_t reserved[2];
} __attribute__((packed));

struct mp_bus {
	uint8_t type, busid;
	char bustype[6];
} __attribute__((packed));

struct mp_ioapic {
	uint8_t type, apicid, apicver, flags;
	uint32_t addr;
} __attribute__((packed));

struct mp_irq {
	uint8_t type, irqtype;
	uint16_t irqflag;
	uint8_t srcbus, srcbusirq, dstapic, dstirq;
} __attribute__((packed));

_Static_assert(sizeof(struct mp_float) == 16, "mp_float");
_Static_assert(sizeof(struct mp_config) == 44, "mp_config");
_Static_assert(sizeof(struct mp_cpu) == 20, "mp_cpu");
_Static_assert(sizeof(struct mp_irq) == 8, "mp_irq");

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s += *p++;
	return (uint8_t)-s;
}

size_t mptable_build(uint8_t *buf, size_t cap, uint64_t gpa, unsigned ncpus, uint32_t cpu_signature,
                     uint32_t cpu_features)
{
	if (ncpus == 0 || ncpus > MPTABLE_MAX_CPUS)
		return 0;
	size_t need = sizeof(struct mp_float) + sizeof(struct mp_config) +
	              ncpus * sizeof(struct mp_cpu) + sizeof(struct mp_bus) +
	              sizeof(struct mp_ioapic) + (ISA_IRQS + 2) * sizeof(struct mp_irq);
	if (cap < need || gpa + need > 0xffffffffULL)
		return 0;
	memset(buf, 0, need);

	struct mp_float *mf = (struct mp_float *)buf;
	struct mp_config *mc = (struct mp_config *)(buf + sizeof(*mf));
	uint8_t *p = (uint8_t *)(mc + 1);
	uint16_t count = 0;
	uint8_t ioapic_id = (uint8_t)ncpus;

	for (unsigned i = 0; i < ncpus; i++) {
		struct mp_cpu *c = (struct mp_cpu *)p;
		c->type = MP_PROCESSOR;
		c->apicid = (uint8_t)i;
		c->apicver = 0x14;
		c->cpuflag = 1 | (i == 0 ? 2 : 0); /* enabled, BSP */
		c->signature = cpu_signature;
		c->features = cpu_features;
		p += sizeof(*c);
		count++;
	}
	struct mp_bus *bus = (struct mp_bus *)p;
	bus->type = MP_BUS;
	bus->busid = 0;
	memcpy(bus->bustype, "ISA   ", 6);
	p += sizeof(*bus);
	count++;

	struct mp_ioapic *io = (struct mp_ioapic *)p;
	io->type = MP_IOAPIC;
	io->apicid = ioapic_id;
	io->apicver = 0x11;
	io->flags = 1;
	io->addr = (uint32_t)LAYOUT_IOAPIC;
	p += sizeof(*io);
	count++;

	/* ISA IRQ n is wired to I/O APIC pin n (KVM's default GSI routing). */
	for (unsigned irq = 0; irq < ISA_IRQS; irq++) {
		struct mp_irq *e = (struct mp_irq *)p;
		e->type = MP_INTSRC;
		e->irqtype = MP_IRQ_INT;
		e->irqflag = 0; /* conforms to the bus: edge, active high */
		e->srcbus = 0;
		e->srcbusirq = (uint8_t)irq;
		e->dstapic = ioapic_id;
		e->dstirq = (uint8_t)irq;
		p += sizeof(*e);
		count++;
	}
	/* LINT0 takes the PIC's ExtINT, LINT1 the NMI, on every local APIC. */
	for (unsigned lint = 0; lint < 2; lint++) {
		struct mp_irq *e = (struct mp_irq *)p;
		e->type = MP_LINTSRC;
		e->irqtype = lint == 0 ? MP_IRQ_EXTINT : MP_IRQ_NMI;
		e->srcbus = 0;
		e->srcbusirq = 0;
		e->dstapic = 0xff;
		e->dstirq = (uint8_t)lint;
		p += sizeof(*e);
		count++;
	}

	memcpy(mc->signature, "PCMP", 4);
	mc->length = (uint16_t)(p - (uint8_t *)mc);
	mc->specrev = 4;
	memcpy(mc->oem, "CAPSA   ", 8);
	memcpy(mc->product, "CAPSA VM    ", 12);
	mc->count = count;
	mc->lapic = (uint32_t)LAYOUT_LAPIC;
	mc->checksum = checksum((uint8_t *)mc, mc->length);

	memcpy(mf->signature, "_MP_", 4);
	mf->physptr = (uint32_t)(gpa + sizeof(*mf));
	mf->length = 1;
	mf->specrev = 4;
	mf->checksum = checksum((uint8_t *)mf, sizeof(*mf));
	return (size_t)(p - buf);
}
