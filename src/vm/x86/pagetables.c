/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/x86/pagetables.h"

#define PTE_P  0x1ULL
#define PTE_RW 0x2ULL
#define PTE_PS 0x80ULL

#define CR0_PG   (1ULL << 31)
#define CR4_PSE  (1ULL << 4)
#define CR4_PAE  (1ULL << 5)
#define EFER_LMA (1ULL << 10)

#define ADDR_MASK 0x000ffffffffff000ULL

int pagetables_identity_4g(const struct guest_mem *gm, uint64_t pml4, uint64_t pdpt, uint64_t pd)
{
	if (gm_fill(gm, pml4, 0, 4096) || gm_fill(gm, pdpt, 0, 4096))
		return -1;
	uint64_t e = pdpt | PTE_P | PTE_RW;
	if (gm_write(gm, pml4, &e, 8))
		return -1;
	for (uint64_t i = 0; i < 4; i++) {
		e = (pd + i * 4096) | PTE_P | PTE_RW;
		if (gm_write(gm, pdpt + i * 8, &e, 8))
			return -1;
		for (uint64_t j = 0; j < 512; j++) {
			uint64_t page = ((i << 30) | (j << 21)) | PTE_P | PTE_RW | PTE_PS;
			if (gm_write(gm, pd + i * 4096 + j * 8, &page, 8))
				return -1;
		}
	}
	return 0;
}

static int rd64(const struct guest_mem *gm, uint64_t gpa, uint64_t *v)
{
	return gm_read(gm, gpa, v, 8);
}

static int walk_long(const struct guest_mem *gm, uint64_t cr3, uint64_t va, uint64_t *gpa)
{
	uint64_t table = cr3 & ADDR_MASK;
	/* levels: PML4 (39), PDPT (30), PD (21), PT (12) */
	for (int shift = 39; shift >= 12; shift -= 9) {
		uint64_t e;
		if (rd64(gm, table + ((va >> shift) & 511) * 8, &e) || !(e & PTE_P))
			return -1;
		if (shift == 12 || ((shift == 30 || shift == 21) && (e & PTE_PS))) {
			uint64_t size = 1ULL << shift;
			*gpa = (e & ADDR_MASK & ~(size - 1)) | (va & (size - 1));
			return 0;
		}
		table = e & ADDR_MASK;
	}
	return -1;
}

static int walk_pae(const struct guest_mem *gm, uint64_t cr3, uint64_t va, uint64_t *gpa)
{
	uint64_t e;
	if (rd64(gm, (cr3 & 0xffffffe0ULL) + ((va >> 30) & 3) * 8, &e) || !(e & PTE_P))
		return -1;
	uint64_t table = e & ADDR_MASK;
	if (rd64(gm, table + ((va >> 21) & 511) * 8, &e) || !(e & PTE_P))
		return -1;
	if (e & PTE_PS) {
		*gpa = (e & ADDR_MASK & ~0x1fffffULL) | (va & 0x1fffff);
		return 0;
	}
	if (rd64(gm, (e & ADDR_MASK) + ((va >> 12) & 511) * 8, &e) || !(e & PTE_P))
		return -1;
	*gpa = (e & ADDR_MASK) | (va & 0xfff);
	return 0;
}

static int walk_32(const struct guest_mem *gm, const struct paging_mode *m, uint64_t va,
                   uint64_t *gpa)
{
	uint32_t e;
	if (gm_read(gm, (m->cr3 & 0xfffff000ULL) + ((va >> 22) & 1023) * 4, &e, 4) || !(e & PTE_P))
		return -1;
	if ((e & PTE_PS) && (m->cr4 & CR4_PSE)) {
		*gpa = (e & 0xffc00000U) | (va & 0x3fffff);
		return 0;
	}
	if (gm_read(gm, (e & 0xfffff000U) + ((va >> 12) & 1023) * 4, &e, 4) || !(e & PTE_P))
		return -1;
	*gpa = (e & 0xfffff000U) | (va & 0xfff);
	return 0;
}

int pagetables_translate(const struct guest_mem *gm, const struct paging_mode *m, uint64_t va,
                         uint64_t *gpa)
{
	if (!(m->cr0 & CR0_PG)) {
		*gpa = va & 0xffffffffULL;
		return 0;
	}
	if (m->efer & EFER_LMA)
		return walk_long(gm, m->cr3, va, gpa);
	if (m->cr4 & CR4_PAE)
		return walk_pae(gm, m->cr3, va & 0xffffffffULL, gpa);
	return walk_32(gm, m, va & 0xffffffffULL, gpa);
}
