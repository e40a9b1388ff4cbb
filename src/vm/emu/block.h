/* SPDX-License-Identifier: Apache-2.0 */
/* The decoded-block cache (block.c). */
#ifndef CAPSA_VM_EMU_BLOCK_H
#define CAPSA_VM_EMU_BLOCK_H

#include "vm/emu/internal.h"

int emu_blocks_init(struct emu_cpu *c);
void emu_blocks_free(struct emu_cpu *c);
/* The block starting at linear address `rip` (CS base added) for decode mode `key` (code size in
 * the low 4 bits, CPL 3 in bit 4, EMU_KEY_STEP); decodes it if needed. May raise #PF. */
struct emu_block *emu_block_find_slow(struct emu_cpu *c, uint64_t rip, uint32_t key);

static inline unsigned emu_jc_index(uint64_t rip)
{
	return (unsigned)((rip ^ (rip >> 14) ^ (rip >> 28)) & (EMU_JC_SIZE - 1));
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

/* A jump-cache hit is checked against the instruction TLB instead of a
 * flush epoch: the entry must still map the block's page executable, so
 * entries for global (kernel) pages survive CR3 writes. */
static inline int emu_block_usable(const struct emu_cpu *c, const struct emu_block *b, uint64_t rip)
{
	const struct emu_tlb_entry *e = emu_tlbe((struct emu_cpu *)c, rip);
	if (EMU_UNLIKELY(e->x != (rip & ~0xfffULL) || e->pa != (b->pa & ~0xfffULL) ||
	                 !emu_block_valid(c, b)))
		return 0;
	if (EMU_LIKELY(b->pfn1 == b->pfn0))
		return 1;
	/* the first instruction crosses into the next page: its mapping must
	 * be unchanged too */
	uint64_t next = (rip & ~0xfffULL) + 0x1000;
	const struct emu_tlb_entry *e2 = emu_tlbe((struct emu_cpu *)c, next);
	return e2->x == next && e2->pa == b->pfn1 << 12;
}

static inline struct emu_block *emu_block_find(struct emu_cpu *c, uint64_t rip, uint32_t key)
{
	unsigned j = emu_jc_index(rip);
	struct emu_block *b = c->jc[j].b;
	if (EMU_LIKELY(c->jc[j].rip == rip && c->jc[j].key == key && emu_block_usable(c, b, rip)))
		return b;
	return emu_block_find_slow(c, rip, key);
}

/* After a RET to rip: the block the matching CALL's block remembers, or
 * NULL (then the usual lookup runs). */
static inline struct emu_block *emu_block_after_ret(struct emu_cpu *c, uint64_t rip, uint32_t key)
{
	if (c->rs_top == 0)
		return NULL;
	unsigned k = --c->rs_top & 15;
	struct emu_block *caller = c->rs[k].b;
	if (c->rs[k].la != rip || !caller || c->rs[k].flushes != c->arena_flushes)
		return NULL;
	struct emu_block *b = caller->ret_block;
	if (b && caller->ret_la == rip && b->key == key && emu_block_usable(c, b, rip))
		return b;
	uint32_t flushes = c->arena_flushes;
	b = emu_block_find(c, rip, key);
	if (flushes == c->arena_flushes) {
		caller->ret_block = b;
		caller->ret_la = rip;
	}
	return b;
}

/* The block after `prev` (NULL: none known) at rip: first the successors
 * `prev` remembers, then the jump cache; remembers the answer in `prev`. */
static inline struct emu_block *emu_block_next(struct emu_cpu *c, struct emu_block *prev,
                                               uint64_t rip, uint32_t key)
{
	if (EMU_LIKELY(prev != NULL)) {
		for (int k = 0; k < 2; k++)
			if (prev->succ[k].la == rip && prev->succ[k].key == key &&
			    emu_block_usable(c, prev->succ[k].b, rip))
				return prev->succ[k].b;
	}
	uint32_t flushes = c->arena_flushes;
	struct emu_block *b = emu_block_find(c, rip, key);
	if (prev && flushes == c->arena_flushes) {
		unsigned k = prev->succ_next++ & 1;
		prev->succ[k].la = rip;
		prev->succ[k].key = key;
		prev->succ[k].b = b;
	}
	return b;
}

#endif
