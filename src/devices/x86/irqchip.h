/* SPDX-License-Identifier: Apache-2.0 */
/* All interrupt controllers and timers of one software-CPU VM in one
 * object, wired as a PC with capsa's MP table: a local APIC per vCPU on
 * the APIC bus, the I/O APIC (ID = number of vCPUs, as the MP table says),
 * the 8259 pair driving the BSP's LINT0, the 8254 PIT on IRQ 0, the IRQ
 * router and the device timer thread. KVM VMs do not use it (KVM keeps its
 * in-kernel chips).
 *
 * How the VM wires it (after this, devices need nothing else):
 *   1. x86_irqchip_create(&c, ncpus, clock, &ops, cpus, e): `ops` are the
 *      vCPU callbacks (lapic.h), cpus[i] their context for vCPU i.
 *   2. for each entry of x86_irqchip_ranges(): iobus_register on the port
 *      or MMIO bus with lock NULL (every model locks itself); the local
 *      APIC page is not in that list: it is per vCPU, see 4.
 *   3. devices get their interrupt lines from x86_irqchip_line(c, n).
 *   4. the vCPU glue: an MMIO access in [LAPIC_BASE, +LAPIC_SIZE) from vCPU
 *      i goes to lapic_mmio_read/write(&c->lapic[i], gpa - LAPIC_BASE...);
 *      the CPU's msr callback calls lapic_msr(&c->lapic[i], ...); its
 *      intr_ack callback lapic_ack(&c->lapic[i]); MOV CR8 uses
 *      lapic_set_tpr/lapic_get_tpr (CR8 = TPR >> 4); a halted vCPU may
 *      sleep while !lapic_pending(&c->lapic[i]) and no NMI/INIT/SIPI came.
 *   5. x86_irqchip_start (the timer thread) before the vCPUs run;
 *      x86_irqchip_destroy after they stopped (it stops the thread first).
 * State: x86_irqchip_get_state/set_state give the PIC, I/O APIC and PIT in
 * KVM's layouts; each vCPU's LAPIC page goes with lapic_get_state/
 * lapic_set_state and its APIC base / TSC deadline MSRs with lapic_msr. */
#ifndef CAPSA_DEVICES_X86_IRQCHIP_H
#define CAPSA_DEVICES_X86_IRQCHIP_H

#include "devices/x86/ioapic.h"
#include "devices/x86/irq.h"
#include "devices/x86/lapic.h"
#include "devices/x86/pic.h"
#include "devices/x86/pit.h"
#include "devices/x86/timers.h"
#include "lib/err.h"

#include <linux/kvm.h>
#include <stddef.h>

struct x86_irqchip {
	struct dev_timers timers;
	struct apic_bus bus;
	struct ioapic ioapic;
	struct pic pic;
	struct pit pit;
	struct x86_irq_router router;
	unsigned ncpus;
	struct lapic *lapic; /* [ncpus] */
};

struct x86_irqchip_range {
	uint64_t base, len;
	int mmio; /* 0: port I/O */
	const struct io_ops *ops;
	void *dev;
};

struct x86_irqchip_state {
	struct kvm_pic_state pic[2]; /* master, slave */
	struct kvm_ioapic_state ioapic;
	struct kvm_pit_state2 pit;
};

int x86_irqchip_create(struct x86_irqchip **out, unsigned ncpus, const struct x86_clock *clock,
                       const struct lapic_cpu_ops *ops, void *const *cpus, struct err *e);
int x86_irqchip_start(struct x86_irqchip *c, struct err *e);
void x86_irqchip_destroy(struct x86_irqchip *c);

/* The ranges to register (ports 0x20, 0xa0, 0x4d0, 0x40, 0x61 and the I/O
 * APIC page); returns how many were written (at most cap). */
size_t x86_irqchip_ranges(struct x86_irqchip *c, struct x86_irqchip_range *out, size_t cap);

static inline struct irq_line x86_irqchip_line(struct x86_irqchip *c, unsigned n)
{
	return x86_irq_line(&c->router, n);
}

void x86_irqchip_get_state(struct x86_irqchip *c, struct x86_irqchip_state *s);
void x86_irqchip_set_state(struct x86_irqchip *c, const struct x86_irqchip_state *s);

#endif
