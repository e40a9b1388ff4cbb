/* SPDX-License-Identifier: Apache-2.0 */
/* Compiling each function on its first call (docs/wasm.md, "Compile
 * speed"). Instantiation writes only the shared stubs and two small entry
 * stubs per function; a call through an entry stub that has not been
 * compiled yet jumps to a common stub that saves the argument registers,
 * compiles the function (jit_h_lazy) and goes on into its code. The
 * region's code lives in a shared memory file mapped twice, read+execute
 * (where it runs) and read+write elsewhere (where the compiler writes), so
 * that no page is ever writable and executable at once and compiling one
 * more function needs no mprotect. Functions are placed one after the
 * other, so the side table of sites stays sorted by code address. Once a
 * function is compiled its entry stubs become direct jumps to it, and the
 * calls to it compiled before (noted as pending) are pointed at it: every
 * direct call ends up a `call rel32` to the callee, as when compiling the
 * whole module at once. */
#include "wasm/jit/lazy.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define STUB_BYTES   16u  /* one entry stub: mov r11, imm64; jmp [r11] */
#define INTERP_BYTES 128u /* room kept per function for its interpreter stub */

struct jit_lazy {
	struct jit_store *js;
	struct xbuf b; /* writes into the writable view at the region's offsets */
	uint8_t *rw;
	struct jit_stubs st;
	uint32_t *labels; /* per defined function: entry, register entry */
	uint32_t *stubs;  /* per defined function: offset of its two entry stubs */
	void **slots;     /* per entry stub: where it jumps (common stub until compiled) */
	uint8_t *done;    /* per defined function: compiled or given to the interpreter */
	uint32_t nshared; /* the labels above and the stubs' */
	/* rel32 fields of calls to functions not compiled yet: per entry
	 * label, the index + 1 of the latest in patches, chained by next */
	uint32_t *pending;
	struct lpatch {
		uint32_t at, next;
	} * patches;
	uint32_t npatches, cappatches;
	uint32_t capsites; /* of the region's sites */
	size_t code_end;   /* functions stop here; interpreter stubs may go on */
};

/* Size of the mapping: stubs, room for about eight bytes of machine code
 * per body byte (more than the compiler makes of real code; a function
 * that does not fit is left to the interpreter), at most 1 GiB (code
 * offsets are 32-bit), then room for an interpreter stub per function. */
static size_t lazy_size(const struct capsa_wasm_module *m, size_t *code_end)
{
	uint32_t ndef = m->nfuncs - m->nimp_funcs;
	uint64_t n = (64u << 10) + (uint64_t)ndef * 2 * STUB_BYTES;
	for (uint32_t i = 0; i < ndef; i++)
		n += 8ull * m->code[i].body_len + 64;
	n = (n + (1u << 20) + 4095) & ~4095ull;
	if (n > (1ull << 30))
		n = 1ull << 30;
	*code_end = (size_t)n;
	n += ((uint64_t)ndef * INTERP_BYTES + 4095) & ~4095ull;
	return n > (2ull << 30) ? 0 : (size_t)n;
}

/* The memory file mapped twice; 0 or -1 with e set. */
static int map_twice(struct jit_region *rg, struct jit_lazy *lz, struct err *e)
{
	int fd = memfd_create("capsa-jit", MFD_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "creating the memory file for compiled code");
	void *rx = MAP_FAILED, *rw = MAP_FAILED;
	if (!ftruncate(fd, (off_t)rg->map_size)) {
		rw = mmap(NULL, rg->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		rx = mmap(NULL, rg->map_size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	}
	close(fd);
	if (rw == MAP_FAILED || rx == MAP_FAILED) {
		if (rw != MAP_FAILED)
			munmap(rw, rg->map_size);
		if (rx != MAP_FAILED)
			munmap(rx, rg->map_size);
		return err_sys(e, "mapping compiled code");
	}
	rg->code = rx;
	lz->rw = rw;
	return 0;
}

/* The common stub: R11 points at the slot of the entry stub taken. */
static uint32_t common_stub(struct xbuf *b, struct jit_region *rg)
{
	static const int volat[] = {RAX, RCX, RDX, RSI, RDI, R8, R9, R10, R11};
	uint32_t at = (uint32_t)b->n;
	jit_regs_save(b, volat, 9);
	x_alu_ri(b, 1, OP_SUB, RSP, 8);
	x_store(b, 1, xmem(R15, CTX_BUDGET), R13);
	x_mov_rr(b, 1, RDI, R15);
	x_mov_ri(b, 1, RSI, (uint64_t)(uintptr_t)rg);
	x_mov_rr(b, 1, RDX, R11);
	x_call_abs(b, (const void *)jit_h_lazy);
	x_load(b, 1, R13, xmem(R15, CTX_BUDGET));
	x_alu_ri(b, 1, OP_ADD, RSP, 8);
	jit_regs_restore(b, volat, 9);
	x_rm(b, 0, 0, 0xff, 4, xmem(R11, 0), 0); /* jmp [r11] */
	return at;
}

static void entry_stub(struct xbuf *b, void **slot)
{
	size_t end = b->n + STUB_BYTES;
	x_mov_ri(b, 1, R11, (uint64_t)(uintptr_t)slot);
	x_rm(b, 0, 0, 0xff, 4, xmem(R11, 0), 0); /* jmp [r11] */
	while (b->n < end && !b->oom)
		xb_u8(b, 0xcc);
}

void jit_lazy_free(struct jit_region *rg)
{
	struct jit_lazy *lz = rg->lazy;
	if (!lz)
		return;
	if (lz->rw)
		munmap(lz->rw, rg->map_size);
	lz->b.p = NULL;
	xb_free(&lz->b);
	free(lz->labels);
	free(lz->stubs);
	free(lz->slots);
	free(lz->done);
	free(lz->pending);
	free(lz->patches);
	free(lz);
	rg->lazy = NULL;
}

int jit_lazy_region(struct jit_store *js, struct capsa_wasm_instance *in, struct jit_region *rg,
                    struct err *e)
{
	const struct capsa_wasm_module *m = in->mod;
	uint32_t ndef = m->nfuncs - m->nimp_funcs;
	struct jit_lazy *lz = calloc(1, sizeof(*lz));
	rg->lazy = lz;
	if (!lz || !(rg->map_size = lazy_size(m, &lz->code_end)) ||
	    !(lz->labels = calloc(2 * (size_t)ndef + 1, sizeof(uint32_t))) ||
	    !(lz->stubs = calloc(ndef + 1, sizeof(uint32_t))) ||
	    !(lz->slots = calloc(2 * (size_t)ndef + 1, sizeof(void *))) ||
	    !(lz->done = calloc(ndef + 1, 1)) ||
	    !(lz->pending = calloc(2 * (size_t)ndef + 1, sizeof(uint32_t))))
		return err_set(e, ERR_SYSTEM, "out of memory");
	if (map_twice(rg, lz, e))
		return -1;
	struct xbuf *b = &lz->b;
	lz->js = js;
	b->p = lz->rw;
	b->cap = lz->code_end;
	b->fixed = 1;
	jit_stubs_emit(b, &lz->st, &rg->tramp, &rg->unwind);
	lz->st.metered = rg->metered;
	uint32_t common = common_stub(b, rg);
	rg->body = (uint32_t)b->n; /* an interrupt is taken from here on */
	for (uint32_t i = 0; i < 2 * ndef; i++)
		lz->labels[i] = x_label(b);
	for (uint32_t i = 0; i < ndef; i++) {
		lz->stubs[i] = (uint32_t)b->n;
		for (uint32_t k = 0; k < 2; k++) {
			x_bind(b, lz->labels[k * ndef + i]);
			lz->slots[k * ndef + i] = rg->code + common;
			entry_stub(b, &lz->slots[k * ndef + i]);
		}
	}
	lz->nshared = b->nlabels;
	if (x_resolve(b))
		return err_set(e, ERR_SYSTEM, "out of memory compiling the module");
	b->nfixes = 0;
	rg->size = b->n;
	for (uint32_t i = 0; i < ndef; i++) {
		struct capsa_wasm_func *f = in->funcs[m->nimp_funcs + i];
		f->jit_sig = jit_sig(js, f->type);
		f->jit = rg->code + lz->stubs[i];
	}
	return 0;
}

/* Points entry stub k of function i (0: arguments in memory, 1: also in
 * registers) straight at code offset to: a direct jump. */
static void link_stub(struct jit_lazy *lz, struct jit_region *rg, uint32_t i, uint32_t k,
                      uint32_t to)
{
	uint32_t at = lz->stubs[i] + k * STUB_BYTES;
	int32_t rel = (int32_t)to - (int32_t)(at + 5);
	uint8_t jmp[5] = {0xe9};
	memcpy(jmp + 1, &rel, 4);
	memcpy(lz->rw + at, jmp, 5);
	lz->slots[k * (rg->inst->mod->nfuncs - rg->inst->mod->nimp_funcs) + i] = rg->code + to;
}

/* Notes the calls of the function just compiled to functions not
 * compiled yet; 0, or -1 out of memory (and nothing noted). */
static int note_pending(struct jit_lazy *lz, uint32_t ndef)
{
	const struct xbuf *b = &lz->b;
	if ((uint64_t)lz->npatches + b->nfixes > lz->cappatches) {
		uint64_t n = 2 * ((uint64_t)lz->npatches + b->nfixes);
		struct lpatch *p = n > UINT32_MAX ? NULL : realloc(lz->patches, n * sizeof(*p));
		if (!p)
			return -1;
		lz->patches = p;
		lz->cappatches = (uint32_t)n;
	}
	for (uint32_t k = 0; k < b->nfixes; k++) {
		uint32_t l = b->fixes[k].label - lz->labels[0];
		if (b->fixes[k].label < lz->labels[0] || l >= 2 * ndef || lz->done[l % ndef])
			continue;
		lz->patches[lz->npatches] = (struct lpatch){b->fixes[k].at, lz->pending[l]};
		lz->pending[l] = ++lz->npatches;
	}
	return 0;
}

/* Points the pending calls to entry label l (0 .. 2 * ndef) at its code. */
static void patch_pending(struct jit_lazy *lz, uint32_t l)
{
	int32_t to = lz->b.labels[lz->labels[l]];
	for (uint32_t k = lz->pending[l]; k; k = lz->patches[k - 1].next) {
		uint32_t at = lz->patches[k - 1].at;
		int32_t rel = to - (int32_t)(at + 4);
		memcpy(lz->rw + at, &rel, 4);
	}
	lz->pending[l] = 0;
}

/* Compiles defined function i at the end of the region's code; its
 * entries, or 0 when it is left to the interpreter. */
static uint32_t compile_one(struct jit_region *rg, uint32_t i)
{
	struct jit_lazy *lz = rg->lazy;
	const struct capsa_wasm_module *m = rg->inst->mod;
	uint32_t ndef = m->nfuncs - m->nimp_funcs;
	struct xbuf *b = &lz->b;
	while (b->n % 16 && !b->oom)
		xb_u8(b, 0xcc);
	size_t start = b->n;
	uint32_t nsites = rg->nsites;
	int32_t entry = b->labels[lz->labels[i]], reg = b->labels[lz->labels[ndef + i]];
	struct jc c;
	jit_jc_init(&c, rg->inst, lz->js, b, &lz->st, lz->labels, ndef);
	c.sites = &rg->sites;
	c.nsites = &rg->nsites;
	c.capsites = &lz->capsites;
	x_bind(b, lz->labels[i]);
	int rc = b->oom ? -1 : jc_function(&c, i);
	jit_jc_release(&c);
	if (!rc && !x_resolve(b) && !note_pending(lz, ndef))
		return 1;
	b->n = start;
	b->oom = 0;
	rg->nsites = nsites;
	b->labels[lz->labels[i]] = entry;
	b->labels[lz->labels[ndef + i]] = reg;
	return 0;
}

void jit_h_lazy(struct jit_ctx *ctx, struct jit_region *rg, void **slot)
{
	(void)ctx;
	struct jit_lazy *lz = rg->lazy;
	uint32_t ndef = rg->inst->mod->nfuncs - rg->inst->mod->nimp_funcs;
	uint32_t k = (uint32_t)(slot - lz->slots);
	jit_lazy_compile(rg, k < ndef ? k : k - ndef);
}

/* Function i left to the interpreter: a stub calling it, after the code
 * so far (room for one per function is kept past code_end). */
static void give_up(struct jit_region *rg, uint32_t i)
{
	struct jit_lazy *lz = rg->lazy;
	const struct capsa_wasm_module *m = rg->inst->mod;
	uint32_t ndef = m->nfuncs - m->nimp_funcs;
	struct xbuf *b = &lz->b;
	struct capsa_wasm_func *f = rg->inst->funcs[m->nimp_funcs + i];
	b->cap = rg->map_size;
	while (b->n % 16 && !b->oom)
		xb_u8(b, 0xcc);
	uint32_t at = (uint32_t)b->n;
	struct jc c;
	jit_jc_init(&c, rg->inst, lz->js, b, &lz->st, lz->labels, ndef);
	c.sites = &rg->sites;
	c.nsites = &rg->nsites;
	c.capsites = &lz->capsites;
	c.fidx = m->nimp_funcs + i;
	c.cur_off = m->code[i].body_off;
	/* the interpreter reads every argument from the cells: a direct call
	 * passing some in registers enters after the loads and stores them */
	uint32_t reg_label = lz->labels[ndef + i];
	jc_entry_args(&c, f->type, reg_label, 1);
	uint32_t reg = (uint32_t)b->labels[reg_label];
	jit_interp_stub(&c, f);
	b->cap = lz->code_end;
	rg->uncompiled++;
	f->jit = NULL;
	link_stub(lz, rg, i, 0, at);
	link_stub(lz, rg, i, 1, reg);
	b->labels[lz->labels[i]] = (int32_t)at;
}

void jit_lazy_compile(struct jit_region *rg, uint32_t i)
{
	struct jit_lazy *lz = rg->lazy;
	const struct capsa_wasm_module *m = rg->inst->mod;
	uint32_t ndef = m->nfuncs - m->nimp_funcs;
	if (!lz || i >= ndef || lz->done[i])
		return;
	struct xbuf *b = &lz->b;
	lz->done[i] = 1;
	int ok = compile_one(rg, i);
	b->nfixes = 0;
	b->nlabels = lz->nshared;
	if (ok) {
		link_stub(lz, rg, i, 0, (uint32_t)b->labels[lz->labels[i]]);
		link_stub(lz, rg, i, 1, (uint32_t)b->labels[lz->labels[ndef + i]]);
		rg->inst->funcs[m->nimp_funcs + i]->jit = rg->code + b->labels[lz->labels[i]];
	} else {
		give_up(rg, i);
	}
	patch_pending(lz, i);
	patch_pending(lz, ndef + i);
	rg->size = b->n;
}

void jit_lazy_finish(struct jit_region *rg)
{
	if (!rg->lazy)
		return;
	const struct capsa_wasm_module *m = rg->inst->mod;
	for (uint32_t i = 0; i < m->nfuncs - m->nimp_funcs; i++)
		jit_lazy_compile(rg, i);
}
