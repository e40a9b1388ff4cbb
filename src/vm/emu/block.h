/* The decoded-block cache (block.c). */
#ifndef CAPSA_VM_EMU_BLOCK_H
#define CAPSA_VM_EMU_BLOCK_H

#include "vm/emu/internal.h"

int emu_blocks_init(struct emu_cpu *c);
void emu_blocks_free(struct emu_cpu *c);
/* The block starting at linear address `rip` (CS base added) for decode mode `key` (code size in
 * the low 4 bits, CPL 3 in bit 4); decodes it if needed. May raise #PF. */
struct emu_block *emu_block_find_slow(struct emu_cpu *c, uint64_t rip, uint32_t key);

static inline unsigned emu_jc_index(uint64_t rip)
{
	return (unsigned)((rip ^ (rip >> 12)) & (EMU_JC_SIZE - 1));
}

/* Still matches the code in memory? */
static inline int emu_block_valid(const struct emu_cpu *c, const struct emu_block *b)
{
	const struct emu_mem *m = c->mem;
	if (atomic_load_explicit(&m->gen[b->pfn0], memory_order_relaxed) != b->gen0)
		return 0;
	return b->pfn1 == b->pfn0 ||
	       atomic_load_explicit(&m->gen[b->pfn1], memory_order_relaxed) == b->gen1;
}

static inline struct emu_block *emu_block_find(struct emu_cpu *c, uint64_t rip, uint32_t key)
{
	unsigned j = emu_jc_index(rip);
	struct emu_block *b = c->jc[j].b;
	if (EMU_LIKELY(c->jc[j].rip == rip && c->jc[j].key == key &&
	               c->jc[j].epoch == c->jc_epoch && emu_block_valid(c, b)))
		return b;
	return emu_block_find_slow(c, rip, key);
}

#endif
