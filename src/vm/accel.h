/* SPDX-License-Identifier: Apache-2.0 */
/* Accelerators: what runs the guest's CPUs. One ops table, two
 * implementations: KVM (accel_kvm.c, every KVM ioctl of capsa lives there)
 * and capsa's software CPU (accel_emu.c). The VM core (vm.c, vcpu.c) and
 * the device glue only go through this interface, so they never know which
 * one runs, and the vCPU state they see is the neutral x86_vcpu_state.
 *
 * Objects: an accel_vm per VM, an accel_vcpu per vCPU; implementations
 * embed these structs as their first member. Threads: vcpu_run, the state
 * accessors and vcpu_thread_init run on the vCPU's own thread (state
 * accessors also on any thread while that vCPU is not running); vcpu_kick
 * and irq_line may be called from any thread. */
#ifndef CAPSA_VM_ACCEL_H
#define CAPSA_VM_ACCEL_H

#include "devices/x86/irqchip.h"
#include "lib/err.h"
#include "mem/guest_mem.h"
#include "vm/iobus.h"
#include "vm/x86/cpuid.h"
#include "vm/x86/state.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum accel_kind { ACCEL_AUTO = 0, ACCEL_KVM, ACCEL_EMU };

/* "kvm", "emu", "auto" */
const char *accel_kind_name(enum accel_kind k);
/* Parse --accel's value; ERR_INPUT naming it if unknown. */
int accel_parse(const char *s, enum accel_kind *out, struct err *e);

struct accel_vm_config {
	unsigned ncpus;
	/* Guest RAM; the accelerator may install the write listener
	 * (guest_mem.on_write) when it is created. */
	struct guest_mem *mem;
	/* The machine's buses: port I/O and MMIO exits are dispatched here.
	 * The accelerator may register its own devices on them (the software
	 * CPU's interrupt controllers and timer). */
	struct iobus *pio, *mmio;
	const char *kvm_path; /* NULL: /dev/kvm */
	/* Non-zero once the VM is ending (a device asked for it): an
	 * accelerator that runs I/O on the vCPU thread stops that vCPU right
	 * after the access, as KVM's exit to the VM core does. */
	const atomic_int *ending;
	/* Called on a vCPU thread where the guest may stop writing for a while
	 * (accel_ops.calls_idle): before the vCPU sleeps until an interrupt
	 * (HLT: sleeping 1) and when it takes an interrupt (sleeping 0), so
	 * that a device holding output back (the serial console) sends it.
	 * NULL: nothing to call. */
	void (*idle)(void *ctx, int sleeping);
	void *idle_ctx;
};

/* Why vcpu_run returned to the VM core. Port I/O and MMIO never come back
 * here: the accelerator dispatches them to the buses itself. */
enum accel_exit_kind {
	ACCEL_EXIT_NONE,     /* kicked or nothing to do: check for a stop, run again */
	ACCEL_EXIT_RESET,    /* the guest asked for a reset */
	ACCEL_EXIT_POWEROFF, /* the guest powered off */
	ACCEL_EXIT_CRASH,    /* triple fault, emulation failure: `what` says which */
	ACCEL_EXIT_ERROR,    /* the host failed: `what` says which, with errno text */
};

struct accel_exit {
	enum accel_exit_kind kind;
	char what[192];
};

/* Parts of x86_vcpu_state for get/set. */
enum {
	ACCEL_STATE_REGS = 1 << 0,   /* gpr, rip, rflags */
	ACCEL_STATE_SREGS = 1 << 1,  /* seg, gdt, idt, cr*, efer, apic base */
	ACCEL_STATE_FPU = 1 << 2,    /* fx, xcr0 */
	ACCEL_STATE_MSRS = 1 << 3,   /* msr (except apic_base) */
	ACCEL_STATE_LAPIC = 1 << 4,  /* lapic */
	ACCEL_STATE_EVENTS = 1 << 5, /* ev */
	ACCEL_STATE_DEBUG = 1 << 6,  /* dr */
	ACCEL_STATE_ALL = (1 << 7) - 1,
};

/* Copy the `parts` of src over dst. */
void accel_state_copy(struct x86_vcpu_state *dst, const struct x86_vcpu_state *src, unsigned parts);

struct accel_ops;

struct accel_vm {
	const struct accel_ops *ops;
	enum accel_kind kind;
};

struct accel_vcpu {
	struct accel_vm *vm;
	unsigned index;
};

struct accel_ops {
	const char *name;
	/* Non-zero: the accelerator calls accel_vm_config.idle (an
	 * accelerator that halts in the kernel, as KVM does, cannot) */
	int calls_idle;
	/* Open the host facility (if any) and create an empty VM. */
	int (*vm_create)(struct accel_vm **out, const struct accel_vm_config *c, struct err *e);
	void (*vm_destroy)(struct accel_vm *vm);
	unsigned (*max_vcpus)(struct accel_vm *vm);
	/* The CPUID the accelerator can offer, before topology and the user's
	 * edits (malloc'd, *n entries). */
	struct cpuid_entry *(*supported_cpuid)(struct accel_vm *vm, size_t *n, struct err *e);
	/* Make guest memory (accel_vm_config.mem) visible to the guest. May
	 * block for a while (KVM); callable from another thread. NULL where
	 * there is nothing to do (the VM then starts no thread for it). */
	int (*map_memory)(struct accel_vm *vm, struct err *e);
	/* A vCPU in its reset state with this CPUID (topology and edits
	 * applied), local APIC LINT0 as ExtINT and LINT1 as NMI. */
	int (*vcpu_create)(struct accel_vm *vm, unsigned index, const struct cpuid_entry *cpuid,
	                   size_t ncpuid, struct accel_vcpu **out, struct err *e);
	void (*vcpu_destroy)(struct accel_vcpu *v);
	/* On the vCPU's thread, once, before the first vcpu_run. */
	int (*vcpu_thread_init)(struct accel_vcpu *v, struct err *e);
	/* Run until something the VM core must see (host failures come back
	 * as ACCEL_EXIT_ERROR). */
	void (*vcpu_run)(struct accel_vcpu *v, struct accel_exit *x);
	/* Make vcpu_run return soon with ACCEL_EXIT_NONE (any thread). */
	void (*vcpu_kick)(struct accel_vcpu *v);
	int (*vcpu_get_state)(struct accel_vcpu *v, struct x86_vcpu_state *s, unsigned parts,
	                      struct err *e);
	int (*vcpu_set_state)(struct accel_vcpu *v, const struct x86_vcpu_state *s, unsigned parts,
	                      struct err *e);
	/* Set the level of interrupt line `gsi` (ISA IRQs 0-15 go to both the
	 * 8259 pair and the I/O APIC pin of the same number). */
	void (*irq_line)(struct accel_vm *vm, unsigned gsi, int level);
	/* Writing 1 to eventfd `fd` pulses line `gsi` without a trip through
	 * user space. Returns 0, or -1 if not offered (then use irq_line). */
	int (*irqfd)(struct accel_vm *vm, unsigned gsi, int fd);
	/* A 4-byte MMIO write of `datamatch` at `addr` signals eventfd `fd`
	 * instead of reaching the bus. Returns 0, or -1 if not offered. */
	int (*ioeventfd)(struct accel_vm *vm, uint64_t addr, uint64_t datamatch, int fd);
	/* The VM's PIC pair, I/O APIC and PIT in KVM's layouts (the same
	 * struct under both accelerators), while no vCPU runs. */
	int (*vm_get_irqchip)(struct accel_vm *vm, struct x86_irqchip_state *s, struct err *e);
	int (*vm_set_irqchip)(struct accel_vm *vm, const struct x86_irqchip_state *s,
	                      struct err *e);
	/* Guest instructions the vCPU has retired, where the accelerator
	 * counts them (the software CPU); NULL otherwise. */
	uint64_t (*vcpu_instructions)(struct accel_vcpu *v);
	/* Guest-physical pages the vCPU used last (the software CPU: what its
	 * TLB maps and the page tables mapping it), at most max into pa; while
	 * it does not run. A snapshot marks them so that a restore loads them
	 * first. NULL where the accelerator cannot tell. */
	size_t (*vcpu_recent_pages)(struct accel_vcpu *v, uint64_t *pa, size_t max);
	/* Dirty-page logging of guest RAM (live migration), any thread while
	 * the VM runs. Pages are numbered as in mem/dirty.h (offset in guest
	 * RAM). dirty_start: from now on remember every page the guest or a
	 * device (gm_note_write) writes. dirty_fetch: OR the pages written
	 * since dirty_start or the previous fetch into `bits` (one bit per
	 * page) and forget them; once every vCPU is paused, nothing written
	 * before the fetch is left out. dirty_stop: stop remembering. */
	int (*dirty_start)(struct accel_vm *vm, struct err *e);
	int (*dirty_fetch)(struct accel_vm *vm, uint64_t *bits, struct err *e);
	void (*dirty_stop)(struct accel_vm *vm);
};

/* The signal that interrupts a vCPU thread blocked in the host (KVM_RUN).
 * vCPU threads are created with it blocked; see vcpu.c. */
int accel_kick_signal(void);

extern const struct accel_ops accel_kvm_ops;
extern const struct accel_ops accel_emu_ops;

/* Can KVM be used here (device opens, API version and extensions)? */
int accel_kvm_probe(const char *kvm_path, struct err *e);

/* Create the VM on the accelerator `kind` asks for. ACCEL_AUTO takes KVM
 * when it can be opened and the software CPU otherwise; *why_emu then says
 * why KVM was not used (for the one-line notice), else it is "". */
int accel_vm_create(enum accel_kind kind, const struct accel_vm_config *c, struct accel_vm **out,
                    char *why_emu, size_t why_cap, struct err *e);

#endif
