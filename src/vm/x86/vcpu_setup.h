/* SPDX-License-Identifier: Apache-2.0 */
/* Initial x86 vCPU state, for any accelerator: each vCPU's CPUID, and for
 * the boot CPU the tables and registers the chosen entry (PVH or 64-bit
 * Linux) expects. */
#ifndef CAPSA_VM_X86_VCPU_SETUP_H
#define CAPSA_VM_X86_VCPU_SETUP_H

#include "lib/err.h"
#include "mem/guest_mem.h"
#include "vm/x86/boot.h"
#include "vm/x86/cpuid.h"
#include "vm/x86/state.h"

#include <stddef.h>

struct x86_cpu_template {
	const struct cpuid_entry *cpuid; /* the accelerator's supported CPUID */
	size_t ncpuid;
	const struct cpuid_edits *edits;
	unsigned ncpus;
};

/* CPUID of vCPU `apic_id`: the template with topology and edits applied,
 * into `out` (room for `cap`, which should be ncpuid + CPUID_EXTRA_ENTRIES).
 * Returns the number of entries. */
size_t x86_vcpu_cpuid(const struct x86_cpu_template *t, unsigned apic_id, struct cpuid_entry *out,
                      size_t cap);
/* Write the boot GDT (and page tables for the 64-bit entry) into guest
 * memory; once per VM. */
int x86_boot_tables(const struct guest_mem *gm, const struct boot_entry *be, struct err *e);
/* The boot CPU's registers for entry `be` (segments, control registers,
 * RIP and the boot-information pointer), written over `s`. */
void x86_boot_state(struct x86_vcpu_state *s, const struct boot_entry *be);
/* CPUID.1 EAX and EDX after customisation (for the MP table). */
void x86_cpu_signature(const struct x86_cpu_template *t, uint32_t *eax, uint32_t *edx);

#endif
