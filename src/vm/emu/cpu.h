/* SPDX-License-Identifier: Apache-2.0 */
/* capsa's software x86-64 CPU: an interpreter that runs a vCPU without
 * hardware virtualization. It knows nothing of KVM, devices or the VM
 * object: it sees guest RAM through `struct emu_mem`, everything else
 * (port I/O, MMIO including the local APIC page, MSRs it does not keep,
 * interrupt acknowledgement) through the callbacks in `struct emu_bus`.
 *
 * Threads: each emu_cpu is run by one thread at a time (emu_cpu_run and
 * the state accessors). emu_cpu_kick, emu_cpu_notify, emu_cpu_nmi,
 * emu_cpu_init and emu_cpu_sipi may be called from any thread at any time
 * and take effect at the next instruction boundary the CPU reaches (or at
 * once if it is not running). Several emu_cpus share one emu_mem and run
 * truly in parallel; LOCK-prefixed instructions are atomic across them. */
#ifndef CAPSA_VM_EMU_CPU_H
#define CAPSA_VM_EMU_CPU_H

#include "devices/x86/clock.h"
#include "lib/err.h"
#include "mem/guest_mem.h"
#include "vm/x86/cpuid.h"
#include "vm/x86/state.h"

#include <stddef.h>
#include <stdint.h>

/* Guest RAM as the software CPUs see it: the guest_mem regions plus what
 * the CPUs need to keep decoded code coherent. One per VM. */
struct emu_mem;

int emu_mem_create(struct emu_mem **out, const struct guest_mem *gm, struct err *e);
void emu_mem_destroy(struct emu_mem *m);
/* Guest RAM in [gpa, gpa+len) was written by something other than a
 * software CPU (device DMA, a loader): decoded code from it is dropped. */
void emu_mem_written(struct emu_mem *m, uint64_t gpa, uint64_t len);
/* Dirty-page logging (accel.h's dirty_*): start, take the pages written
 * since start or the last take (ORed into bits, numbered as in
 * mem/dirty.h), stop. After a start or a take, every vCPU must be told
 * with emu_cpu_dirty_resync. */
int emu_mem_dirty_start(struct emu_mem *m, struct err *e);
void emu_mem_dirty_take(struct emu_mem *m, uint64_t *bits);
void emu_mem_dirty_stop(struct emu_mem *m);

/* The vCPU's view of the rest of the machine. `data` is little-endian;
 * len is 1, 2, 4 or 8. */
struct emu_bus {
	void *ctx;
	/* An access to a physical address that is not RAM (MMIO devices, the
	 * local APIC at 0xfee00000). A read of nothing must fill all-ones. */
	void (*mmio)(void *ctx, uint64_t gpa, uint8_t *data, unsigned len, int is_write);
	/* IN/OUT and the string forms, one element per call. */
	void (*pio)(void *ctx, uint16_t port, uint8_t *data, unsigned len, int is_write);
	/* RDMSR/WRMSR of an MSR the CPU does not keep in x86_vcpu_state (the
	 * TSC deadline 0x6e0 and x2APIC range belong to the local APIC).
	 * Returns 0 if handled, -1 to raise #GP(0). May be NULL. */
	int (*msr)(void *ctx, uint32_t index, uint64_t *value, int is_write);
	/* Take the highest-priority pending maskable interrupt: returns its
	 * vector (now in service), or -1 if none is deliverable. Called only
	 * when the CPU can accept one (RFLAGS.IF=1, no interrupt shadow) and
	 * emu_cpu_notify was called since the last -1. */
	int (*intr_ack)(void *ctx);
};

struct emu_cpu_config {
	unsigned index; /* APIC ID */
	struct emu_mem *mem;
	struct emu_bus bus;
	const struct x86_clock *clock; /* RDTSC; shared by the VM's vCPUs */
	/* CPUID the guest sees (copied): emu_cpuid_model plus the VM's
	 * topology and edits (cpuid_customize). Leaves not listed read as
	 * zeros, as on hardware beyond the maximum leaf. */
	const struct cpuid_entry *cpuid;
	size_t ncpuid;
};

/* The CPU model: CPUID leaves describing exactly what this CPU implements
 * (vendor, family/model, features, TSC frequency in leaves 0x15/0x16 and
 * the invariant-TSC bit). Returns the number of entries written (at most
 * cap); the result is suitable for cpuid_customize. */
size_t emu_cpuid_model(struct cpuid_entry *out, size_t cap, uint64_t tsc_khz);

struct emu_cpu;

int emu_cpu_create(struct emu_cpu **out, const struct emu_cpu_config *cfg, struct err *e);
void emu_cpu_destroy(struct emu_cpu *c);

/* The architectural state. `lapic` is not the CPU's: get leaves it
 * untouched, set ignores it (the local APIC device owns that page). A set
 * with msr.tsc == EMU_TSC_KEEP leaves the TSC running as it is (a new CPU's
 * TSC is the VM clock's); any other value makes the TSC continue from it. */
#define EMU_TSC_KEEP UINT64_MAX
void emu_cpu_get_state(const struct emu_cpu *c, struct x86_vcpu_state *s);
int emu_cpu_set_state(struct emu_cpu *c, const struct x86_vcpu_state *s, struct err *e);

enum emu_exit_reason {
	EMU_EXIT_KICK,      /* emu_cpu_kick was called */
	EMU_EXIT_HALT,      /* HLT (or MWAIT); run again after an interrupt arrives */
	EMU_EXIT_WAIT_SIPI, /* INIT received; run again after emu_cpu_sipi */
	EMU_EXIT_SHUTDOWN,  /* triple fault; msg says which exceptions */
	EMU_EXIT_BUDGET,    /* max_insns executed */
	EMU_EXIT_INTERNAL,  /* a state the CPU cannot represent; msg says which */
};

struct emu_exit {
	enum emu_exit_reason reason;
	char msg[192];
};

/* Run until one of the exit reasons. max_insns 0 is no limit (the limit is
 * checked between decoded blocks, so a few more may run). Returns 0, or -1
 * with *e set only for host failures. */
int emu_cpu_run(struct emu_cpu *c, uint64_t max_insns, struct emu_exit *x, struct err *e);

/* Instructions retired since creation. */
uint64_t emu_cpu_instructions(const struct emu_cpu *c);
/* The guest-physical pages the CPU used last: its page table root, what
 * its TLBs map and (4-level paging) the page tables mapping those, then
 * every page its TLB fills reached in the last 0.5 to 1 million instructions
 * (pages since pushed out of the TLB, such as the timer interrupt's path),
 * at most max into pa (repeats possible); while it does not run. Returns
 * how many. */
size_t emu_cpu_recent_pages(struct emu_cpu *c, uint64_t *pa, size_t max);
/* How far the guest's TSC runs ahead of the clock's (restores and guest
 * writes of the TSC move it). */
uint64_t emu_cpu_tsc_offset(const struct emu_cpu *c);

/* Cross-thread requests (see the threading note at the top). */
void emu_cpu_kick(struct emu_cpu *c);
void emu_cpu_notify(struct emu_cpu *c); /* the interrupt controller may have an interrupt */
void emu_cpu_nmi(struct emu_cpu *c);
void emu_cpu_init(struct emu_cpu *c);
void emu_cpu_sipi(struct emu_cpu *c, uint8_t vector);
/* Before its next store (and before it stops for a kick), the vCPU takes
 * write permission from its TLB, marking those pages dirty. */
void emu_cpu_dirty_resync(struct emu_cpu *c);
/* On the vCPU's thread: carry out a pending resync now (before the vCPU
 * leaves the accelerator, so a pause leaves no store unmarked). */
void emu_cpu_dirty_settle(struct emu_cpu *c);

#endif
