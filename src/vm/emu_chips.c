#include "vm/emu_chips.h"

#include "vm/x86/layout.h"

#include <string.h>

int emu_chips_init(struct emu_chips *c, unsigned ncpus, struct iobus *pio, struct iobus *mmio,
                   struct err *e)
{
	memset(c, 0, sizeof(*c));
	x86_clock_init(&c->clock, EMU_TSC_KHZ, 0);
	if (dev_timers_init(&c->timers, e))
		return -1;
	apic_bus_init(&c->bus);
	ioapic_init(&c->ioapic, &c->bus, ncpus);
	pic_init(&c->pic, apic_bus_pic_intr, &c->bus);
	apic_bus_set_ioapic(&c->bus, ioapic_eoi, &c->ioapic);
	apic_bus_set_pic(&c->bus, pic_ack_cb, &c->pic);
	x86_irq_router_init(&c->router, &c->pic, &c->ioapic);
	struct irq_line irq0 = x86_irq_line(&c->router, 0);
	pit_init(&c->pit, &irq0, &c->timers);
	c->inited = 1;
	/* The chips lock themselves: no bus lock. */
	if (iobus_register(pio, PIC_MASTER_PORT, 2, &pic_master_ops, &c->pic, NULL, e) ||
	    iobus_register(pio, PIC_SLAVE_PORT, 2, &pic_slave_ops, &c->pic, NULL, e) ||
	    iobus_register(pio, PIC_ELCR_PORT, 2, &pic_elcr_ops, &c->pic, NULL, e) ||
	    iobus_register(pio, PIT_PORT, 4, &pit_ops, &c->pit, NULL, e) ||
	    iobus_register(pio, PIT_SPEAKER_PORT, 1, &pit_speaker_ops, &c->pit, NULL, e) ||
	    iobus_register(mmio, LAYOUT_IOAPIC, IOAPIC_SIZE, &ioapic_ops, &c->ioapic, NULL, e))
		return err_prefix(e, "software CPU chipset");
	return dev_timers_start(&c->timers, e);
}

void emu_chips_stop(struct emu_chips *c)
{
	if (c->inited)
		dev_timers_stop(&c->timers);
}

void emu_chips_destroy(struct emu_chips *c)
{
	if (!c->inited)
		return;
	dev_timers_stop(&c->timers);
	pit_destroy(&c->pit);
	pic_destroy(&c->pic);
	ioapic_destroy(&c->ioapic);
	dev_timers_destroy(&c->timers);
	c->inited = 0;
}
