/* SPDX-License-Identifier: Apache-2.0 */
/* The IRQ router of the software CPU's machine: one call sets the level of
 * interrupt line N and feeds both interrupt controllers, wired as the MP
 * table capsa builds (src/vm/x86/mptable.c) says: ISA IRQ n (0-15) goes to
 * the master/slave 8259 input n and to I/O APIC pin n (IRQ 0, the PIT, is
 * pin 0: the table has no override to pin 2); lines 16-23 go to the I/O
 * APIC only. IRQ 2 is the PIC's cascade input and reaches the I/O APIC
 * only. Each line has one source (no wired-OR of several devices).
 *
 * Device models keep raising lines through `struct irq_line`
 * (devices/device.h): under the software CPU the VM gives them
 * x86_irq_line(router, n), whose set_level is x86_irq_set_level. It takes
 * the PIC's and the I/O APIC's locks, so a device may call it with its own
 * lock held (order: device -> PIC / I/O APIC -> LAPIC). */
#ifndef CAPSA_DEVICES_X86_IRQ_H
#define CAPSA_DEVICES_X86_IRQ_H

#include "devices/device.h"
#include "devices/x86/ioapic.h"
#include "devices/x86/pic.h"

#define X86_IRQ_LINES 24

struct x86_irq_router {
	struct pic *pic;       /* may be NULL */
	struct ioapic *ioapic; /* may be NULL */
};

void x86_irq_router_init(struct x86_irq_router *r, struct pic *pic, struct ioapic *ioapic);
/* irq_line callback: ctx is the router; lines >= X86_IRQ_LINES are ignored. */
void x86_irq_set_level(void *router, unsigned line, int level);

static inline struct irq_line x86_irq_line(struct x86_irq_router *r, unsigned line)
{
	struct irq_line l = {x86_irq_set_level, r, line};
	return l;
}

#endif
