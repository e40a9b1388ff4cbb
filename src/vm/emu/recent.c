/* SPDX-License-Identifier: Apache-2.0 */
/* The pages a vCPU used recently, beyond what its TLB still maps: every
 * guest-physical page a TLB fill reaches (the page itself and the page
 * tables walked to it) is stamped with the fill's epoch (EMU_RECENT_SHIFT
 * bits of the instruction count) the first time in that epoch, and put in
 * a ring. The TLB holds only the last page of each of its slots: a page
 * that lost its slot to another, or that runs only once in a while (the
 * timer interrupt's path), is still stamped with a recent epoch. An idle
 * vCPU (halted) retires no instructions, so its pages do not age. */
#include "vm/emu/internal.h"

#include <stdlib.h>

int emu_recent_init(struct emu_cpu *c)
{
	c->recent_npages = c->mem->npages;
	c->recent_stamp = calloc(c->recent_npages ? c->recent_npages : 1, 1);
	return c->recent_stamp ? 0 : -1;
}

void emu_recent_free(struct emu_cpu *c)
{
	free(c->recent_stamp);
	c->recent_stamp = NULL;
}

void emu_recent_add(struct emu_cpu *c, uint64_t pfn, uint8_t stamp)
{
	c->recent_stamp[pfn] = stamp;
	c->recent[c->recent_head++ % EMU_RECENT_MAX] = (uint32_t)pfn;
}

size_t emu_recent_pages(const struct emu_cpu *c, uint64_t *pa, size_t n, size_t max)
{
	uint64_t epoch = c->icount >> EMU_RECENT_SHIFT;
	uint8_t now = emu_recent_stamp(epoch), before = emu_recent_stamp(epoch - 1);
	unsigned have = c->recent_head < EMU_RECENT_MAX ? c->recent_head : EMU_RECENT_MAX;
	for (unsigned k = 0; k < have && n < max; k++) {
		uint32_t pfn = c->recent[k];
		if (c->recent_stamp[pfn] == now || c->recent_stamp[pfn] == before)
			pa[n++] = (uint64_t)pfn << 12;
	}
	return n;
}
