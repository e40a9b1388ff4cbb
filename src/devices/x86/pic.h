/* SPDX-License-Identifier: Apache-2.0 */
/* The two cascaded 8259A PICs of a PC (master at 0x20/0x21, slave at
 * 0xa0/0xa1 on the master's IRQ 2) and the PIIX edge/level control
 * registers (ELCR, 0x4d0/0x4d1), for the software CPU. Modelled: ICW1-ICW4,
 * OCW1 (mask), OCW2 (non-specific/specific EOI, rotations, set priority),
 * OCW3 (read IRR/ISR, poll mode, special mask mode), auto-EOI, special
 * fully nested mode, edge and level triggering through ELCR. Not modelled:
 * single (non-cascaded) mode and 8080 call-address mode (ignored, as in
 * KVM). Linux uses the PIC briefly at boot and then masks it.
 *
 * Wiring: pic_init(p, intr, ctx): `intr(ctx, level)` is the master's INTR
 * output; connect it to the BSP's LINT0 with apic_bus_pic_intr(bus) and
 * apic_bus_set_pic(bus, pic_ack_cb, p) so that the LAPIC acknowledges
 * ExtINT interrupts here. Register pic_master_ops (PIC_MASTER_PORT, 2),
 * pic_slave_ops (PIC_SLAVE_PORT, 2) and pic_elcr_ops (PIC_ELCR_PORT, 2),
 * all with the struct pic as device and lock NULL (it locks itself).
 *
 * Locking: one mutex; `intr` is called with it held (lock order PIC ->
 * LAPIC). State in KVM's struct kvm_pic_state layout (master and slave). */
#ifndef CAPSA_DEVICES_X86_PIC_H
#define CAPSA_DEVICES_X86_PIC_H

#include "devices/device.h"

#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>

#define PIC_MASTER_PORT 0x20
#define PIC_SLAVE_PORT  0xa0
#define PIC_ELCR_PORT   0x4d0

struct pic {
	pthread_mutex_t lock;
	struct kvm_pic_state chip[2]; /* 0 master, 1 slave */
	void (*intr)(void *ctx, int level);
	void *intr_ctx;
	int output; /* last INTR level given to `intr` */
};

void pic_init(struct pic *p, void (*intr)(void *ctx, int level), void *ctx);
void pic_destroy(struct pic *p);
/* ISA IRQ 0-15 input level (edge or level per ELCR); others ignored. */
void pic_set_irq(struct pic *p, unsigned irq, int level);
/* INTA cycle: the vector of the highest-priority request (moved to
 * service), or the spurious vector (IRQ 7 of the master or slave). */
int pic_ack(struct pic *p);
int pic_ack_cb(void *p); /* the same, for apic_bus_set_pic */

extern const struct io_ops pic_master_ops, pic_slave_ops, pic_elcr_ops;

void pic_get_state(struct pic *p, struct kvm_pic_state *master, struct kvm_pic_state *slave);
void pic_set_state(struct pic *p, const struct kvm_pic_state *master,
                   const struct kvm_pic_state *slave);

#endif
