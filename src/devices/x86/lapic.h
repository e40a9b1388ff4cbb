/* SPDX-License-Identifier: Apache-2.0 */
/* Local APIC (xAPIC mode) for vCPUs run by the software CPU, and the "APIC
 * bus" that connects the local APICs of a VM with each other (IPIs), with
 * the I/O APIC (deliveries in, EOIs out) and with the 8259 PIC (ExtINT on
 * the BSP's LINT0). KVM keeps its in-kernel APIC; this is the user-space
 * one with the same register page, so state moves between accelerators.
 *
 * What is modelled: the register page at 0xfee00000 (ID, version 0x14 with
 * 7 LVT entries and no directed EOI, TPR/APR/PPR, EOI, LDR/DFR, SVR,
 * ISR/TMR/IRR, ESR, ICR, the LVTs incl. CMCI, timer with divide, initial
 * and current count); the timer in one-shot, periodic and TSC-deadline
 * mode, counting at 1 GHz / divide (the TSC-deadline MSR 0x6e0 goes
 * through lapic_msr); IPIs through the ICR (fixed, lowest priority, NMI,
 * INIT, start-up; shorthands self, all, all-but-self; physical and logical
 * flat/cluster destinations); LINT0 as ExtINT or fixed, LINT1 as NMI; the
 * APIC base MSR's enable bit. Not modelled: x2APIC (MSRs 0x800-0x8ff give
 * #GP), relocating the page (the base address bits of MSR 0x1b are kept but
 * the page stays at 0xfee00000), directed EOI, SMI, focus processor
 * checking, the remote-read register, LVT remote-IRR for LINT inputs.
 *
 * Wiring (per VM): apic_bus_init; for each vCPU lapic_init(&l, bus, id,
 * timers, clock, &ops, cpu); apic_bus_set_ioapic / apic_bus_set_pic.
 *   - MMIO at LAPIC_BASE..+0x1000 from vCPU N: lapic_mmio_read/write on
 *     vCPU N's lapic (register it with lock NULL: it locks internally).
 *   - the CPU's msr callback: lapic_msr (0x1b, 0x6e0, x2APIC range).
 *   - the CPU's intr_ack callback: lapic_ack.
 *   - MOV to/from CR8: lapic_set_tpr/lapic_get_tpr (CR8 = TPR >> 4).
 *   - state: lapic_get_state/lapic_set_state (x86_vcpu_state.lapic) and
 *     the MSRs apic_base and tsc_deadline through lapic_msr.
 *
 * Callbacks (struct lapic_cpu_ops, called with no LAPIC lock held, from
 * whatever thread caused the event): notify (an interrupt may be
 * deliverable: call emu_cpu_notify and wake the vCPU if halted), init
 * (INIT received: the LAPIC has already reset itself), sipi, nmi.
 *
 * Locking: one mutex per LAPIC guards its page and timer state. It is taken
 * by the owning vCPU (MMIO, ack, MSRs), by other vCPUs (IPIs), by the I/O
 * APIC and the PIC (deliveries) and by the timer thread. No callback and
 * no other LAPIC is ever called with it held. Lock order: PIT -> PIC ->
 * LAPIC, I/O APIC -> LAPIC; the I/O APIC's EOI callback and the PIC's
 * acknowledge are called without any LAPIC lock. */
#ifndef CAPSA_DEVICES_X86_LAPIC_H
#define CAPSA_DEVICES_X86_LAPIC_H

#include "devices/device.h"
#include "devices/x86/clock.h"
#include "devices/x86/timers.h"

#include <pthread.h>
#include <stdint.h>

#define LAPIC_BASE       0xfee00000ULL
#define LAPIC_SIZE       0x1000
#define LAPIC_PAGE_SIZE  1024 /* the register page as KVM exposes it */
#define APIC_BUS_MAX     255  /* xAPIC IDs 0..254 (0xff is broadcast) */
#define MSR_APIC_BASE    0x1b
#define MSR_TSC_DEADLINE 0x6e0
#define APIC_BASE_BSP    (1ULL << 8)
#define APIC_BASE_EXTD   (1ULL << 10)
#define APIC_BASE_ENABLE (1ULL << 11)

/* Delivery modes (ICR, LVT, I/O APIC redirection entries). */
enum apic_delivery {
	APIC_DM_FIXED = 0,
	APIC_DM_LOWEST = 1,
	APIC_DM_SMI = 2,
	APIC_DM_NMI = 4,
	APIC_DM_INIT = 5,
	APIC_DM_STARTUP = 6,
	APIC_DM_EXTINT = 7,
};

enum apic_shorthand { APIC_SH_NONE, APIC_SH_SELF, APIC_SH_ALL, APIC_SH_OTHERS };

/* One interrupt message on the APIC bus. */
struct apic_msg {
	uint8_t vector;
	uint8_t delivery;  /* enum apic_delivery */
	uint8_t logical;   /* destination mode: 0 physical, 1 logical */
	uint8_t level;     /* 0 only for an INIT level de-assert */
	uint8_t trigger;   /* 0 edge, 1 level (sets TMR: EOI is broadcast) */
	uint8_t shorthand; /* enum apic_shorthand (ICR only) */
	uint8_t dest;      /* APIC ID, or logical MDA */
};

struct lapic_cpu_ops {
	void (*notify)(void *cpu);
	void (*init)(void *cpu);
	void (*sipi)(void *cpu, uint8_t vector);
	void (*nmi)(void *cpu);
};

struct lapic;

struct apic_bus {
	unsigned n;
	struct lapic *cpu[APIC_BUS_MAX]; /* by vCPU index; set up before vCPUs run */
	/* EOI of a level-triggered vector: the I/O APIC clears Remote-IRR. */
	void (*eoi)(void *ctx, uint8_t vector);
	void *eoi_ctx;
	/* Acknowledge of an ExtINT: the PIC returns its vector. */
	int (*extint_ack)(void *ctx);
	void *extint_ctx;
	unsigned lowest_rr; /* round robin among equal lowest-priority targets */
};

/* The members are private to lapic.c (exposed for embedding). */
struct lapic {
	pthread_mutex_t lock;
	uint8_t regs[LAPIC_PAGE_SIZE];
	unsigned index; /* vCPU index == initial APIC ID */
	struct apic_bus *bus;
	const struct lapic_cpu_ops *ops;
	void *cpu;
	const struct x86_clock *clock;
	struct dev_timer timer;
	uint64_t apic_base;
	uint64_t tsc_deadline; /* guest TSC, 0 = disarmed */
	uint64_t tsc_offset;   /* guest TSC minus the clock's TSC */
	int64_t timer_load_ns; /* host ns when the initial count was loaded */
	int64_t timer_next_ns; /* next expiry (host ns), valid if timer_on */
	uint64_t timer_div;    /* divisor latched at load */
	int timer_on;
	uint32_t esr_pending;
	uint8_t lint_level[2];
	uint8_t extint_req; /* an ExtINT message from the I/O APIC */
};

void apic_bus_init(struct apic_bus *b);
void apic_bus_set_ioapic(struct apic_bus *b, void (*eoi)(void *ctx, uint8_t vector), void *ctx);
void apic_bus_set_pic(struct apic_bus *b, int (*extint_ack)(void *ctx), void *ctx);
/* Delivers a message from a device or from `src`'s ICR (src may be NULL
 * when there is no shorthand). Takes each target's lock in turn. */
void apic_bus_deliver(struct apic_bus *b, const struct apic_msg *m, struct lapic *src);
/* The PIC's INTR output: LINT0 of vCPU 0 (virtual-wire mode). */
void apic_bus_pic_intr(void *bus, int level);

/* Registers the LAPIC on the bus as vCPU `index` (APIC ID = index; index 0
 * is the BSP) in its reset state. */
void lapic_init(struct lapic *l, struct apic_bus *bus, unsigned index, struct dev_timers *timers,
                const struct x86_clock *clock, const struct lapic_cpu_ops *ops, void *cpu);
/* Cancels the timer; stop the timer thread first. */
void lapic_destroy(struct lapic *l);
/* Power-on/INIT reset of the registers; keeps the APIC base MSR. */
void lapic_reset(struct lapic *l);

void lapic_mmio_read(struct lapic *l, uint64_t off, uint8_t *data, unsigned size);
void lapic_mmio_write(struct lapic *l, uint64_t off, const uint8_t *data, unsigned size);
extern const struct io_ops lapic_ops; /* device context: struct lapic */

/* RDMSR/WRMSR of 0x1b, 0x6e0 and 0x800-0x8ff: 0 if handled, -1 for #GP
 * (and for MSRs that are not the LAPIC's). */
int lapic_msr(struct lapic *l, uint32_t index, uint64_t *value, int is_write);
/* The vCPU's TSC runs `offset` ahead of the clock's (a restored or migrated
 * guest, or one that wrote its TSC): TSC deadlines are guest TSC values and
 * are converted with it. Set before a deadline is written. */
void lapic_set_tsc_offset(struct lapic *l, uint64_t offset);

/* The CPU's interrupt acknowledge: the highest-priority deliverable vector
 * moves from IRR to ISR (or the PIC is acknowledged for an ExtINT);
 * -1 if nothing is deliverable above the processor priority. */
int lapic_ack(struct lapic *l);
/* Whether lapic_ack would return a vector now. */
int lapic_pending(struct lapic *l);

/* Local interrupt pins LINT0 (0) and LINT1 (1). */
void lapic_set_lint(struct lapic *l, unsigned pin, int level);

uint8_t lapic_get_tpr(struct lapic *l);
void lapic_set_tpr(struct lapic *l, uint8_t tpr);

/* The 1 KiB page in KVM's struct kvm_lapic_state layout; get stores the
 * current count at 0x390. set restarts the timer from the saved current
 * count (one-shot/periodic); the TSC deadline comes with lapic_msr. */
void lapic_get_state(struct lapic *l, uint8_t regs[LAPIC_PAGE_SIZE]);
void lapic_set_state(struct lapic *l, const uint8_t regs[LAPIC_PAGE_SIZE]);

#endif
