/* SPDX-License-Identifier: Apache-2.0 */
/* I/O APIC (82093AA-style, version 0x11, 24 pins) at 0xfec00000 for the
 * software CPU: IOREGSEL at offset 0x00, IOWIN at 0x10; registers ID,
 * version, arbitration and the redirection table (vector, fixed/lowest
 * priority/NMI/INIT/ExtINT delivery, physical/logical destination,
 * edge/level trigger with Remote-IRR, mask). Pin polarity is recorded but
 * not applied: levels given to ioapic_set_irq are logical (asserted = 1),
 * as in KVM. An edge that arrives while its pin is masked stays pending in
 * IRR and is delivered when the pin is unmasked (KVM and QEMU do the same).
 *
 * Wiring: ioapic_init(io, bus, id) with the MP table's I/O APIC ID, then
 * apic_bus_set_ioapic(bus, ioapic_eoi, io) so that LAPIC EOIs of
 * level-triggered vectors clear Remote-IRR. Register ioapic_ops at
 * IOAPIC_BASE with length IOAPIC_SIZE and lock NULL (it locks itself).
 * Lines are raised through the IRQ router (irq.h) or ioapic_set_irq.
 *
 * Locking: one mutex; deliveries to LAPICs are made with it held (lock
 * order I/O APIC -> LAPIC); ioapic_eoi is called by LAPICs without their
 * locks. State in KVM's struct kvm_ioapic_state layout. */
#ifndef CAPSA_DEVICES_X86_IOAPIC_H
#define CAPSA_DEVICES_X86_IOAPIC_H

#include "devices/device.h"
#include "devices/x86/lapic.h"

#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>

#define IOAPIC_BASE 0xfec00000ULL
#define IOAPIC_SIZE 0x1000
#define IOAPIC_PINS 24

struct ioapic {
	pthread_mutex_t lock;
	struct apic_bus *bus;
	uint32_t ioregsel;
	uint32_t id;    /* 4-bit I/O APIC ID */
	uint32_t irr;   /* edge: pending; level: line asserted */
	uint32_t level; /* current line levels, for edge detection */
	uint64_t redir[IOAPIC_PINS];
	uint64_t delivered; /* messages sent (statistics, tests) */
};

void ioapic_init(struct ioapic *io, struct apic_bus *bus, unsigned id);
void ioapic_destroy(struct ioapic *io);
/* Pins >= IOAPIC_PINS are ignored. */
void ioapic_set_irq(struct ioapic *io, unsigned pin, int level);
/* apic_bus EOI callback (ctx: struct ioapic). */
void ioapic_eoi(void *io, uint8_t vector);

void ioapic_mmio_read(struct ioapic *io, uint64_t off, uint8_t *data, unsigned size);
void ioapic_mmio_write(struct ioapic *io, uint64_t off, const uint8_t *data, unsigned size);
extern const struct io_ops ioapic_ops; /* device context: struct ioapic */

void ioapic_get_state(struct ioapic *io, struct kvm_ioapic_state *s);
void ioapic_set_state(struct ioapic *io, const struct kvm_ioapic_state *s);

#endif
