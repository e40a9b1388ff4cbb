/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/x86/e820.h"

#include "vm/x86/layout.h"

uint64_t e820_lowmem_end(uint64_t ram_size)
{
	return ram_size < LAYOUT_MMIO_HOLE ? ram_size : LAYOUT_MMIO_HOLE;
}

uint64_t e820_highmem_size(uint64_t ram_size)
{
	return ram_size > LAYOUT_MMIO_HOLE ? ram_size - LAYOUT_MMIO_HOLE : 0;
}

static void add(struct e820_map *m, uint64_t addr, uint64_t size, uint32_t type)
{
	if (size && m->n < E820_MAX)
		m->e[m->n++] = (struct e820_entry){addr, size, type};
}

void e820_build(struct e820_map *m, uint64_t ram_size)
{
	m->n = 0;
	add(m, 0, LAYOUT_EBDA_START, E820_RAM);
	add(m, LAYOUT_EBDA_START, 0xa0000 - LAYOUT_EBDA_START, E820_RESERVED);
	add(m, LAYOUT_BIOS_START, LAYOUT_HIGH_START - LAYOUT_BIOS_START, E820_RESERVED);
	uint64_t low = e820_lowmem_end(ram_size);
	if (low > LAYOUT_HIGH_START)
		add(m, LAYOUT_HIGH_START, low - LAYOUT_HIGH_START, E820_RAM);
	add(m, LAYOUT_4G, e820_highmem_size(ram_size), E820_RAM);
}
