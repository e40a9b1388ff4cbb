/* SPDX-License-Identifier: Apache-2.0 */
/* The guest's memory map (e820 / PVH memmap), derived from RAM size alone. */
#ifndef CAPSA_VM_X86_E820_H
#define CAPSA_VM_X86_E820_H

#include <stdint.h>

#define E820_RAM      1
#define E820_RESERVED 2
#define E820_MAX      8

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};

struct e820_map {
	struct e820_entry e[E820_MAX];
	unsigned n;
};

/* RAM below the MMIO hole, and above 4 GiB (0 if none). */
uint64_t e820_lowmem_end(uint64_t ram_size);
uint64_t e820_highmem_size(uint64_t ram_size);
/* Build the map for `ram_size` bytes of RAM (>= 2 MiB). */
void e820_build(struct e820_map *m, uint64_t ram_size);

#endif
