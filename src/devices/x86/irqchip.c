/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/x86/irqchip.h"

#include <stdlib.h>

int x86_irqchip_create(struct x86_irqchip **out, unsigned ncpus, const struct x86_clock *clock,
                       const struct lapic_cpu_ops *ops, void *const *cpus, struct err *e)
{
	*out = NULL;
	if (ncpus == 0 || ncpus >= APIC_BUS_MAX)
		return err_set(e, ERR_INPUT, "%u vCPUs: the APIC bus takes 1 to %u", ncpus,
		               APIC_BUS_MAX - 1);
	struct x86_irqchip *c = calloc(1, sizeof(*c));
	if (!c)
		return err_sys(e, "allocating the interrupt controllers");
	c->lapic = calloc(ncpus, sizeof(*c->lapic));
	if (!c->lapic) {
		free(c);
		return err_sys(e, "allocating %u local APICs", ncpus);
	}
	if (dev_timers_init(&c->timers, e)) {
		free(c->lapic);
		free(c);
		return -1;
	}
	c->ncpus = ncpus;
	apic_bus_init(&c->bus);
	for (unsigned i = 0; i < ncpus; i++)
		lapic_init(&c->lapic[i], &c->bus, i, &c->timers, clock, ops, cpus ? cpus[i] : NULL);
	/* the MP table gives the I/O APIC the ID after the last CPU */
	ioapic_init(&c->ioapic, &c->bus, ncpus);
	apic_bus_set_ioapic(&c->bus, ioapic_eoi, &c->ioapic);
	pic_init(&c->pic, apic_bus_pic_intr, &c->bus);
	apic_bus_set_pic(&c->bus, pic_ack_cb, &c->pic);
	x86_irq_router_init(&c->router, &c->pic, &c->ioapic);
	struct irq_line irq0 = x86_irq_line(&c->router, 0);
	pit_init(&c->pit, &irq0, &c->timers);
	*out = c;
	return 0;
}

int x86_irqchip_start(struct x86_irqchip *c, struct err *e)
{
	return dev_timers_start(&c->timers, e);
}

void x86_irqchip_destroy(struct x86_irqchip *c)
{
	if (!c)
		return;
	dev_timers_stop(&c->timers);
	pit_destroy(&c->pit);
	pic_destroy(&c->pic);
	ioapic_destroy(&c->ioapic);
	for (unsigned i = 0; i < c->ncpus; i++)
		lapic_destroy(&c->lapic[i]);
	dev_timers_destroy(&c->timers);
	free(c->lapic);
	free(c);
}

size_t x86_irqchip_ranges(struct x86_irqchip *c, struct x86_irqchip_range *out, size_t cap)
{
	const struct x86_irqchip_range all[] = {
	    {PIC_MASTER_PORT, 2, 0, &pic_master_ops, &c->pic},
	    {PIC_SLAVE_PORT, 2, 0, &pic_slave_ops, &c->pic},
	    {PIC_ELCR_PORT, 2, 0, &pic_elcr_ops, &c->pic},
	    {PIT_PORT, 4, 0, &pit_ops, &c->pit},
	    {PIT_SPEAKER_PORT, 1, 0, &pit_speaker_ops, &c->pit},
	    {IOAPIC_BASE, IOAPIC_SIZE, 1, &ioapic_ops, &c->ioapic},
	};
	size_t n = sizeof(all) / sizeof(all[0]);
	if (n > cap)
		n = cap;
	for (size_t i = 0; i < n; i++)
		out[i] = all[i];
	return n;
}

void x86_irqchip_get_state(struct x86_irqchip *c, struct x86_irqchip_state *s)
{
	pic_get_state(&c->pic, &s->pic[0], &s->pic[1]);
	ioapic_get_state(&c->ioapic, &s->ioapic);
	pit_get_state(&c->pit, &s->pit);
}

void x86_irqchip_set_state(struct x86_irqchip *c, const struct x86_irqchip_state *s)
{
	pic_set_state(&c->pic, &s->pic[0], &s->pic[1]);
	ioapic_set_state(&c->ioapic, &s->ioapic);
	pit_set_state(&c->pit, &s->pit);
}
