/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the single-pass compiler (func.c, ops.c, mem.c) and its
 * runtime (runtime.c, helpers.c).
 *
 * Frame of a compiled function, addressed from RSP (which stays put in the
 * body): [rsp] the caller's argument/result cells, [rsp + 8] the calls left
 * before "call stack exhausted" (the frame's own depth), then one 8-byte
 * slot per local, then one per operand stack position. Values on the abstract
 * operand stack are constants, registers, (unread) locals or their own
 * slot; every position has a fixed slot. At block boundaries and calls
 * everything is written to its slot; locals the compiler keeps in
 * registers stay there (and are saved around calls).
 *
 * Internal calling convention: RSI points at the argument cells (results
 * are written back there, except a single result of a signature without
 * v128 values, which is in RAX only: the entry trampoline stores it; direct
 * calls pass the first four integer and four float arguments in RCX, R8,
 * R9, R10 and XMM0-3, jc_arg_reg, and only there, the cells of those are
 * not written), R15 holds the per-store context, R14 the base
 * of the instance's memory 0, R13 the fuel budget (ctx->budget while
 * compiled code runs; stored there before any call into the runtime);
 * RDX carries the caller's depth into a call (the callee decrements it:
 * a chain through registers and frames, not one counter in memory that
 * every call and return would update), and ctx->depth_left holds it while
 * the runtime runs; every other register is clobbered. */
#ifndef CAPSA_WASM_JIT_JC_H
#define CAPSA_WASM_JIT_JC_H

#include <stddef.h>

/* AddressSanitizer as clang announces it. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JIT_ASAN_CLANG 1
#endif
#endif
#ifndef JIT_ASAN_CLANG
#define JIT_ASAN_CLANG 0
#endif

#include "wasm/internal.h"
#include "wasm/jit/jit.h"
#include "wasm/jit/x64.h"
#include "wasm/reader.h"

/* R15 points here; the offsets are part of the generated code. */
struct jit_ctx {
	int64_t budget;        /* fuel taken from the store, spent downwards */
	int64_t depth_left;    /* the same, of the frame calling the runtime */
	uintptr_t stack_limit; /* lowest RSP a frame may reach */
	uintptr_t unwind_rsp;  /* the entry trampoline's RSP, for traps */
	struct capsa_wasm_store *store;
	struct capsa_wasm_trap_info *info;
	uintptr_t trap_pc; /* code address a trap is attributed to */
	int info_done;     /* info already filled (by the interpreter) */
	int active;        /* compiled code is running on this store */
	void (*unwind)(struct jit_ctx *ctx, int code); /* the trap path's stub */
};
#define CTX_BUDGET 0
#define CTX_DEPTH  8
#define CTX_LIMIT  16
#define CTX_UNWIND 24

/* A code address with the wasm byte offset and function it stands for: a
 * memory access (a fault there is an out-of-bounds trap) or the return
 * address of a call into the runtime. */
struct jit_site {
	uint32_t code, wasm, func;
	/* A fault here continues this far ahead instead of at the unwind
	 * stub (0: no), on code that first charges fuel (trip.c). */
	int32_t pad;
};

/* One instance's machine code: stubs first, then the functions. */
struct jit_region {
	uint8_t *code;
	size_t size, map_size;
	struct jit_site *sites;
	uint32_t nsites;
	struct capsa_wasm_instance *inst;
	uint32_t uncompiled;
	uint32_t tramp, unwind; /* stub offsets */
	struct jit_lazy *lazy;  /* functions compiled on first call (lazy.c) */
	uint32_t body;          /* offset of the first function, after the stubs */
	/* Fuel checks at entries and loop back edges (in all regions of a
	 * store or in none). Code without them is stopped by an interrupt
	 * through a signal (intr.c) and is never run while the store's fuel
	 * is limited (the interpreter runs instead). */
	int metered;
};

struct jit_store {
	struct jit_ctx ctx;
	uint8_t *stack;
	size_t stack_size;
	struct jit_region **regions;
	uint32_t nregions, capregions;
	const struct wtype **sigs; /* canonical signatures; id = index + 1 */
	uint32_t nsigs, capsigs;
	uint32_t *sig_tab, sig_mask; /* hash table of their ids (0: empty) */
	int eager;                   /* compile instances whole, not on first call */
	int threads;                 /* wasm_jit_threads */
};

/* Stubs shared by the functions of a region (labels in its buffer). */
struct jit_stubs {
	uint32_t trap, fuel; /* trap: ESI = code; fuel: called at entries/loops */
	uint32_t simd;       /* calls RAX(R11) keeping every register (simd_rt.c) */
	int metered;         /* fuel checks compiled in (jit_region.metered) */
};

enum { JV_CONST, JV_REG, JV_LOCAL, JV_SLOT };

struct jv {
	uint8_t kind, type, reg;
	uint32_t local;
	uint64_t c;
};

struct jctl {
	uint8_t kind; /* 0 block, 1 loop, 2 if, 3 else, 4 function */
	uint32_t height, np, nr;
	const uint8_t *pt, *rt;
	uint8_t single;
	uint32_t label, else_label;
	uint32_t extra;  /* if: first frame slot saving its parameters */
	int unreachable; /* the rest of the block is dead code */
};

struct jlocal {
	uint8_t type;
	int8_t reg;    /* -1: lives in its frame slot */
	uint32_t widx; /* v128: index of its 16-byte home */
};

/* Out-of-line code at the end of the function: a trap, or (code
 * JT_FUEL) the slow path of a fuel check that returns to back. */
#define JT_FUEL 0xff
struct jtrap {
	uint32_t label, wasm, back;
	uint8_t code;
};

struct jc {
	struct capsa_wasm_module *m;
	struct capsa_wasm_instance *in;
	struct jit_store *js;
	struct xbuf *b;
	struct jit_stubs st;
	struct rd r;
	uint32_t fidx; /* module-wide index of the function */
	const struct wtype *ft;
	uint32_t *func_labels; /* per defined function: entry with the arguments in memory */
	uint32_t *reg_labels;  /* ... and with the first ones in registers too */
	struct jlocal *loc;
	uint32_t nlocals, caploc;
	uint64_t *weights; /* prepass: per local, all zero between functions */
	uint32_t capweights;
	uint32_t reglocals[16], nreglocals; /* the locals kept in registers */
	/* Their save before calls [1], and their reload with the memory base
	 * after calls [0], as first written in this function (offset and
	 * length in b; length 0: not yet): the same bytes every time, later
	 * ones are copies. */
	uint32_t xfer_at[2], xfer_len[2];
	struct jv *vs;
	uint32_t nvs, capvs, maxh;
	struct jctl *cs;
	uint32_t ncs, capcs;
	struct jtrap *traps;
	uint32_t ntraps, captraps;
	struct jit_site **sites; /* the region's, shared by its functions */
	uint32_t *nsites, *capsites;
	uint8_t busy[32];    /* 0-15 general registers, 16-31 XMM */
	uint32_t cur_off;    /* module offset of the instruction being compiled */
	uint8_t pending_cmp; /* a compare left for the next br_if/if (0: none) */
	uint32_t nextra;     /* frame slots saving the parameters of if blocks */
	uint32_t extra_used;
	uint32_t frame_fix;
	int uses_mem; /* has memory instructions: keeps R14 loaded */
	/* Operand stack entries scanned, and the bound (so that a hostile
	 * deep stack cannot make compiling quadratic): over it, the function
	 * is left to the interpreter. */
	uint64_t work, work_limit;
	int fail; /* out of memory or not supported: leave it to the interpreter */
	/* v128 values (simd.c): 16-byte homes above the 8-byte slots, whose
	 * size is known at the end of the function: the code addresses the
	 * area with provisional displacements (JW_LATE_BASE, JW_LATE_CELLS)
	 * that jc_wide_frame completes. */
	int wide;          /* the function has v128 values or uses the area */
	uint32_t wbase;    /* frame offset of the 16-byte area */
	uint32_t nwlocals; /* v128 locals */
	uint32_t wmaxh;    /* stack height the area has room for */
	uint32_t wcells;   /* cells of the largest call marshalled through it */
	int simd_level;    /* SSE level + 1 (0: not asked yet) */
	struct jconst {
		uint64_t q[2];
		uint32_t label;
	} pool[32]; /* v128 constants, after the function's code */
	uint32_t npool;
	/* Counted loops (trip.c): those of the function, trip_open - 1 the
	 * innermost open one (0: none); their frame cells from trip_cell. */
	struct jtrip *trips;
	uint32_t ntrips, captrips, trip_cell;
	int trip_open;
};

/* pending_cmp: the compare is done (a load tested against zero), the
 * flags hold it and ZF means true. */
#define JC_CMP_ZF 0xfe
#define XMM(n)    (16 + (n))
#define JC_DEPTH  8 /* frame offset of the frame's depth */
/* The largest frame a compiled function may have. A bigger one (hundreds
 * of thousands of locals) is left to the interpreter, whose frames are on
 * the heap: on a thread's own stack (8 MiB by default, where compiled code
 * runs under AddressSanitizer) it could exhaust the stack in one call. */
#define JC_MAX_FRAME (4u << 20)

static inline int jt_isf(uint8_t t)
{
	return t == CAPSA_WASM_F32 || t == CAPSA_WASM_F64;
}
/* Kept in an XMM register: floats and v128. */
static inline int jt_isx(uint8_t t)
{
	return jt_isf(t) || t == CAPSA_WASM_V128;
}
static inline int jt_w(uint8_t t)
{
	return t != CAPSA_WASM_I32 && t != CAPSA_WASM_F32;
}
static inline struct xm jc_slot(const struct jc *c, uint32_t pos)
{
	return xmem(RSP, (int32_t)(16 + 8 * (c->nlocals + c->nextra + pos)));
}
/* The 16-byte area: scratch for runtime calls, v128 locals, v128 stack
 * positions, then the cells of calls with v128 arguments. */
#define JW_SCRATCH 96
/* Provisional wbase, and 16 * wmaxh, while a function is compiled: apart
 * from each other and from every 8-byte slot's offset. */
#define JW_LATE_BASE  0x10000000u
#define JW_LATE_CELLS 0x20000000u
static inline struct xm jc_wlocal(const struct jc *c, uint32_t widx)
{
	struct xm m = xmem(RSP, (int32_t)(c->wbase + JW_SCRATCH + 16 * widx));
	m.late = 1;
	return m;
}
static inline struct xm jc_local(const struct jc *c, uint32_t i)
{
	if (i < c->nlocals && c->loc[i].type == CAPSA_WASM_V128)
		return jc_wlocal(c, c->loc[i].widx);
	return xmem(RSP, (int32_t)(16 + 8 * i));
}
/* The home of a value of type t at stack position pos. */
struct xm jc_vslot(struct jc *c, uint32_t pos, uint8_t type);

/* Value stack (vstack.c): push and pop inline, the rare cases there. */
void jc_push_grow(struct jc *c, struct jv v);
struct jv jc_pop_empty(struct jc *c);
static inline void jc_push(struct jc *c, struct jv v)
{
	if (c->nvs == c->capvs) {
		jc_push_grow(c, v);
		return;
	}
	c->vs[c->nvs++] = v;
	if (c->nvs > c->maxh)
		c->maxh = c->nvs;
}
static inline struct jv jc_pop(struct jc *c)
{
	return c->nvs ? c->vs[--c->nvs] : jc_pop_empty(c);
}
int jc_alloc(struct jc *c, int xmm);
void jc_free(struct jc *c, const struct jv *v);
void jc_free_reg(struct jc *c, int r);
/* A register holding v's value that the caller may overwrite (v's own
 * temporary when it has one). pos is v's stack position. */
int jc_take(struct jc *c, const struct jv *v, uint32_t pos);
/* A register holding v's value, read-only (a register local as is). */
int jc_reg(struct jc *c, const struct jv *v, uint32_t pos, int *temp);
void jc_load(struct jc *c, const struct jv *v, uint32_t pos, int dst);
void jc_spill_all(struct jc *c);
void jc_store_to(struct jc *c, const struct jv *v, uint32_t pos, struct xm m);
void jc_detach_local(struct jc *c, uint32_t x);
void jc_store_reg(struct jc *c, uint8_t type, struct xm m, int src);
void jc_load_mem(struct jc *c, uint8_t type, int dst, struct xm m);
void jc_evict(struct jc *c, int r);
/* Register moves dst[i] = src[i] done as if at once (dst distinct; RAX and
 * XMM15 break cycles); src may be changed. */
void jc_pmove(struct jc *c, uint32_t n, const int *dst, int *src);
/* Whether a signature has no v128 value: only such calls pass arguments
 * and a result in registers; the others pass every value in memory, in
 * the interpreter's cell layout (a v128 is two cells). */
static inline int jc_sig_plain(const struct wtype *ft)
{
	return ft->pcells == ft->nparams && ft->rcells == ft->nresults;
}
/* Whether a function of type ft returns its result in RAX: one result,
 * a plain signature. */
static inline int jc_result_in_rax(const struct wtype *ft)
{
	return ft->nresults == 1 && jc_sig_plain(ft);
}
/* The register that carries argument k of a direct call, or -1 (every
 * argument of a signature with v128 values travels in memory). */
int jc_arg_reg(const struct wtype *ft, uint32_t k);
void jc_push_reg(struct jc *c, uint8_t type, int r);
/* Before and after a call out of the function: spill, save register locals;
 * then reload them and the memory base. */
void jc_before_call(struct jc *c);
void jc_before_helper(struct jc *c); /* also stores the fuel budget */
/* jc_before_call for a direct call to a compiled function whose arguments
 * are the values from position base: those passed in registers stay where
 * they are (the callee takes them from the registers). */
void jc_before_direct_call(struct jc *c, uint32_t base, const struct wtype *ft);
/* A function's two entries (jc.h): with the arguments in memory only, it
 * loads those passed in registers; then (reg_label) the direct entry, which
 * stores them to the argument cells when store is set. */
void jc_entry_args(struct jc *c, const struct wtype *ft, uint32_t reg_label, int store);
void jc_after_call(struct jc *c);
/* When the next instruction is local.set or local.tee of a local of type
 * kept in a register (and src, an operand still to be read, is not that
 * local), consumes it and returns the register for the result to go to
 * (*tee: the local to push for a tee, else -1); -1 otherwise. */
int jc_dst_local(struct jc *c, uint8_t type, const struct jv *src, int *tee);
/* Pushes a result computed into dst (to_local: dst is jc_dst_local's). */
void jc_push_dst(struct jc *c, uint8_t type, int dst, int tee, int to_local);
void jc_site(struct jc *c);                     /* at the current code address */
uint32_t jc_trap_label(struct jc *c, int code); /* out-of-line trap */
void jc_mem_base(struct jc *c);

/* Instructions (ops.c, mem.c); return 0, or -1 when not compiled. */
int jc_op_numeric(struct jc *c, uint8_t op);
int jc_op_fc(struct jc *c, uint32_t sub);
int jc_op_memory(struct jc *c, uint8_t op);
int jc_op_misc(struct jc *c, uint8_t op); /* globals, tables, refs, memory.size/grow */
/* A branch condition: an i32 value (cmp 0) or an integer compare (its
 * opcode) whose operands were popped but not compared yet. */
struct jcond {
	uint8_t cmp;
	struct jv a, b, v;
	uint32_t pa, pb, pos;
};
void jc_pop_cond(struct jc *c, struct jcond *cd);
/* Emits the compare; returns the condition code true when it holds. */
int jc_cmp_emit(struct jc *c, struct jcond *cd);
/* Compares and jumps to label when the condition is jump_if. */
void jc_cmp_branch(struct jc *c, struct jcond *cd, int jump_if, uint32_t label);

/* SIMD (simd.c): the 0xfd instructions; v128 copies between homes; calls
 * whose signature has v128 values (their cells go through the area). */
int jc_op_simd(struct jc *c, uint32_t sub);
void jc_copy16(struct jc *c, struct xm dst, struct xm src);
struct xm jc_cells(struct jc *c);
void jc_marshal(struct jc *c, const struct wtype *ft, uint32_t base, int back);
/* At the end of a function using the 16-byte area: places it above the
 * 8-byte part of the frame, completes the displacements addressing it and
 * returns the frame's size (at least frame). */
uint32_t jc_wide_frame(struct jc *c, uint32_t frame);
/* Around a call from a runtime stub into C: keep every XMM register and
 * the general registers gprs[0..n) (RBP holds the RSP of entry, the frame
 * below is aligned to 16 bytes before the pushes). */
void jit_regs_save(struct xbuf *b, const int *gprs, int n);
void jit_regs_restore(struct xbuf *b, const int *gprs, int n);
void jc_const_pool(struct jc *c);
struct xm jc_address(struct jc *c, struct jv *a, uint32_t pa, uint32_t offset, uint32_t size,
                     int *reg);

/* Skipping instructions' immediates (func.c). */
int jc_skip_imm(struct rd *r, uint8_t op);

/* Function compiler (func.c). */
int jc_function(struct jc *c, uint32_t defidx);

/* Runtime (runtime.c, helpers.c). */
/* A compiler for one function of in into b (sites left to the caller);
 * labels: per defined function its entry, then its register entry. */
void jit_jc_init(struct jc *c, struct capsa_wasm_instance *in, struct jit_store *js, struct xbuf *b,
                 const struct jit_stubs *st, uint32_t *labels, uint32_t ndef);
void jit_jc_release(struct jc *c);
/* c ready for the next function of the same buffer: its arrays (and
 * their room) are kept, the rest starts afresh. */
void jit_jc_reuse(struct jc *c);
/* A function left to the interpreter, callable like a compiled one. */
void jit_interp_stub(struct jc *c, struct capsa_wasm_func *f);
void jit_stubs_emit(struct xbuf *b, struct jit_stubs *st, uint32_t *tramp, uint32_t *unwind);
_Noreturn void jit_unwind(struct jit_ctx *ctx, int code, uintptr_t pc);
uint32_t jit_sig(struct jit_store *js, const struct wtype *t);

#endif
