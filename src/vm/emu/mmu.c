/* SPDX-License-Identifier: Apache-2.0 */
/* Address translation: the 4-level page walk (with NX, global pages,
 * accessed/dirty bits, 2 MiB and 1 GiB pages, CR0.WP, #PF error codes),
 * the software TLB it fills, and the slow paths of guest memory access
 * (page-crossing, MMIO, stores to pages holding decoded code). 32-bit
 * non-PAE and legacy PAE paging are not implemented. */
#include "vm/emu/internal.h"

#define PTE_P     (1ULL << 0)
#define PTE_W     (1ULL << 1)
#define PTE_U     (1ULL << 2)
#define PTE_A     (1ULL << 5)
#define PTE_D     (1ULL << 6)
#define PTE_PS    (1ULL << 7)
#define PTE_G     (1ULL << 8)
#define PTE_NX    (1ULL << 63)
#define PHYS_BITS 40
#define ADDR_MASK (((1ULL << PHYS_BITS) - 1) & ~0xfffULL)

#define PF_P    1u
#define PF_W    2u
#define PF_U    4u
#define PF_RSVD 8u
#define PF_I    16u

/* Permissions found by a walk. */
struct xlate {
	uint64_t pa;
	int w, x, u, g, dirty, large;
};

static _Noreturn void page_fault(struct emu_cpu *c, uint64_t la, uint32_t err)
{
	c->s.cr2 = la;
	emu_raise(c, EMU_PF, EMU_ERR, err);
}

/* Atomically set bits in a page-table entry in guest RAM. */
static void pte_set(struct emu_cpu *c, uint64_t pa, uint64_t bits)
{
	uint64_t *p = gm_ptr(&c->mem->gm, pa, 8);
	if (p && (__atomic_fetch_or(p, bits, __ATOMIC_SEQ_CST) & bits) != bits)
		gm_dirty_mark(&c->mem->dirty, &c->mem->gm, pa, 8);
}

static uint64_t pte_read(struct emu_cpu *c, uint64_t pa)
{
	uint64_t *p = gm_ptr(&c->mem->gm, pa, 8);
	return p ? __atomic_load_n(p, __ATOMIC_RELAXED) : 0;
}

static void walk(struct emu_cpu *c, uint64_t la, enum emu_acc acc, int user, struct xlate *t)
{
	uint32_t fe = (acc == EMU_ACC_W ? PF_W : 0) | (user ? PF_U : 0);
	int nxe = (c->s.efer & EMU_EFER_NXE) != 0;
	if (acc == EMU_ACC_X && nxe)
		fe |= PF_I;
	if (!(c->s.efer & EMU_EFER_LMA))
		emu_internal(c, "32-bit (non-long-mode) paging is not implemented");
	if ((uint64_t)((int64_t)(la << 16) >> 16) != la)
		emu_gp0(c);
	uint64_t rsvd = ~ADDR_MASK & ~0xfffULL & ~PTE_NX;
	if (!nxe)
		rsvd |= PTE_NX;
	uint64_t table = c->s.cr3 & ADDR_MASK, pte = 0, pte_pa[4];
	int w = 1, u = 1, x = 1, level;
	for (level = 3; level >= 0; level--) {
		uint64_t pa = table + (((la >> (12 + 9 * level)) & 511) << 3);
		pte_pa[level] = pa;
		pte = pte_read(c, pa);
		if (!(pte & PTE_P))
			page_fault(c, la, fe);
		uint64_t r = rsvd;
		if (level == 3)
			r |= PTE_PS;
		if ((pte & PTE_PS) && (level == 1 || level == 2))
			r |= ((1ULL << (12 + 9 * level)) - 1) &
			     ~0x1fffULL; /* PAT bit 12 is allowed */
		if (pte & r & ~0xfffULL)
			page_fault(c, la, fe | PF_P | PF_RSVD);
		w &= !!(pte & PTE_W);
		u &= !!(pte & PTE_U);
		x &= !(pte & PTE_NX) || !nxe;
		if (level == 0 || (pte & PTE_PS))
			break;
		table = pte & ADDR_MASK;
	}
	int ok = 1;
	if (user && !u)
		ok = 0;
	if (acc == EMU_ACC_W && !w && (user || (c->s.cr0 & EMU_CR0_WP)))
		ok = 0;
	if (acc == EMU_ACC_X && !x)
		ok = 0;
	if (!ok)
		page_fault(c, la, fe | PF_P);
	for (int l = 3; l >= level; l--)
		emu_recent_note(c, pte_pa[l] >> 12);
	for (int l = 3; l > level; l--)
		pte_set(c, pte_pa[l], PTE_A);
	uint64_t leaf = PTE_A | (acc == EMU_ACC_W ? PTE_D : 0);
	if ((pte & leaf) != leaf)
		pte_set(c, pte_pa[level], leaf);
	uint64_t pmask = (1ULL << (12 + 9 * level)) - 1;
	t->pa = ((pte & ADDR_MASK & ~pmask) | (la & pmask)) & ~0xfffULL;
	t->w = user ? (w && u) : (!(c->s.cr0 & EMU_CR0_WP) || w);
	t->u = u;
	t->large = level > 0;
	t->x = x && (!user || u);
	t->g = (pte & PTE_G) && (c->s.cr4 & EMU_CR4_PGE);
	t->dirty = acc == EMU_ACC_W || (pte & PTE_D);
}

static void translate(struct emu_cpu *c, uint64_t la, enum emu_acc acc, int user, struct xlate *t)
{
	if (!(c->s.cr0 & EMU_CR0_PG)) {
		*t = (struct xlate){.pa = la & ~0xfffULL, .w = 1, .x = 1, .u = 1, .dirty = 1};
		return;
	}
	walk(c, la, acc, user, t);
}

/* An entry that allowed writing is replaced or dropped: stores through it
 * since the last dirty-log take may not be marked yet, so mark its page
 * (mem/dirty.h ignores this while logging is off). */
static inline void tlb_retire(struct emu_cpu *c, const struct emu_tlb_entry *e)
{
	if (e->w != EMU_TLB_INVALID)
		gm_dirty_mark(&c->mem->dirty, &c->mem->gm, e->pa, 1);
}

/* Translate and remember the result in the TLB of the accessing privilege. */
static uint64_t xlate_fill(struct emu_cpu *c, uint64_t la, enum emu_acc acc, int user)
{
	struct xlate t;
	translate(c, la, acc, user, &t);
	uint8_t *host = emu_mem_page(c->mem, t.pa);
	if (host) {
		struct emu_tlb_entry *e = &c->tlbs[user][(la >> 12) & (EMU_TLB_SIZE - 1)];
		uint64_t page = la & ~0xfffULL;
		emu_recent_note(c, t.pa >> 12);
		tlb_retire(c, e);
		e->r = page;
		e->w = t.w && t.dirty ? page : EMU_TLB_INVALID;
		if (e->w == page) /* the one place a page becomes writable */
			gm_dirty_mark(&c->mem->dirty, &c->mem->gm, t.pa, 1);
		e->x = t.x ? page : EMU_TLB_INVALID;
		e->addend = (uintptr_t)host - page;
		e->code = &c->mem->code[t.pa >> 12];
		e->pa = t.pa;
		e->global = (uint8_t)t.g;
		c->tlb_large |= (uint8_t)t.large;
	}
	return t.pa | (la & 0xfff);
}

/* The page-table pages below the root that map la (4-level paging) into
 * pa[n..max); returns the new n. Reads only. */
static size_t table_pages(struct emu_cpu *c, uint64_t la, uint64_t *pa, size_t n, size_t max)
{
	uint64_t table = c->s.cr3 & ADDR_MASK;
	for (int level = 3; level > 0; level--) {
		uint64_t pte = pte_read(c, table + (((la >> (12 + 9 * level)) & 511) << 3));
		if (!(pte & PTE_P) || (pte & PTE_PS) || n >= max)
			break;
		table = pte & ADDR_MASK;
		pa[n++] = table;
	}
	return n;
}

size_t emu_cpu_recent_pages(struct emu_cpu *c, uint64_t *pa, size_t max)
{
	size_t n = 0;
	int paging = (c->s.cr0 & EMU_CR0_PG) != 0, four = (c->s.efer & EMU_EFER_LMA) != 0;
	if (paging && n < max)
		pa[n++] = c->s.cr3 & ADDR_MASK;
	for (int u = 0; u < 2; u++)
		for (unsigned k = 0; k < EMU_TLB_SIZE && n < max; k++) {
			const struct emu_tlb_entry *e = &c->tlbs[u][k];
			uint64_t la = e->r != EMU_TLB_INVALID ? e->r : e->x;
			if (la == EMU_TLB_INVALID)
				continue;
			pa[n++] = e->pa;
			if (paging && four)
				n = table_pages(c, la, pa, n, max);
		}
	return emu_recent_pages(c, pa, n, max);
}

/* The next instruction of the running block re-enters the run loop, which
 * finds the block stale and decodes the new bytes. */
static int op_smc_stop(struct emu_cpu *c, struct emu_insn *i)
{
	c->rip += i->off;
	return 1;
}

/* A store to physical page pa hits decoded code: invalidate it, and if it
 * is the running block's page, end that block after this instruction. */
static void code_store(struct emu_cpu *c, uint64_t pa)
{
	uint64_t pfn = pa >> 12;
	if (pfn >= c->mem->npages || !atomic_load(&c->mem->code[pfn]))
		return;
	emu_mem_code_written(c->mem, pfn);
	struct emu_block *b = c->blk;
	if (b && c->cur && (b->pfn0 == pfn || b->pfn1 == pfn))
		c->cur[1].fn = op_smc_stop;
}

static void phys_access(struct emu_cpu *c, uint64_t pa, uint8_t *buf, unsigned n, int wr)
{
	uint8_t *h = gm_ptr(&c->mem->gm, pa, n);
	if (h) {
		if (wr) {
			code_store(c, pa);
			memcpy(h, buf, n);
		} else {
			memcpy(buf, h, n);
		}
		return;
	}
	if (c->bus.mmio && (n == 1 || n == 2 || n == 4 || n == 8)) {
		c->bus.mmio(c->bus.ctx, pa, buf, n, wr);
	} else if (c->bus.mmio) {
		for (unsigned k = 0; k < n; k++)
			c->bus.mmio(c->bus.ctx, pa + k, buf + k, 1, wr);
	} else if (!wr) {
		memset(buf, 0xff, n);
	}
}

/* Access n bytes at la (any length, any alignment) as `user` or not. */
static void access(struct emu_cpu *c, uint64_t la, uint8_t *buf, unsigned n, int wr, int user)
{
	enum emu_acc acc = wr ? EMU_ACC_W : EMU_ACC_R;
	/* an address above 4 GiB is a 64-bit one even while compatibility-mode
	 * code runs (system structures) */
	uint64_t m = la > 0xffffffffULL ? ~0ULL : c->la_mask;
	while (n) {
		unsigned in_page = 0x1000 - (unsigned)(la & 0xfff);
		unsigned k = n < in_page ? n : in_page;
		/* translate every page first so a fault on the second page of a
		 * store leaves memory unchanged */
		if (k < n && wr)
			xlate_fill(c, (la + k) & m, acc, user);
		uint64_t pa = xlate_fill(c, la, acc, user);
		phys_access(c, pa, buf, k, wr);
		buf += k;
		n -= k;
		la = (la + k) & m;
	}
}

uint64_t emu_ld_slow(struct emu_cpu *c, uint64_t la, unsigned len)
{
	uint64_t v = 0;
	access(c, la, (uint8_t *)&v, len, 0, c->cpl == 3);
	return v;
}

void emu_st_slow(struct emu_cpu *c, uint64_t la, unsigned len, uint64_t v)
{
	access(c, la, (uint8_t *)&v, len, 1, c->cpl == 3);
}

void emu_rdn(struct emu_cpu *c, uint64_t la, void *dst, unsigned n)
{
	access(c, la, dst, n, 0, c->cpl == 3);
}

void emu_wrn(struct emu_cpu *c, uint64_t la, const void *src, unsigned n)
{
	uint8_t tmp[512];
	while (n) {
		unsigned k = n < sizeof(tmp) ? n : (unsigned)sizeof(tmp);
		memcpy(tmp, src, k);
		access(c, la, tmp, k, 1, c->cpl == 3);
		src = (const uint8_t *)src + k;
		la = (la + k) & c->la_mask;
		n -= k;
	}
}

/* System structures (GDT, IDT, TSS, the stacks of an event delivery) have
 * 64-bit linear addresses in IA-32e mode, also while compatibility-mode
 * code runs. */
static uint64_t sys_mask(const struct emu_cpu *c)
{
	return c->long_mode ? ~0ULL : 0xffffffffULL;
}

void emu_rd_sys(struct emu_cpu *c, uint64_t la, void *dst, unsigned n)
{
	access(c, la & sys_mask(c), dst, n, 0, 0);
}

void emu_wr_sys(struct emu_cpu *c, uint64_t la, const void *src, unsigned n)
{
	uint8_t tmp[64];
	if (n > sizeof(tmp))
		n = sizeof(tmp);
	memcpy(tmp, src, n);
	access(c, la & sys_mask(c), tmp, n, 1, 0);
}

uint8_t *emu_page_ptr(struct emu_cpu *c, uint64_t la, enum emu_acc acc)
{
	uint64_t pa = xlate_fill(c, la, acc, c->cpl == 3);
	uint8_t *h = emu_mem_page(c->mem, pa);
	if (!h)
		return NULL;
	if (acc == EMU_ACC_W)
		code_store(c, pa);
	return h + (pa & 0xfff);
}

void *emu_rmw_begin_slow(struct emu_cpu *c, uint64_t la, unsigned len, int locked)
{
	int user = c->cpl == 3;
	if ((la & 0xfff) + len <= 0x1000) {
		uint64_t pa = xlate_fill(c, la, EMU_ACC_W, user);
		uint8_t *h = gm_ptr(&c->mem->gm, pa, len);
		if (h) {
			code_store(c, pa);
			return h;
		}
	} else {
		xlate_fill(c, (la + len - 1) & c->la_mask, EMU_ACC_W, user);
		xlate_fill(c, la, EMU_ACC_W, user);
	}
	if (locked) {
		pthread_mutex_lock(&c->mem->lock);
		c->bounce_locked = 1;
	}
	access(c, la, c->bounce, len, 0, user);
	c->bounce_la = la;
	c->bounce_len = len;
	return c->bounce;
}

void emu_rmw_end_slow(struct emu_cpu *c)
{
	access(c, c->bounce_la, c->bounce, c->bounce_len, 1, c->cpl == 3);
	if (c->bounce_locked) {
		c->bounce_locked = 0;
		pthread_mutex_unlock(&c->mem->lock);
	}
}

const uint8_t *emu_fetch_page(struct emu_cpu *c, uint64_t la, uint64_t *pa_out)
{
	int user = c->cpl == 3;
	struct emu_tlb_entry *e = &c->tlbs[user][(la >> 12) & (EMU_TLB_SIZE - 1)];
	if (e->x == (la & ~0xfffULL)) {
		*pa_out = e->pa;
		return (const uint8_t *)(e->addend + (la & ~0xfffULL));
	}
	uint64_t pa = xlate_fill(c, la, EMU_ACC_X, user) & ~0xfffULL;
	*pa_out = pa;
	return emu_mem_page(c->mem, pa);
}

void emu_tlb_flush(struct emu_cpu *c, int keep_global)
{
	for (int u = 0; u < 2; u++) {
		for (unsigned k = 0; k < EMU_TLB_SIZE; k++) {
			struct emu_tlb_entry *e = &c->tlbs[u][k];
			if (keep_global && e->global)
				continue;
			tlb_retire(c, e);
			e->r = e->w = e->x = EMU_TLB_INVALID;
			e->global = 0;
		}
	}
	if (!keep_global)
		c->tlb_large = 0;
}

void emu_tlb_flush_page(struct emu_cpu *c, uint64_t la)
{
	if (c->tlb_large) { /* a large page is cached in many entries */
		emu_tlb_flush(c, 0);
		return;
	}
	for (int u = 0; u < 2; u++) {
		struct emu_tlb_entry *e = &c->tlbs[u][(la >> 12) & (EMU_TLB_SIZE - 1)];
		if ((e->r & ~0xfffULL) == (la & ~0xfffULL) || e->r == (la & ~0xfffULL)) {
			tlb_retire(c, e);
			e->r = e->w = e->x = EMU_TLB_INVALID;
			e->global = 0;
		}
	}
}

void emu_tlb_drop_writes(struct emu_cpu *c)
{
	for (int u = 0; u < 2; u++) {
		for (unsigned k = 0; k < EMU_TLB_SIZE; k++) {
			struct emu_tlb_entry *e = &c->tlbs[u][k];
			tlb_retire(c, e);
			e->w = EMU_TLB_INVALID;
		}
	}
}
