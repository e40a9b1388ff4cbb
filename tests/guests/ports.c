/* SPDX-License-Identifier: Apache-2.0 */
/* test=ports: what port and MMIO accesses to emulated and unassigned addresses return. */
#include "guest.h"
#include "io.h"

#define UNASSIGNED_PORT 0x300
#define UNASSIGNED_MMIO 0xd0000000ul

static uint8_t cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static int is_bcd(uint8_t v, uint8_t max)
{
	return (v & 0x0f) <= 9 && (v >> 4) <= 9 && ((v >> 4) * 10 + (v & 0x0f)) <= max;
}

void test_ports(void)
{
	gprintf("port 0x%x inb: 0x%02x\n", UNASSIGNED_PORT, inb(UNASSIGNED_PORT));
	gprintf("port 0x%x inw: 0x%04x\n", UNASSIGNED_PORT, inw(UNASSIGNED_PORT));
	gprintf("port 0x%x inl: 0x%08x\n", UNASSIGNED_PORT, inl(UNASSIGNED_PORT));

	/* PCI configuration mechanism #1, bus 0 device 0 function 0, register 0. */
	outl(0xcf8, 0x80000000u);
	gprintf("pci 00:00.0 id: 0x%08x\n", inl(0xcfc));
	outl(0xcf8, 0x8000f800u); /* 00:1f.0 */
	gprintf("pci 00:1f.0 id: 0x%08x\n", inl(0xcfc));

	uint8_t a = cmos(0x0a), b = cmos(0x0b), d = cmos(0x0d);
	uint8_t s = cmos(0x00), m = cmos(0x02), h = cmos(0x04);
	gprintf("rtc status a: 0x%02x\n", a);
	gprintf("rtc status b: 0x%02x\n", b);
	gprintf("rtc status d: 0x%02x\n", d);
	gprintf("rtc time: %02x:%02x:%02x\n", h, m, s);
	int bcd = !(b & 0x04);
	int ok = bcd ? is_bcd(s, 59) && is_bcd(m, 59) && is_bcd(h & 0x7f, 23)
	             : s <= 59 && m <= 59 && (h & 0x7f) <= 23;
	gprintf("rtc time valid: %s (%s)\n", ok ? "yes" : "no", bcd ? "bcd" : "binary");

	outb(COM1_PORT + 7, 0x5a);
	uint8_t s1 = inb(COM1_PORT + 7);
	outb(COM1_PORT + 7, 0xa5);
	uint8_t s2 = inb(COM1_PORT + 7);
	gprintf("uart scratch: 0x%02x 0x%02x\n", s1, s2);

	gprintf("mmio 0x%lx read: 0x%08x\n", UNASSIGNED_MMIO, mmio_read32(UNASSIGNED_MMIO));
	mmio_write32(UNASSIGNED_MMIO, 0x12345678u);
	gprintf("mmio 0x%lx after write: 0x%08x\n", UNASSIGNED_MMIO, mmio_read32(UNASSIGNED_MMIO));
	guest_exit(0);
}
