/* Initial x86 vCPU state: CPUID, MSRs, FPU, local APIC wiring, and for the
 * boot CPU the registers the chosen entry (PVH or 64-bit Linux) expects. */
#ifndef CAPSA_VM_X86_VCPU_SETUP_H
#define CAPSA_VM_X86_VCPU_SETUP_H

#include "lib/err.h"
#include "mem/guest_mem.h"
#include "vm/x86/boot.h"
#include "vm/x86/cpuid.h"

#include <stddef.h>

struct x86_cpu_template {
	const struct cpuid_entry *cpuid; /* KVM's supported CPUID */
	size_t ncpuid;
	const struct cpuid_edits *edits;
	unsigned ncpus;
};

/* Everything except boot registers; for vCPU `index` (its APIC ID). */
int x86_vcpu_init(int vcpu_fd, unsigned index, const struct x86_cpu_template *t, struct err *e);
/* Write the boot GDT (and page tables for the 64-bit entry) into guest
 * memory; once per VM. */
int x86_boot_tables(const struct guest_mem *gm, const struct boot_entry *be, struct err *e);
/* Registers of the boot CPU for `be`. */
int x86_vcpu_boot_regs(int vcpu_fd, const struct boot_entry *be, struct err *e);
/* CPUID.1 EAX and EDX after customisation (for the MP table). */
void x86_cpu_signature(const struct x86_cpu_template *t, uint32_t *eax, uint32_t *edx);

#endif
