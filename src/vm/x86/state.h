/* SPDX-License-Identifier: Apache-2.0 */
/* The architectural state of one x86-64 vCPU in a form that belongs to no
 * accelerator. KVM's accelerator converts to and from its ioctl structures,
 * the software CPU keeps its registers in this form directly, crash reports
 * read it, and snapshots save it: so a vCPU saved under one accelerator can
 * be loaded under the other.
 *
 * Layout rules: fixed-size fields only, no pointers, little-endian host.
 * Adding a field at the end is compatible; snapshots store the size. */
#ifndef CAPSA_VM_X86_STATE_H
#define CAPSA_VM_X86_STATE_H

#include <stdint.h>

/* General registers in the order the hardware encodes them (ModRM.reg). */
enum x86_gpr {
	X86_RAX,
	X86_RCX,
	X86_RDX,
	X86_RBX,
	X86_RSP,
	X86_RBP,
	X86_RSI,
	X86_RDI,
	X86_R8,
	X86_R9,
	X86_R10,
	X86_R11,
	X86_R12,
	X86_R13,
	X86_R14,
	X86_R15,
	X86_NGPR
};

/* Segment registers in encoding order (sreg field of MOV Sreg), then the
 * two system segments. */
enum x86_sreg { X86_ES, X86_CS, X86_SS, X86_DS, X86_FS, X86_GS, X86_TR, X86_LDTR, X86_NSEG };

/* A segment register with its hidden (descriptor cache) part. `type` is the
 * 4-bit descriptor type, `s` the code/data (1) vs system (0) bit. `limit`
 * is the expanded byte limit (granularity already applied). */
struct x86_segment {
	uint64_t base;
	uint32_t limit;
	uint16_t selector;
	uint8_t type;
	uint8_t s;
	uint8_t dpl;
	uint8_t present;
	uint8_t avl;
	uint8_t l;  /* 64-bit code segment */
	uint8_t db; /* default operand size 32 (code) / big (stack) */
	uint8_t g;
	uint8_t unusable; /* a null selector loaded: unusable for access */
	uint8_t pad[3];
};

struct x86_dtable {
	uint64_t base;
	uint16_t limit;
	uint16_t pad[3];
};

/* x87, MMX and SSE state exactly as FXSAVE stores it (64-bit layout). */
struct x86_fxsave {
	uint8_t bytes[512];
} __attribute__((aligned(16)));

/* MSRs that carry state Linux relies on; anything else reads as its reset
 * value. */
struct x86_msrs {
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t tsc;          /* guest TSC at the time the state was taken */
	uint64_t tsc_aux;      /* RDTSCP / RDPID */
	uint64_t pat;          /* 0x277 */
	uint64_t misc_enable;  /* 0x1a0 */
	uint64_t tsc_deadline; /* 0x6e0, 0 = disarmed */
	uint64_t apic_base;    /* 0x1b */
	uint64_t spec_ctrl;    /* 0x48 */
	uint64_t pad[5];
};

/* What the vCPU is doing besides executing: KVM's mp_state. */
enum x86_run_state {
	X86_RUNNABLE = 0,
	X86_HALTED = 1,        /* HLT: waits for an interrupt */
	X86_WAIT_FOR_SIPI = 2, /* after INIT (application processors start here) */
};

/* Events in flight between instructions. */
struct x86_events {
	uint8_t exception_pending; /* an exception was raised but not yet delivered */
	uint8_t exception_vector;
	uint8_t exception_has_error;
	uint8_t nmi_pending;
	uint8_t nmi_masked;       /* inside an NMI handler until IRET */
	uint8_t interrupt_shadow; /* 1: after STI, 2: after MOV SS/POP SS */
	uint8_t run_state;        /* enum x86_run_state */
	uint8_t sipi_vector;
	uint32_t exception_error_code;
	uint32_t pad;
};

/* The local APIC's 1 KiB register page as KVM exposes it (struct
 * kvm_lapic_state): register at offset R lives at regs[R] as 32 bits. */
#define X86_LAPIC_REGS_SIZE 1024

struct x86_vcpu_state {
	uint64_t gpr[X86_NGPR];
	uint64_t rip;
	uint64_t rflags;
	struct x86_segment seg[X86_NSEG];
	struct x86_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8;
	uint64_t efer;
	uint64_t dr[8]; /* dr0..dr3, dr6 at [6], dr7 at [7]; [4],[5] unused */
	uint64_t xcr0;  /* 1 (x87 only) while XSAVE is not offered */
	struct x86_msrs msr;
	struct x86_events ev;
	struct x86_fxsave fx;
	uint8_t lapic[X86_LAPIC_REGS_SIZE];
};

/* Wire a local APIC page's LINT0 as ExtINT and LINT1 as NMI, as on a PC
 * (the delivery-mode bits only; the mask bits stay as they are). */
void x86_lapic_wire_lints(uint8_t lapic[X86_LAPIC_REGS_SIZE]);

/* Reset values (Intel SDM vol. 3, "Initial state after RESET"): real mode at
 * F000:FFF0, or, for a processor in wait-for-SIPI, the same with run_state
 * set. `apic_id` goes into the APIC base MSR's BSP bit (0 is the BSP). */
void x86_state_reset(struct x86_vcpu_state *s, unsigned apic_id);

#endif
