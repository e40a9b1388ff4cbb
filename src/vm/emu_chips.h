/* The PC chipset that the software CPU's machine needs and KVM keeps in the
 * kernel: 8259 PIC pair, 8254 PIT (with port 0x61), I/O APIC, the APIC bus
 * that joins them to the vCPUs' local APICs, the IRQ router, the guest TSC
 * clock and the timer thread that fires the timers. The chips themselves
 * are device models in src/devices/x86; this is their assembly into one
 * machine, on the VM's buses. */
#ifndef CAPSA_VM_EMU_CHIPS_H
#define CAPSA_VM_EMU_CHIPS_H

#include "devices/x86/clock.h"
#include "devices/x86/ioapic.h"
#include "devices/x86/irq.h"
#include "devices/x86/lapic.h"
#include "devices/x86/pic.h"
#include "devices/x86/pit.h"
#include "devices/x86/timers.h"
#include "lib/err.h"
#include "vm/iobus.h"

/* The guest TSC frequency the software CPU advertises (CPUID 0x15/0x16). */
#define EMU_TSC_KHZ 2000000ULL

struct emu_chips {
	struct x86_clock clock;
	struct dev_timers timers;
	struct apic_bus bus;
	struct ioapic ioapic;
	struct pic pic;
	struct pit pit;
	struct x86_irq_router router;
	int inited;
};

/* Builds the chipset for `ncpus` vCPUs (the I/O APIC's ID is ncpus, as the
 * MP table says), registers it on the buses and starts the timer thread. */
int emu_chips_init(struct emu_chips *c, unsigned ncpus, struct iobus *pio, struct iobus *mmio,
                   struct err *e);
/* Stops the timer thread; then the chips and the vCPUs' LAPICs may go. */
void emu_chips_stop(struct emu_chips *c);
void emu_chips_destroy(struct emu_chips *c);

#endif
