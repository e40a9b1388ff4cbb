/* SPDX-License-Identifier: Apache-2.0 */
/* Runtime of compiled code: per-instance code regions (written, then made
 * read+execute, never both), the entry trampoline and trap stubs, the
 * side table from code addresses to wasm offsets, the dedicated stack, and
 * the call entry used by capsa_wasm_call. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "wasm/guard.h"
#include "wasm/jit/helpers.h"
#include "wasm/jit/lazy.h"
#include "wasm/jit/whole.h"
#include "wasm/jit/simd.h"

#define STACK_BYTES  (64ull << 20)
#define STACK_GUARD  (64ull << 10)
#define STACK_MARGIN (256ull << 10) /* left for host and runtime functions */

/* Under AddressSanitizer compiled code runs on the thread's own stack,
 * which the sanitizer knows (it cleans up after a trap's unwinding there). */
#if defined(__SANITIZE_ADDRESS__) || JIT_ASAN_CLANG
#define OWN_STACK 0
#else
#define OWN_STACK 1
#endif

static int host_check(void)
{
#if defined(__x86_64__) && defined(__linux__)
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_POPCNT))
		return 0;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & bit_BMI))
		return 0;
	if (!__get_cpuid(0x80000001, &a, &b, &c, &d) || !(c & bit_LZCNT))
		return 0;
	return 1;
#else
	return 0;
#endif
}

/* CPUID is slow under virtualization: asked once per process. */
static pthread_once_t host_once = PTHREAD_ONCE_INIT;
static int host_ok;

static void host_init(void)
{
	host_ok = host_check();
}

int wasm_jit_host_ok(void)
{
	pthread_once(&host_once, host_init);
	return host_ok;
}

static uint32_t sig_hash(const struct wtype *t)
{
	uint32_t h = (2166136261u ^ t->nparams) * 16777619u;
	h = (h ^ t->nresults) * 16777619u;
	for (uint32_t i = 0; i < t->nparams + t->nresults; i++)
		h = (h ^ t->types[i]) * 16777619u;
	return h;
}

/* Doubles the hash table of signatures (it keeps twice as many slots as
 * signatures); 0, or -1 out of memory. */
static int sig_grow(struct jit_store *js)
{
	uint32_t mask = js->sig_mask ? js->sig_mask * 2 + 1 : 127;
	uint32_t *tab = calloc((size_t)mask + 1, sizeof(uint32_t));
	if (!tab)
		return -1;
	for (uint32_t id = 1; id <= js->nsigs; id++)
		for (uint32_t h = sig_hash(js->sigs[id - 1]);; h++)
			if (!tab[h & mask]) {
				tab[h & mask] = id;
				break;
			}
	free(js->sig_tab);
	js->sig_tab = tab;
	js->sig_mask = mask;
	return 0;
}

/* Finding a signature registered before changes nothing (compiling threads
 * rely on that). */
uint32_t jit_sig(struct jit_store *js, const struct wtype *t)
{
	const uint32_t h = sig_hash(t);
	for (uint32_t k = h; js->sig_tab; k++) {
		uint32_t id = js->sig_tab[k & js->sig_mask];
		if (!id)
			break;
		if (js->sigs[id - 1] == t || wtype_equal(js->sigs[id - 1], t))
			return id;
	}
	if (2 * ((uint64_t)js->nsigs + 1) > (uint64_t)js->sig_mask && sig_grow(js))
		return 0; /* never matches: the slow check decides */
	if (js->nsigs == js->capsigs) {
		uint32_t n = js->capsigs ? js->capsigs * 2 : 64;
		const struct wtype **p = realloc(js->sigs, n * sizeof(*p));
		if (!p)
			return 0;
		js->sigs = p;
		js->capsigs = n;
	}
	js->sigs[js->nsigs++] = t;
	for (uint32_t k = h;; k++)
		if (!js->sig_tab[k & js->sig_mask]) {
			js->sig_tab[k & js->sig_mask] = js->nsigs;
			return js->nsigs;
		}
}

void jit_regs_save(struct xbuf *b, const int *gprs, int n)
{
	x_push(b, RBP);
	x_mov_rr(b, 1, RBP, RSP);
	x_alu_ri(b, 1, OP_AND, RSP, -16);
	x_alu_ri(b, 1, OP_SUB, RSP, 256);
	for (int i = 0; i < 16; i++)
		x_rm(b, 0xf3, 0, 0x0f7f, i, xmem(RSP, 16 * i), 0); /* movdqu */
	for (int i = 0; i < n; i++)
		x_push(b, gprs[i]);
}

void jit_regs_restore(struct xbuf *b, const int *gprs, int n)
{
	for (int i = n - 1; i >= 0; i--)
		x_pop(b, gprs[i]);
	for (int i = 0; i < 16; i++)
		x_rm(b, 0xf3, 0, 0x0f6f, i, xmem(RSP, 16 * i), 0);
	x_mov_rr(b, 1, RSP, RBP);
	x_pop(b, RBP);
}

/* Entry trampoline, trap stub, fuel stub, unwind stub. */
void jit_stubs_emit(struct xbuf *b, struct jit_stubs *st, uint32_t *tramp, uint32_t *unwind)
{
	static const int saved[] = {RBX, RBP, R12, R13, R14, R15};
	static const int volat[] = {RAX, RCX, RDX, RSI, RDI, R8, R9, R10, R11};
	/* tramp(ctx rdi, code rsi, cells rdx, stack_top rcx, ret r8): eax = 0
	 * or trap; ret (if not NULL) gets the RAX of a function returning its
	 * single result there. */
	*tramp = (uint32_t)b->n;
	for (int i = 0; i < 6; i++)
		x_push(b, saved[i]);
	x_store(b, 1, xmem(RDI, CTX_UNWIND), RSP);
	x_mov_rr(b, 1, R15, RDI);
	x_load(b, 1, R13, xmem(R15, CTX_BUDGET));
	x_mov_rr(b, 1, RAX, RSP);
	x_alu_ri(b, 1, OP_AND, RSP, -16);
	x_rr(b, 0, 1, 0x85, RCX, RCX, 0);
	x_rr(b, 0, 1, 0x0f45, RSP, RCX, 0); /* cmovnz rsp, rcx */
	x_push(b, RAX);
	x_push(b, R8);
	x_mov_rr(b, 1, R11, RSI);
	x_mov_rr(b, 1, RSI, RDX);
	x_load(b, 1, RDX, xmem(R15, CTX_DEPTH));
	x_rr(b, 0, 0, 0xff, 2, R11, 0);
	x_pop(b, RDX);
	uint32_t no_ret = x_label(b);
	x_rr(b, 0, 1, 0x85, RDX, RDX, 0); /* test */
	x_jcc(b, CC_E, no_ret);
	x_store(b, 1, xmem(RDX, 0), RAX);
	x_bind(b, no_ret);
	x_pop(b, RSP);
	x_store(b, 1, xmem(R15, CTX_BUDGET), R13);
	x_mov_ri(b, 0, RAX, 0);
	uint32_t tail = x_label(b);
	x_bind(b, tail);
	for (int i = 5; i >= 0; i--)
		x_pop(b, saved[i]);
	x_ret(b);
	/* unwind(ctx rdi, code esi) */
	*unwind = (uint32_t)b->n;
	x_load(b, 1, RSP, xmem(RDI, CTX_UNWIND));
	x_mov_rr(b, 0, RAX, RSI);
	x_jmp(b, tail);
	/* trap: esi = code, [rsp] = the site */
	st->trap = x_label(b);
	x_bind(b, st->trap);
	x_store(b, 1, xmem(R15, CTX_BUDGET), R13);
	x_mov_rr(b, 1, RDI, R15);
	x_load(b, 1, RDX, xmem(RSP, 0));
	x_alu_ri(b, 1, OP_AND, RSP, -16);
	x_call_abs(b, (const void *)jit_h_trap);
	/* fuel: keeps every register the compiled code may use */
	st->fuel = x_label(b);
	x_bind(b, st->fuel);
	jit_regs_save(b, volat, 9);
	x_alu_ri(b, 1, OP_SUB, RSP, 8);
	x_store(b, 1, xmem(R15, CTX_BUDGET), R13);
	x_mov_rr(b, 1, RDI, R15);
	x_load(b, 1, RSI, xmem(RBP, 8));
	x_call_abs(b, (const void *)jit_h_fuel);
	x_load(b, 1, R13, xmem(R15, CTX_BUDGET));
	x_alu_ri(b, 1, OP_ADD, RSP, 8);
	jit_regs_restore(b, volat, 9);
	x_ret(b);
	st->simd = jit_simd_stub(b);
}

static struct jit_store *store_jit(struct capsa_wasm_store *s, struct err *e)
{
	if (s->jit)
		return s->jit;
	struct jit_store *js = calloc(1, sizeof(*js));
	if (!js) {
		err_set(e, ERR_SYSTEM, "out of memory");
		return NULL;
	}
	if (OWN_STACK) {
		js->stack_size = STACK_BYTES;
		void *p = mmap(NULL, js->stack_size, PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
		if (p == MAP_FAILED) {
			free(js);
			err_sys(e, "reserving the stack for compiled code");
			return NULL;
		}
		mprotect(p, STACK_GUARD, PROT_NONE);
		js->stack = p;
	}
	s->jit = js;
	return js;
}

int wasm_jit_eager(struct capsa_wasm_store *s, struct err *e)
{
	struct jit_store *js = store_jit(s, e);
	if (!js)
		return -1;
	js->eager = 1;
	return 0;
}

int wasm_jit_threads(struct capsa_wasm_store *s, int n, struct err *e)
{
	if (n < 0 || n > 2)
		return err_set(e, ERR_INPUT, "compiling threads must be 0, 1 or 2");
	struct jit_store *js = store_jit(s, e);
	if (!js)
		return -1;
	js->threads = n;
	return 0;
}

void wasm_jit_store_free(struct jit_store *js)
{
	if (!js)
		return;
	for (uint32_t i = 0; i < js->nregions; i++) {
		struct jit_region *rg = js->regions[i];
		munmap(rg->code, rg->map_size);
		jit_lazy_free(rg);
		free(rg->sites);
		free(rg);
	}
	free(js->regions);
	free(js->sigs);
	free(js->sig_tab);
	if (js->stack)
		munmap(js->stack, js->stack_size);
	free(js);
}

static const struct jit_region *find_region(const struct jit_store *js, uintptr_t pc)
{
	for (uint32_t i = 0; i < js->nregions; i++) {
		const struct jit_region *rg = js->regions[i];
		/* a return address may be the end of the code */
		if (pc >= (uintptr_t)rg->code && pc <= (uintptr_t)rg->code + rg->size)
			return rg;
	}
	return NULL;
}

uint32_t wasm_jit_uncompiled(const struct capsa_wasm_instance *in)
{
	struct jit_region *rg = in->jit_region;
	if (!rg)
		return 0;
	jit_lazy_finish(rg);
	return rg->uncompiled;
}

void jit_interp_stub(struct jc *c, struct capsa_wasm_func *f)
{
	struct xbuf *b = c->b;
	x_alu_ri(b, 1, OP_SUB, RSP, 8);
	x_store(b, 1, xmem(RSP, 0), RSI);
	x_store(b, 1, xmem(R15, CTX_BUDGET), R13);
	x_store(b, 1, xmem(R15, CTX_DEPTH), RDX);
	x_mov_rr(b, 1, RDX, RSI);
	x_mov_rr(b, 1, RDI, R15);
	x_mov_ri(b, 1, RSI, (uint64_t)(uintptr_t)f);
	x_mov_ri(b, 1, RCX, (uint64_t)(uintptr_t)c->in);
	x_call_abs(b, (const void *)jit_h_call);
	jc_site(c);
	x_load(b, 1, R13, xmem(R15, CTX_BUDGET));
	if (jc_result_in_rax(f->type)) { /* like a compiled function's result */
		x_load(b, 1, RAX, xmem(RSP, 0));
		x_load(b, 1, RAX, xmem(RAX, 0));
	}
	x_alu_ri(b, 1, OP_ADD, RSP, 8);
	x_ret(b);
}

void jit_jc_init(struct jc *c, struct capsa_wasm_instance *in, struct jit_store *js, struct xbuf *b,
                 const struct jit_stubs *st, uint32_t *labels, uint32_t ndef)
{
	memset(c, 0, sizeof(*c));
	c->m = (struct capsa_wasm_module *)in->mod;
	c->in = in;
	c->js = js;
	c->b = b;
	c->st = *st;
	c->func_labels = labels;
	c->reg_labels = labels + ndef;
}

void jit_jc_reuse(struct jc *c)
{
	/* what stays, kept aside (not the whole compiler: it is large) */
	struct {
		struct capsa_wasm_instance *in;
		struct jit_store *js;
		struct xbuf *b;
		struct jit_stubs st;
		uint32_t *func_labels, ndef;
		struct jit_site **sites;
		uint32_t *nsites, *capsites;
		struct jlocal *loc;
		uint64_t *weights;
		struct jv *vs;
		struct jctl *cs;
		struct jtrap *traps;
		struct jtrip *trips;
		uint32_t caploc, capweights, capvs, capcs, captraps, captrips;
	} k = {c->in,     c->js,          c->b,
	       c->st,     c->func_labels, (uint32_t)(c->reg_labels - c->func_labels),
	       c->sites,  c->nsites,      c->capsites,
	       c->loc,    c->weights,     c->vs,
	       c->cs,     c->traps,       c->trips,
	       c->caploc, c->capweights,  c->capvs,
	       c->capcs,  c->captraps,    c->captrips};
	jit_jc_init(c, k.in, k.js, k.b, &k.st, k.func_labels, k.ndef);
	c->sites = k.sites;
	c->nsites = k.nsites;
	c->capsites = k.capsites;
	c->loc = k.loc;
	c->caploc = k.caploc;
	c->weights = k.weights;
	c->capweights = k.capweights;
	c->vs = k.vs;
	c->capvs = k.capvs;
	c->cs = k.cs;
	c->capcs = k.capcs;
	c->traps = k.traps;
	c->captraps = k.captraps;
	c->trips = k.trips;
	c->captrips = k.captrips;
}

void jit_jc_release(struct jc *c)
{
	free(c->trips);
	free(c->weights);
	free(c->loc);
	free(c->vs);
	free(c->cs);
	free(c->traps);
}

/* Whether CAPSA_JIT_DUMP asks for the code (dump_code). */
static int dumping(void)
{
	const char *path = getenv("CAPSA_JIT_DUMP");
	return path && *path;
}

/* CAPSA_JIT_DUMP=FILE: the region's raw code goes to FILE (for objdump -D -b
 * binary -mi386:x86-64) and "offset function-index" lines to FILE.map. A
 * dump that cannot be written is skipped: it never fails the instance. */
static void dump_code(const struct capsa_wasm_module *m, const struct xbuf *b,
                      const uint32_t *labels)
{
	const char *path = getenv("CAPSA_JIT_DUMP");
	if (!path || !*path)
		return;
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(b->p, 1, b->n, f);
		fclose(f);
	}
	char map[4096];
	if (snprintf(map, sizeof(map), "%s.map", path) >= (int)sizeof(map) ||
	    !(f = fopen(map, "w")))
		return;
	for (uint32_t i = 0; i < m->nfuncs - m->nimp_funcs; i++)
		fprintf(f, "%x %u\n", b->labels[labels[i]], m->nimp_funcs + i);
	fclose(f);
}

/* The compiler writes the module's code straight into its mapping
 * (read+write, made read+execute when done): room for eight bytes of code
 * per body byte (the pages it will likely fill are faulted in at once by
 * the compiler, then a window at a time as it needs more). As much room
 * again follows, for a
 * second compiling thread (start_helper; unmapped when unused). Returns the
 * size of the mapping (b then writes into its first half, up to b->room),
 * or 0 when it could not be mapped (b grows on the heap). */
static size_t map_room(struct xbuf *b, const struct capsa_wasm_module *m)
{
	uint64_t len = jit_bodies_len(m);
	uint64_t n = (64u << 10) + 8 * len + 64ull * (m->nfuncs - m->nimp_funcs);
	n = (n + 4095) & ~4095ull;
	if (n > (1ull << 29))
		return 0;
	void *p =
	    mmap(NULL, 2 * (size_t)n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	/* nothing faulted in yet: the compiler does (jit_compile_all) */
	*b = (struct xbuf){.p = p, .fixed = 1, .room = (size_t)n};
	return 2 * (size_t)n;
}

/* Undoes map_room (room 0: nothing to undo); b is empty after. */
static void unmap_room(struct xbuf *b, size_t room)
{
	if (!room)
		return;
	munmap(b->p, room);
	b->p = NULL;
	xb_free(b);
}

/* Room for one more region in js; 0 or -1. */
static int region_room(struct jit_store *js)
{
	if (js->nregions < js->capregions)
		return 0;
	uint32_t n = js->capregions * 2 + 8;
	struct jit_region **p = realloc(js->regions, n * sizeof(*p));
	if (!p)
		return -1;
	js->regions = p;
	js->capregions = n;
	return 0;
}

/* Functions compiled on first call (lazy.c): a region of stubs now. */
/* Whether the store's code counts fuel: decided by its first instance, so
 * that calls between its instances (imports, shared tables) agree. */
static int store_metered(const struct capsa_wasm_store *s, const struct jit_store *js)
{
	return js->nregions ? js->regions[0]->metered
	                    : s->fuel != INT64_MAX || wasm_jit_intr_init();
}

static int lazy_instance(struct capsa_wasm_store *s, struct jit_store *js,
                         struct capsa_wasm_instance *in, struct err *e)
{
	struct jit_region *rg = calloc(1, sizeof(*rg));
	if (!rg || region_room(js)) {
		free(rg);
		return err_set(e, ERR_SYSTEM, "out of memory");
	}
	rg->inst = in;
	rg->metered = store_metered(s, js);
	if (jit_lazy_region(js, in, rg, e)) {
		if (rg->code)
			munmap(rg->code, rg->map_size);
		jit_lazy_free(rg);
		free(rg->sites);
		free(rg);
		return -1;
	}
	js->regions[js->nregions++] = rg;
	in->jit_region = rg;
	return 0;
}

int wasm_jit_instance(struct capsa_wasm_store *s, struct capsa_wasm_instance *in, struct err *e)
{
	struct jit_store *js = store_jit(s, e);
	if (!js)
		return -1;
	/* A dump shows the whole module: compiled now. So is a module whose
	 * region cannot be mapped twice (memory files without execute
	 * permission, vm.memfd_noexec = 2, or a policy refusing them). */
	if (!js->eager && !dumping()) {
		if (!lazy_instance(s, js, in, e))
			return 0;
		err_clear(e);
	}
	const struct capsa_wasm_module *m = in->mod;
	uint32_t ndef = m->nfuncs - m->nimp_funcs;
	struct jit_region *rg = calloc(1, sizeof(*rg));
	uint32_t *labels = calloc(2 * (size_t)ndef + 1, sizeof(uint32_t));
	uint8_t *compiled = calloc(ndef + 1, 1);
	struct xbuf b = {0};
	size_t room = 0, gap = 0;
	int rc = -1;
	if (rg)
		rg->metered = store_metered(s, js);
	if (!rg || !labels || !compiled || region_room(js)) {
		err_set(e, ERR_SYSTEM, "out of memory");
		goto out;
	}
	rg->inst = in;
	room = map_room(&b, m);
	int crc = jit_compile_all(js, in, &b, rg, labels, compiled, dumping(), &gap);
	if (crc && room) {
		/* more code than the mapping has room for: again, in a buffer
		 * that grows */
		unmap_room(&b, room);
		free(rg->sites);
		rg->sites = NULL;
		room = 0;
		crc = jit_compile_all(js, in, &b, rg, labels, compiled, dumping(), &gap);
	}
	if (crc) {
		err_set(e, ERR_SYSTEM, "out of memory compiling the module");
		goto out;
	}
	dump_code(m, &b, labels);
	rg->map_size = (b.n + 4095) & ~(size_t)4095;
	void *p = room ? b.p
	               : mmap(NULL, rg->map_size, PROT_READ | PROT_WRITE,
	                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		err_sys(e, "mapping compiled code");
		goto out;
	}
	if (room) { /* the code is in place: the room it did not use goes */
		if (room > rg->map_size)
			munmap((uint8_t *)p + rg->map_size, room - rg->map_size);
		b.p = NULL;
		room = 0;
	} else {
		memcpy(p, b.p, b.n);
	}
	if (mprotect(p, rg->map_size, PROT_READ | PROT_EXEC)) {
		err_sys(e, "protecting compiled code");
		munmap(p, rg->map_size);
		goto out;
	}
	if (gap) /* the pages between the two threads' code, never written */
		munmap((uint8_t *)p + gap, b.room - gap);
	rg->code = p;
	rg->size = b.n;
	for (uint32_t i = 0; i < ndef; i++) {
		struct capsa_wasm_func *f = in->funcs[m->nimp_funcs + i];
		f->jit_sig = jit_sig(js, f->type);
		if (compiled[i])
			f->jit = rg->code + b.labels[labels[i]];
	}
	js->regions[js->nregions++] = rg;
	in->jit_region = rg;
	rg = NULL;
	rc = 0;
out:
	if (rg)
		free(rg->sites);
	free(rg);
	free(labels);
	free(compiled);
	unmap_room(&b, room);
	xb_free(&b);
	return rc;
}

/* The last site at or before code address pc of region rg, or NULL. */
static const struct jit_site *site_of(const struct jit_region *rg, uintptr_t pc)
{
	if (!rg->nsites)
		return NULL;
	uint32_t at = (uint32_t)(pc - (uintptr_t)rg->code);
	uint32_t lo = 0, hi = rg->nsites;
	while (hi - lo > 1) {
		uint32_t mid = (lo + hi) / 2;
		if (rg->sites[mid].code <= at)
			lo = mid;
		else
			hi = mid;
	}
	return rg->sites[lo].code <= at ? &rg->sites[lo] : NULL;
}

/* A fault anywhere in compiled code, or (code OUT_OF_FUEL, from intr.c) an
 * interrupt of the store while a compiled function runs: continues at the
 * unwind stub, which ends the call with the trap. */
static int resume(struct wasm_guard_ctx *g, void *ucv, int code)
{
#if defined(__x86_64__)
	ucontext_t *uc = ucv;
	struct jit_store *js = g->resume_env;
	uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	const struct jit_region *rg = find_region(js, pc);
	if (!rg)
		return 0;
	int64_t budget = (int64_t)uc->uc_mcontext.gregs[REG_R13];
	if (code == CAPSA_WASM_TRAP_OUT_OF_FUEL) {
		/* not in the stubs (the trampoline, a trap on its way out) */
		if (pc < (uintptr_t)rg->code + rg->body || !js->ctx.store ||
		    !js->ctx.store->interrupted)
			return 0;
		budget = 0;
	}
	js->ctx.trap_pc = pc;
	js->ctx.budget = budget;
	uc->uc_mcontext.gregs[REG_RSI] = code;
	const struct jit_site *st = site_of(rg, pc);
	if (code != CAPSA_WASM_TRAP_OUT_OF_FUEL && st && st->pad &&
	    st->code == (uint32_t)(pc - (uintptr_t)rg->code)) {
		/* in a counted loop (trip.c): charges its fuel, then unwinds */
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(pc + (intptr_t)st->pad);
		return 1;
	}
	uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)(rg->code + rg->unwind);
	uc->uc_mcontext.gregs[REG_RDI] = (greg_t)(uintptr_t)&js->ctx;
	return 1;
#else
	(void)g;
	(void)ucv;
	(void)code;
	return 0;
#endif
}

/* The compiled function whose code holds pc (the one starting last before
 * it), or NULL. */
static const struct capsa_wasm_func *containing_func(const struct jit_region *rg, uintptr_t pc)
{
	const struct capsa_wasm_instance *in = rg->inst;
	const struct capsa_wasm_func *best = NULL;
	for (uint32_t i = in->mod->nimp_funcs; i < in->mod->nfuncs; i++) {
		const struct capsa_wasm_func *f = in->funcs[i];
		if (f->jit && (uintptr_t)f->jit <= pc && (!best || f->jit > best->jit))
			best = f;
	}
	return best;
}

static void fill_from_pc(struct jit_store *js, struct jit_ctx *ctx, enum capsa_wasm_trap t)
{
	const struct jit_region *rg = find_region(js, ctx->trap_pc);
	const struct capsa_wasm_func *f = NULL;
	uint32_t off = 0;
	const struct jit_site *st = rg ? site_of(rg, ctx->trap_pc) : NULL;
	if (st) {
		f = rg->inst->funcs[st->func];
		off = st->wasm;
	}
	/* An interrupt (intr.c) stops code anywhere, maybe before the first
	 * site of its function: then the function is named without an offset. */
	const struct capsa_wasm_func *holder = rg ? containing_func(rg, ctx->trap_pc) : NULL;
	if (t == CAPSA_WASM_TRAP_OUT_OF_FUEL && holder && holder != f) {
		f = holder;
		off = 0;
	}
	wasm_trap_info_fill(ctx->info, t, f, off);
}

/* The lowest address compiled code may use on the thread's stack. */
static uintptr_t thread_stack_limit(void)
{
	pthread_attr_t a;
	void *lo = NULL;
	size_t size = 0;
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	if (pthread_getattr_np(pthread_self(), &a) == 0) {
		pthread_attr_getstack(&a, &lo, &size);
		pthread_attr_destroy(&a);
	}
	uintptr_t limit = (uintptr_t)lo + STACK_MARGIN;
	if (!lo || limit >= sp)
		limit = sp > (1u << 20) ? sp - (1u << 20) : 0;
	return limit;
}

int wasm_jit_runs(const struct capsa_wasm_store *s, const struct capsa_wasm_func *f)
{
	const struct jit_region *rg = f->jit && s->jit ? f->inst->jit_region : NULL;
	return rg && (rg->metered || s->fuel == INT64_MAX);
}

enum capsa_wasm_trap wasm_jit_call(struct capsa_wasm_store *s, struct capsa_wasm_func *f,
                                   uint64_t *cells, struct capsa_wasm_trap_info *info)
{
	struct jit_store *js = s->jit;
	struct jit_ctx *ctx = &js->ctx, saved = *ctx;
	struct capsa_wasm_trap_info dummy;
	const struct jit_region *rg = f->inst->jit_region;
	/* Code without fuel checks cannot count fuel: the interpreter does
	 * (also once interrupted, which empties the fuel). */
	int outer = !ctx->active;
	if (outer)
		wasm_jit_intr_enter(s);
	if (!wasm_jit_runs(s, f)) {
		if (outer)
			wasm_jit_intr_leave(s);
		return wasm_interp_call(s, f, cells, info);
	}
	int (*tramp)(struct jit_ctx *, void *, uint64_t *, uintptr_t, uint64_t *);
	uintptr_t top = 0;
	ctx->store = s;
	ctx->info = info ? info : &dummy;
	ctx->info_done = 0;
	ctx->trap_pc = 0;
	ctx->budget = 0;
	ctx->depth_left = (int64_t)s->lim.call_depth - s->depth;
	if (!ctx->active && OWN_STACK) {
		top = (uintptr_t)js->stack + js->stack_size;
		ctx->stack_limit = (uintptr_t)js->stack + STACK_GUARD + STACK_MARGIN;
	} else if (!ctx->active) {
		ctx->stack_limit = thread_stack_limit();
	}
	ctx->active = 1;
	ctx->unwind = (void (*)(struct jit_ctx *, int))(uintptr_t)(rg->code + rg->unwind);
	tramp = (int (*)(struct jit_ctx *, void *, uint64_t *, uintptr_t, uint64_t *))(
	    uintptr_t)(rg->code + rg->tramp);
	struct wasm_guard_ctx g;
	wasm_guard_push(&g);
	g.resume = resume;
	g.resume_env = js;
	enum capsa_wasm_trap t = (enum capsa_wasm_trap)tramp(
	    ctx, f->jit, cells, top, jc_result_in_rax(f->type) ? cells : NULL);
	wasm_guard_pop(&g);
	if (outer)
		wasm_jit_intr_leave(s);
	if (s->fuel != INT64_MAX && ctx->budget > 0)
		s->fuel += ctx->budget;
	if (t && !ctx->info_done)
		fill_from_pc(js, ctx, t);
	*ctx = saved;
	return t;
}
