/* SPDX-License-Identifier: Apache-2.0 */
/* Guest CPUID: what KVM supports, with the VM's topology written in and the
 * user's feature edits (--cpu-features -cx16,+xsaveerptr,...) applied. */
#ifndef CAPSA_VM_X86_CPUID_H
#define CAPSA_VM_X86_CPUID_H

#include "lib/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

struct cpuid_edit {
	uint32_t leaf, subleaf;
	enum cpuid_reg reg;
	uint8_t bit;
	bool set; /* true: +name, false: -name */
};

#define CPUID_MAX_EDITS 64

struct cpuid_edits {
	struct cpuid_edit e[CPUID_MAX_EDITS];
	size_t n;
};

/* Parse "-cx16,-avx,+xsaveerptr". Unknown names are ERR_INPUT naming the
 * word. Appends to `out`. */
int cpuid_parse_features(const char *list, struct cpuid_edits *out, struct err *e);
/* Names known to the parser, space separated (for --help). */
const char *cpuid_feature_list(void);

/* One CPUID entry, layout-compatible with struct kvm_cpuid_entry2. */
struct cpuid_entry {
	uint32_t function, index, flags;
	uint32_t eax, ebx, ecx, edx;
	uint32_t padding[3];
};

/* Extra room cpuid_customize may need beyond KVM's entries. */
#define CPUID_EXTRA_ENTRIES 4

/* Rewrite topology for the vCPU with `apic_id` in a VM of `ncpus` (one
 * socket, one thread per core) and apply `edits`. `ent` has `n` entries and
 * room for `cap`; topology sub-leaves KVM left out (0xB.1, 0xB.2) are added
 * when there is room. Returns the new number of entries. */
size_t cpuid_customize(struct cpuid_entry *ent, size_t n, size_t cap, unsigned apic_id,
                       unsigned ncpus, const struct cpuid_edits *edits);

#endif
