/* SPDX-License-Identifier: Apache-2.0 */
/* x86 page tables: the identity map capsa gives a 64-bit entry, and a
 * walker that translates guest virtual addresses for crash reports. */
#ifndef CAPSA_VM_X86_PAGETABLES_H
#define CAPSA_VM_X86_PAGETABLES_H

#include "mem/guest_mem.h"

#include <stdint.h>

/* Identity-map the first 4 GiB with 2 MiB pages: PML4 at `pml4`, PDPT at
 * `pdpt`, four page directories from `pd`. Returns -1 if out of RAM. */
int pagetables_identity_4g(const struct guest_mem *gm, uint64_t pml4, uint64_t pdpt, uint64_t pd);

/* Paging state of a vCPU, as in its control registers. */
struct paging_mode {
	uint64_t cr0, cr3, cr4, efer;
};

/* Translate linear address `va`; 0 and *gpa on success, -1 if not mapped or
 * the tables are outside guest RAM. Handles no paging, 32-bit, PAE and
 * 4-level paging with large pages. */
int pagetables_translate(const struct guest_mem *gm, const struct paging_mode *m, uint64_t va,
                         uint64_t *gpa);

#endif
