/* SPDX-License-Identifier: Apache-2.0 */
/* The decoded-block cache of one vCPU: blocks are keyed by the physical
 * address of their first byte and the decode mode, found through a jump
 * cache keyed by virtual RIP, and dropped when a page they were decoded
 * from changes generation. When the arena is full everything is dropped. */
#include "vm/emu/block.h"

#include "vm/emu/decode.h"
#include "vm/emu/ops.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

/* The hash table starts with 16384 chains (what a new vCPU's first blocks
 * need, faulted in at once) and doubles whenever it holds more than two
 * blocks a chain, up to 2^18 chains: a full arena holds 100000 blocks and
 * more, and every new block's lookup walks its whole chain first. */
#define HASH_BITS0    14u
#define HASH_BITS_MAX 18u
#define ARENA_SIZE    (32u << 20)
#define MAX_INSNS     128u
/* the start of the arena faulted in ahead (prefault) */
#define WARM_ARENA (256u << 10)

/* Fault in the whole pages inside [p, p+n) now. A hint: a kernel without
 * MADV_POPULATE_WRITE (before 5.14) leaves them to their first touches. */
static void prefault(void *p, size_t n)
{
	uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
	uintptr_t b = ((uintptr_t)p + n) & ~(uintptr_t)4095;
	if (b > a)
		madvise((void *)a, b - a, MADV_POPULATE_WRITE);
}

int emu_blocks_init(struct emu_cpu *c)
{
	c->hash_bits = HASH_BITS0;
	c->hash_blocks = 0;
	c->hash = calloc(1u << HASH_BITS0, sizeof(*c->hash));
	c->arena = malloc(ARENA_SIZE);
	c->arena_cap = ARENA_SIZE;
	c->arena_used = 0;
	if (!c->hash || !c->arena)
		return -1;
	/* A new vCPU's first blocks are all new (a restored guest's first
	 * milliseconds: some 850 blocks to its next console line), and each
	 * would otherwise touch fresh pages of the jump cache and the hash
	 * table at random and of the arena in turn, each page faulted in on
	 * the vCPU thread, a read fault first where a lookup missed: faulting
	 * them in here, in one call each, costs less than that. */
	prefault(c->jc, sizeof(c->jc));
	prefault(c->hash, (1u << HASH_BITS0) * sizeof(*c->hash));
	prefault(c->arena, WARM_ARENA);
	return 0;
}

void emu_blocks_free(struct emu_cpu *c)
{
	free(c->hash);
	free(c->arena);
}

static void flush_all(struct emu_cpu *c)
{
	memset(c->hash, 0, ((size_t)1 << c->hash_bits) * sizeof(*c->hash));
	c->hash_blocks = 0;
	c->arena_used = 0;
	c->arena_flushes++;
	memset(c->jc, 0, sizeof(c->jc)); /* the blocks it points to are gone */
}

/* Code decoded one block after the other lies close together: its chains
 * are neighbours too (the chain heads share cache lines). */
static unsigned hash_pa(uint64_t pa, uint32_t key, unsigned bits)
{
	return (unsigned)((pa ^ (pa >> bits) ^ (uint64_t)key << 9) & ((1u << bits) - 1));
}

/* Twice the chains, the blocks moved over; left as it is if memory for
 * that is short (lookups only get slower). */
static void hash_grow(struct emu_cpu *c)
{
	unsigned bits = c->hash_bits + 1;
	struct emu_block **h = calloc((size_t)1 << bits, sizeof(*h));
	if (!h)
		return;
	for (size_t k = 0; k < (size_t)1 << c->hash_bits; k++) {
		struct emu_block *b = c->hash[k], *next;
		for (; b; b = next) {
			next = b->hnext;
			unsigned j = hash_pa(b->pa, b->key, bits);
			b->hnext = h[j];
			h[j] = b;
		}
	}
	free(c->hash);
	c->hash = h;
	c->hash_bits = bits;
}

static int valid(const struct emu_cpu *c, const struct emu_block *b)
{
	return emu_block_valid(c, b);
}

/* Block end marker: fall through to the next block. */
static int op_end(struct emu_cpu *c, struct emu_insn *i)
{
	c->rip += i->off;
	return 1;
}

static int is_jcc(const struct emu_insn *i)
{
	if ((i->pfx & EMU_PFX_LOCK) || i->end - i->off > 15)
		return 0; /* those raise #UD / #GP instead of branching */
	return (i->map == 0 && i->op >= 0x70 && i->op <= 0x7f) ||
	       (i->map == 1 && i->op >= 0x80 && i->op <= 0x8f);
}

static uint32_t mark_code(struct emu_cpu *c, uint64_t pfn)
{
	atomic_store(&c->mem->code[pfn], 1);
	return atomic_load(&c->mem->gen[pfn]);
}

static struct emu_block *decode_block(struct emu_cpu *c, uint64_t rip, uint64_t pa,
                                      const uint8_t *page, uint32_t key)
{
	size_t need = sizeof(struct emu_block) + (MAX_INSNS + 1) * sizeof(struct emu_insn);
	if (c->arena_used + need > c->arena_cap)
		flush_all(c);
	struct emu_block *b = (struct emu_block *)(c->arena + c->arena_used);
	memset(b, 0, sizeof(*b));
	b->pa = pa;
	b->key = key;
	b->pfn0 = b->pfn1 = pa >> 12;
	b->gen0 = b->gen1 = mark_code(c, b->pfn0);
	unsigned csz = key & 15, len = 0, n = 0;
	unsigned pofs = (unsigned)(pa & 0xfff);
	for (;;) {
		struct emu_insn *i = &b->insn[n];
		unsigned avail = 0x1000 - (pofs + len);
		int ends = 0, il;
		if (avail == 0)
			break;
		if (avail >= 15 || n > 0) {
			il = emu_decode(c, page + pofs + len, avail, csz, i, &ends);
			if (il < 0)
				break; /* crosses the page: starts the next block */
		} else {
			/* the block's first instruction crosses into the next page */
			uint8_t buf[16];
			uint64_t pa2;
			memcpy(buf, page + pofs + len, avail);
			const uint8_t *p2 = emu_fetch_page(c, (rip + avail) & c->la_mask, &pa2);
			if (!p2)
				emu_internal(c, "instruction fetch from a page that is not RAM");
			memcpy(buf + avail, p2, 15 - avail);
			b->pfn1 = pa2 >> 12;
			b->gen1 = mark_code(c, b->pfn1);
			il = emu_decode(c, buf, 15, csz, i, &ends);
			ends = 1;
		}
		i->off = (uint16_t)len;
		i->end = (uint16_t)(len + (unsigned)il);
		if (n > 0 && is_jcc(i)) {
			emu_fn f = emu_fuse_jcc(b->insn[n - 1].fn);
			if (f)
				b->insn[n - 1].fn = f;
		}
		len += (unsigned)il;
		n++;
		if (ends || n >= ((key & EMU_KEY_STEP) ? 1 : MAX_INSNS))
			break;
	}
	b->ninsn = n;
	b->len = len;
	b->insn[n] = (struct emu_insn){.fn = op_end, .off = (uint16_t)len};
	c->arena_used += sizeof(struct emu_block) + (n + 1) * sizeof(struct emu_insn);
	c->arena_used = (c->arena_used + 15) & ~(size_t)15;
	return b;
}

struct emu_block *emu_block_find_slow(struct emu_cpu *c, uint64_t rip, uint32_t key)
{
	uint64_t la = rip; /* linear: the caller added CS.base */
	unsigned j = emu_jc_index(la);
	uint64_t pa;
	const uint8_t *page = emu_fetch_page(c, la, &pa);
	if (!page)
		emu_internal(c, "instruction fetch from a page that is not RAM");
	pa |= la & 0xfff;
	unsigned h = hash_pa(pa, key, c->hash_bits);
	struct emu_block **pp = &c->hash[h], *b;
	for (b = *pp; b; pp = &b->hnext, b = *pp)
		if (b->pa == pa && b->key == key)
			break;
	if (b && b->pfn1 != b->pfn0 && valid(c, b)) {
		/* the first instruction crosses a page: the next page must still
		 * be the one it was decoded from */
		uint64_t pa2;
		const uint8_t *p2 =
		    emu_fetch_page(c, ((la & ~0xfffULL) + 0x1000) & c->la_mask, &pa2);
		if (!p2 || (pa2 >> 12) != b->pfn1)
			b->gen1 = ~b->gen1; /* never valid again */
	}
	if (!b || !valid(c, b)) {
		struct emu_block *old = b;
		if (old) { /* unlink the stale block */
			*pp = old->hnext;
			c->hash_blocks--;
		}
		b = decode_block(c, la, pa, page, key); /* may empty the hash when full */
		b->hnext = c->hash[h];
		c->hash[h] = b;
		if (++c->hash_blocks > 2u << c->hash_bits && c->hash_bits < HASH_BITS_MAX)
			hash_grow(c);
	}
	c->jc[j].rip = la;
	c->jc[j].key = key;
	c->jc[j].b = b;
	return b;
}
