/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/x86/irq.h"

#define ISA_IRQS    16
#define PIC_CASCADE 2

void x86_irq_router_init(struct x86_irq_router *r, struct pic *pic, struct ioapic *ioapic)
{
	r->pic = pic;
	r->ioapic = ioapic;
}

void x86_irq_set_level(void *router, unsigned line, int level)
{
	struct x86_irq_router *r = router;
	if (line >= X86_IRQ_LINES)
		return;
	if (r->pic && line < ISA_IRQS && line != PIC_CASCADE)
		pic_set_irq(r->pic, line, level);
	if (r->ioapic)
		ioapic_set_irq(r->ioapic, line, level); /* identity, as in the MP table */
}
