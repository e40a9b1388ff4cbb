/* SPDX-License-Identifier: Apache-2.0 */
/* The interpreter: threaded dispatch (computed goto) over the internal form
 * produced by compile.c. Operands are frame slots named by the instruction;
 * calls push a small frame record and continue in the same loop, so deep
 * wasm recursion never recurses on the host stack. */
#include "wasm/guard.h"
#include "wasm/internal.h"
#include "wasm/jit/jit.h"
#include "wasm/numeric.h"
#include "wasm/ops.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) && !defined(__clang__)
#include <sys/ucontext.h>
/* The saved register (guard.c keeps them in gregs order) that holds run()'s
 * pc, pinned there like fp. */
#define PC_GREG REG_R13
#endif

typedef union capsa_wasm_val slot_t;

/* c ? a : b without a branch: selects on data are as good as random to the
 * branch predictor. */
static inline uint64_t pick(uint32_t c, uint64_t a, uint64_t b)
{
	return b ^ ((a ^ b) & -(uint64_t)(c != 0));
}

int wtype_equal(const struct wtype *a, const struct wtype *b)
{
	return a == b || (a->nparams == b->nparams && a->nresults == b->nresults &&
	                  !memcmp(a->types, b->types, a->nparams + a->nresults));
}

const char *capsa_wasm_trap_name(enum capsa_wasm_trap t)
{
	static const char *const names[] = {
	    [CAPSA_WASM_OK] = "no trap",
	    [CAPSA_WASM_TRAP_UNREACHABLE] = "unreachable executed",
	    [CAPSA_WASM_TRAP_MEMORY_OOB] = "out of bounds memory access",
	    [CAPSA_WASM_TRAP_TABLE_OOB] = "out of bounds table access",
	    [CAPSA_WASM_TRAP_INT_DIV_ZERO] = "integer divide by zero",
	    [CAPSA_WASM_TRAP_INT_OVERFLOW] = "integer overflow",
	    [CAPSA_WASM_TRAP_BAD_CONVERSION] = "invalid conversion to integer",
	    [CAPSA_WASM_TRAP_UNDEFINED_ELEMENT] = "undefined element",
	    [CAPSA_WASM_TRAP_UNINITIALIZED_ELEMENT] = "uninitialized element",
	    [CAPSA_WASM_TRAP_INDIRECT_TYPE] = "indirect call type mismatch",
	    [CAPSA_WASM_TRAP_STACK_EXHAUSTED] = "call stack exhausted",
	    [CAPSA_WASM_TRAP_OUT_OF_FUEL] = "out of fuel",
	    [CAPSA_WASM_TRAP_HOST] = "host function failed",
	    [CAPSA_WASM_TRAP_EXIT] = "exit",
	};
	if ((unsigned)t >= CAPSA_WASM_TRAP_COUNT_)
		return "unknown trap";
	return names[t];
}

#define U(n)       (pc[n].u)
#define GET_i32(n) ((uint32_t)fp[U(n)].i32)
#define GET_i64(n) (fp[U(n)].bits)
#define GET_f32(n) (fp[U(n)].f32)
#define GET_f64(n) (fp[U(n)].f64)
/* 32-bit results are written as whole (zero-extended) slots: a later
 * 64-bit read of the slot (a copy, a select) is then served by store
 * forwarding instead of waiting for the store to complete. */
#define SET_i32(n, v) (fp[U(n)].bits = (uint32_t)(v))
#define SET_i64(n, v) (fp[U(n)].bits = (uint64_t)(v))
#define SET_f32(n, v) (fp[U(n)].bits = f32_bits((float)(v)))
#define SET_f64(n, v) (fp[U(n)].f64 = (double)(v))
#define IMM_i32(n)    ((uint32_t)pc[n].u)
#define IMM_i64(n)    (pc[n].u)
#define IMM_f32(n)    f32_from((uint32_t)pc[n].u)
#define IMM_f64(n)    f64_from(pc[n].u)
#define RAW_i32       bits
#define RAW_f32       bits
#define RAW_i64       bits
#define RAW_f64       bits
typedef uint32_t ctype_i32;
typedef uint64_t ctype_i64;
typedef float ctype_f32;
typedef double ctype_f64;

#define NEXT goto * pc->h
/* Fuel: backward branches (loop iterations) and function entries cost one
 * unit each. The interpreter takes fuel from the store in slices of up to
 * FUEL_SLICE units into a local counter, so the hot path is one decrement
 * and compare of a register; when a slice runs out, refuel() also looks at
 * the interrupt flag (set by another thread for --timeout), so an interrupt
 * is seen within one slice. The store's count is exact whenever control
 * leaves the interpreter (host calls, return, trap): SYNC_FUEL gives the
 * unused part of the slice back, which keeps --fuel deterministic. */
#define FUEL_SLICE 16384
#define CHARGE_OR(empty)                                                                           \
	do {                                                                                       \
		if (__builtin_expect(--*budget < 0, 0) && (*budget = refuel(s)) < 0) {             \
			*budget = 0;                                                               \
			empty;                                                                     \
		}                                                                                  \
	} while (0)
#define CHARGE() CHARGE_OR(TRAP(CAPSA_WASM_TRAP_OUT_OF_FUEL))
#define SYNC_FUEL()                                                                                \
	do {                                                                                       \
		if (s->fuel != INT64_MAX)                                                          \
			s->fuel += *budget;                                                        \
		*budget = 0;                                                                       \
	} while (0)
/* Taken branch; a backward one is a loop iteration. */
#define JUMP(off)                                                                                  \
	do {                                                                                       \
		int64_t off_ = (off);                                                              \
		if (__builtin_expect(off_ <= 0, 1))                                                \
			CHARGE();                                                                  \
		pc += off_;                                                                        \
		NEXT;                                                                              \
	} while (0)
#define TRAP(code)                                                                                 \
	do {                                                                                       \
		trap = (code);                                                                     \
		goto trapped;                                                                      \
	} while (0)
/* An instruction of `cells` cells done by a function returning its trap. */
#define BULK(call, cells)                                                                          \
	do {                                                                                       \
		if ((trap = (call)) != CAPSA_WASM_OK)                                              \
			goto trapped;                                                              \
		pc += (cells);                                                                     \
		NEXT;                                                                              \
	} while (0)

/* A slice of fuel for the interpreter's local counter, minus the unit being
 * charged; -1 when the store is out of fuel or interrupted. */
static int64_t refuel(struct capsa_wasm_store *s)
{
	if (s->interrupted)
		return -1;
	int64_t f = s->fuel;
	if (f <= 0)
		return -1;
	int64_t take = f < FUEL_SLICE ? f : FUEL_SLICE;
	if (f != INT64_MAX)
		s->fuel = f - take;
	return take - 1;
}

static void fill_info(struct capsa_wasm_trap_info *info, enum capsa_wasm_trap trap,
                      const struct capsa_wasm_func *cur, const cell *pc)
{
	uint32_t off = 0;
	if (cur && cur->inst && pc >= cur->code && pc < cur->code + cur->wc->ncode)
		off = cur->wc->offs[pc - cur->code];
	wasm_trap_info_fill(info, trap, cur, off);
}

/* The bulk memory and table operations, out of the dispatch loop: each
 * returns its trap, or CAPSA_WASM_OK. */
static enum capsa_wasm_trap memory_fill(const cell *pc, const slot_t *fp,
                                        struct capsa_wasm_memory *mem)
{
	uint64_t d = GET_i32(1), n = GET_i32(3);
	if (d + n > mem->size)
		return CAPSA_WASM_TRAP_MEMORY_OOB;
	memset(mem->base + d, (int)(GET_i32(2) & 0xff), n);
	return CAPSA_WASM_OK;
}

static enum capsa_wasm_trap memory_copy(const cell *pc, const slot_t *fp,
                                        struct capsa_wasm_memory *mem)
{
	uint64_t d = GET_i32(1), sr = GET_i32(2), n = GET_i32(3);
	if (d + n > mem->size || sr + n > mem->size)
		return CAPSA_WASM_TRAP_MEMORY_OOB;
	memmove(mem->base + d, mem->base + sr, n);
	return CAPSA_WASM_OK;
}

static enum capsa_wasm_trap memory_init(const cell *pc, const slot_t *fp,
                                        struct capsa_wasm_memory *mem)
{
	const struct wdata_inst *seg = pc[1].p;
	uint64_t d = GET_i32(2), sr = GET_i32(3), n = GET_i32(4);
	if (d + n > mem->size || sr + n > seg->len)
		return CAPSA_WASM_TRAP_MEMORY_OOB;
	if (n)
		memcpy(mem->base + d, seg->bytes + sr, n);
	return CAPSA_WASM_OK;
}

static enum capsa_wasm_trap table_fill(const cell *pc, const slot_t *fp)
{
	struct capsa_wasm_table *t = pc[1].p;
	uint64_t i = GET_i32(2), n = GET_i32(4);
	uint64_t v = fp[U(3)].bits;
	if (i + n > t->size)
		return CAPSA_WASM_TRAP_TABLE_OOB;
	for (uint64_t k = 0; k < n; k++)
		t->elems[i + k] = v;
	return CAPSA_WASM_OK;
}

static enum capsa_wasm_trap table_copy(const cell *pc, const slot_t *fp)
{
	struct capsa_wasm_table *dt = pc[1].p, *st = pc[2].p;
	uint64_t d = GET_i32(3), sr = GET_i32(4), n = GET_i32(5);
	if (d + n > dt->size || sr + n > st->size)
		return CAPSA_WASM_TRAP_TABLE_OOB;
	if (n)
		memmove(dt->elems + d, st->elems + sr, n * sizeof(uint64_t));
	return CAPSA_WASM_OK;
}

static enum capsa_wasm_trap table_init(const cell *pc, const slot_t *fp)
{
	struct capsa_wasm_table *t = pc[1].p;
	const struct welem_inst *el = pc[2].p;
	uint64_t d = GET_i32(3), sr = GET_i32(4), n = GET_i32(5);
	if (d + n > t->size || sr + n > el->n)
		return CAPSA_WASM_TRAP_TABLE_OOB;
	if (n)
		memcpy(t->elems + d, el->refs + sr, n * sizeof(uint64_t));
	return CAPSA_WASM_OK;
}

/* A function gets its interpreter code on its first call (loading only
 * validated it); out of memory, the call traps. */
static __attribute__((noinline)) int make_code(struct capsa_wasm_func *f)
{
	struct err e;
	return wasm_func_code(f, &e);
}

static enum capsa_wasm_trap run(struct capsa_wasm_store *s, struct capsa_wasm_func *f,
                                uint64_t *cells, struct capsa_wasm_trap_info *info,
                                struct wasm_guard_ctx *g, const void *const **labels_out)
{
#define LBL_X(n)       [OP_##n] = &&L_##n,
#define LBL_N(n, ...)  [OP_##n] = &&L_##n,
#define LBL_B(n, ...)  [OP_##n] = &&L_##n, [OP_##n##_imm] = &&L_##n##_imm,
#define LBL_BR(n, ...) [OP_br_##n] = &&L_br_##n, [OP_br_##n##_imm] = &&L_br_##n##_imm,
#define LBL_S(n, ...)  [OP_##n] = &&L_##n,
#define LBL_AB(n, ...) [OP_addi_br_##n] = &&L_addi_br_##n, [OP_selk_##n] = &&L_selk_##n,
#define LBL_LD(n, ...)                                                                             \
	[OP_##n] = &&L_##n, [OP_##n##_ai] = &&L_##n##_ai, [OP_##n##_g] = &&L_##n##_g,              \
	[OP_##n##_ai_g] = &&L_##n##_ai_g,
#define LBL_ST(n, ...) [OP_##n] = &&L_##n, [OP_##n##_g] = &&L_##n##_g,
#define LBL_FM(n)      [OP_##n] = &&L_##n, [OP_##n##_g] = &&L_##n##_g,
#define LBL_LB(n, ...)                                                                             \
	[OP_i32_##n##_ld] = &&L_i32_##n##_ld, [OP_i32_##n##_ldai] = &&L_i32_##n##_ldai,            \
	[OP_i32_##n##_ld_g] = &&L_i32_##n##_ld_g, [OP_i32_##n##_ldai_g] = &&L_i32_##n##_ldai_g,
	static const void *const labels[OP_COUNT_] = {
	    WASM_CONTROL_OPS(LBL_X) WASM_NUMERIC_OPS(LBL_B, LBL_N, LBL_B, LBL_N)
	        WASM_MEMORY_OPS(LBL_LD, LBL_ST) WASM_BRANCH_CMPS(LBL_BR) WASM_BRANCH_CMPS(LBL_AB)
	            WASM_LDBIN_OPS(LBL_LB) WASM_FUSED_MEM_OPS(LBL_FM) WASM_SIMD_OPS(LBL_S)};
	if (labels_out) {
		*labels_out = labels;
		return CAPSA_WASM_OK;
	}

	enum capsa_wasm_trap trap = CAPSA_WASM_OK;
	slot_t *const stack = (slot_t *)s->stack;
	slot_t *const stack_end = stack + s->lim.stack_cells;
	slot_t *const entry_top = s->sp_top ? (slot_t *)s->sp_top : stack;
	const uint32_t entry_depth = s->depth, max_depth = s->lim.call_depth;
	struct wframe *const frames = s->frames;
	uint32_t depth = entry_depth;
	/* The fuel slice lives in the guard context when there is one, so that a
	 * fault caught by a guard region can give its unspent part back. */
	int64_t budget_local = 0;
	volatile int64_t *const budget = g ? &g->fuel_slice : &budget_local;
	*budget = 0;
	int entry_fuel = 0;
	int info_done = 0;
	/* The frame pointer is used by every handler: pinned too, or the
	 * register allocator may leave it in memory for the whole function. */
#if defined(__x86_64__) && !defined(__clang__)
	register slot_t *fp __asm__("r14") = entry_top;
	/* pc where fault_pc looks for it first (PC_GREG) */
	register cell *pc __asm__("r13") = NULL;
#else
	slot_t *fp = entry_top;
	cell *pc = NULL;
#endif
	slot_t *nfp;
	cell *retpc;
	struct capsa_wasm_func *cur = NULL, *callee;
	struct capsa_wasm_memory *mem = NULL;
	uint8_t *mbase = NULL;
	uint64_t msize = 0;
#define LOAD_MEM()                                                                                 \
	do {                                                                                       \
		mem = cur->inst->mem0;                                                             \
		g->mem = mem;                                                                      \
		g->func = cur;                                                                     \
		if (mem) {                                                                         \
			mbase = mem->base;                                                         \
			msize = mem->size;                                                         \
		}                                                                                  \
	} while (0)
	uint32_t ncells = f->type->pcells > f->type->rcells ? f->type->pcells : f->type->rcells;

	if (fp + ncells > stack_end) {
		fill_info(info, CAPSA_WASM_TRAP_STACK_EXHAUSTED, NULL, NULL);
		return CAPSA_WASM_TRAP_STACK_EXHAUSTED;
	}
	memcpy(fp, cells, (size_t)f->type->pcells * sizeof(slot_t));
	callee = f;
	nfp = fp;
	retpc = NULL;
	if (f->host) {
		struct capsa_wasm_caller caller = {s, NULL, 0};
		s->sp_top = (uint64_t *)(fp + ncells);
		trap = f->host(&caller, f->env, fp);
		s->sp_top = (uint64_t *)entry_top;
		if (trap) {
			fill_info(info, trap, NULL, NULL);
			if (info)
				info->exit_code = caller.exit_code;
			return trap;
		}
		memcpy(cells, fp, (size_t)f->type->rcells * sizeof(slot_t));
		return CAPSA_WASM_OK;
	}

do_call:
	if (depth >= max_depth)
		TRAP(CAPSA_WASM_TRAP_STACK_EXHAUSTED);
	frames[depth++] = (struct wframe){retpc, (uint64_t *)fp, cur};
	fp = nfp;
	cur = callee;
	if (!cur->code && make_code(cur))
		TRAP(CAPSA_WASM_TRAP_HOST);
	pc = cur->code;
	if (fp + cur->wc->frame_cells > stack_end)
		TRAP(CAPSA_WASM_TRAP_STACK_EXHAUSTED);
	memset(fp + cur->type->pcells, 0,
	       (size_t)(cur->wc->nlocal_cells - cur->type->pcells) * sizeof(slot_t));
	LOAD_MEM();
	/* out of fuel on entry: the trap names the body's first instruction */
	CHARGE_OR(entry_fuel = 1; TRAP(CAPSA_WASM_TRAP_OUT_OF_FUEL));
	NEXT;

call_any:
	/* Host functions, and compiled ones whose code runs now (which then
	 * have no interpreter code), are called from here with their arguments
	 * at nfp. A compiled function whose code does not count the fuel of a
	 * metered call is interpreted in this loop: handing it to
	 * wasm_jit_call would come back here one host frame deeper per wasm
	 * call, and deep recursion would overflow the host stack. */
	if (callee->host || wasm_jit_runs(s, callee)) {
		struct capsa_wasm_caller caller = {s, cur->inst, 0};
		s->sp_top = (uint64_t *)(fp + cur->wc->frame_cells);
		s->depth = depth;
		SYNC_FUEL();
		if (callee->host)
			trap = callee->host(&caller, callee->env, nfp);
		else
			info_done = (trap = wasm_jit_call(s, callee, (uint64_t *)nfp, info)) != 0;
		s->sp_top = (uint64_t *)entry_top;
		if (trap) {
			if (info && !info_done)
				info->exit_code = caller.exit_code;
			goto trapped;
		}
		pc = retpc;
		LOAD_MEM();
		NEXT;
	}
	goto do_call;

L_unreachable:
	TRAP(CAPSA_WASM_TRAP_UNREACHABLE);
L_nop:
	pc += 1;
	NEXT;
L_br:
	JUMP(pc[1].i);
L_br_if:
	if (GET_i32(1))
		JUMP(pc[2].i);
	pc += 3;
	NEXT;
L_br_unless:
	if (!GET_i32(1))
		JUMP(pc[2].i);
	pc += 3;
	NEXT;
L_br_table : {
	uint64_t i = GET_i32(1);
	if (i > pc[2].u)
		i = pc[2].u;
	JUMP(pc[3 + i].i);
}
L_loop:
	CHARGE();
	pc += 1;
	NEXT;
L_ret : {
	struct wframe *fr = &frames[--depth];
	if (!fr->pc) {
		memcpy(cells, fp, (size_t)f->type->rcells * sizeof(slot_t));
		s->depth = entry_depth;
		SYNC_FUEL();
		return CAPSA_WASM_OK;
	}
	pc = fr->pc;
	fp = (slot_t *)fr->fp;
	cur = fr->func;
	LOAD_MEM();
	NEXT;
}
L_call:
	callee = pc[1].p;
	nfp = fp + U(2);
	retpc = pc + 3;
	goto call_any;
L_call_indirect : {
	const struct wtype *type = pc[1].p;
	const struct capsa_wasm_table *tab = pc[2].p;
	uint32_t i = GET_i32(3);
	if (i >= tab->size)
		TRAP(CAPSA_WASM_TRAP_UNDEFINED_ELEMENT);
	callee = (struct capsa_wasm_func *)(uintptr_t)tab->elems[i];
	if (!callee)
		TRAP(CAPSA_WASM_TRAP_UNINITIALIZED_ELEMENT);
	if (!wtype_equal(callee->type, type))
		TRAP(CAPSA_WASM_TRAP_INDIRECT_TYPE);
	nfp = fp + U(4);
	retpc = pc + 5;
	goto call_any;
}
L_copy:
	fp[U(1)] = fp[U(2)];
	pc += 3;
	NEXT;
L_copy128:
	fp[U(1)] = fp[U(2)];
	fp[U(1) + 1] = fp[U(2) + 1];
	pc += 3;
	NEXT;
L_const64:
	fp[U(1)].bits = pc[2].u;
	pc += 3;
	NEXT;
L_const128:
	fp[U(1)].bits = pc[2].u;
	fp[U(1) + 1].bits = pc[3].u;
	pc += 4;
	NEXT;
L_select:
	fp[U(1)] = fp[pick(GET_i32(4), U(2), U(3))];
	pc += 5;
	NEXT;
L_select128 : {
	uint64_t k = GET_i32(4) ? U(2) : U(3);
	fp[U(1)] = fp[k];
	fp[U(1) + 1] = fp[k + 1];
	pc += 5;
	NEXT;
}
L_global_get:
	fp[U(1)].bits = ((struct capsa_wasm_global *)pc[2].p)->val[0];
	pc += 3;
	NEXT;
L_global_set:
	((struct capsa_wasm_global *)pc[1].p)->val[0] = fp[U(2)].bits;
	pc += 3;
	NEXT;
L_global_get128:
	fp[U(1)].bits = ((struct capsa_wasm_global *)pc[2].p)->val[0];
	fp[U(1) + 1].bits = ((struct capsa_wasm_global *)pc[2].p)->val[1];
	pc += 3;
	NEXT;
L_global_set128:
	((struct capsa_wasm_global *)pc[1].p)->val[0] = fp[U(2)].bits;
	((struct capsa_wasm_global *)pc[1].p)->val[1] = fp[U(2) + 1].bits;
	pc += 3;
	NEXT;
L_memory_size:
	SET_i32(1, msize / WASM_PAGE);
	pc += 2;
	NEXT;
L_memory_grow:
	SET_i32(1, (uint32_t)wasm_memory_grow(mem, GET_i32(2)));
	LOAD_MEM();
	pc += 3;
	NEXT;
L_memory_fill:
	BULK(memory_fill(pc, fp, mem), 4);
L_memory_copy:
	BULK(memory_copy(pc, fp, mem), 4);
L_memory_init:
	BULK(memory_init(pc, fp, mem), 5);
L_data_drop:
	((struct wdata_inst *)pc[1].p)->len = 0;
	pc += 2;
	NEXT;
L_table_get : {
	const struct capsa_wasm_table *t = pc[2].p;
	uint32_t i = GET_i32(3);
	if (i >= t->size)
		TRAP(CAPSA_WASM_TRAP_TABLE_OOB);
	fp[U(1)].bits = t->elems[i];
	pc += 4;
	NEXT;
}
L_table_set : {
	struct capsa_wasm_table *t = pc[1].p;
	uint32_t i = GET_i32(2);
	if (i >= t->size)
		TRAP(CAPSA_WASM_TRAP_TABLE_OOB);
	t->elems[i] = fp[U(3)].bits;
	pc += 4;
	NEXT;
}
L_table_size:
	SET_i32(1, ((struct capsa_wasm_table *)pc[2].p)->size);
	pc += 3;
	NEXT;
L_table_grow:
	SET_i32(1, (uint32_t)wasm_table_grow(pc[2].p, GET_i32(4), fp[U(3)].bits));
	pc += 5;
	NEXT;
L_table_fill:
	BULK(table_fill(pc, fp), 5);
L_table_copy:
	BULK(table_copy(pc, fp), 6);
L_table_init:
	BULK(table_init(pc, fp), 6);
L_elem_drop:
	((struct welem_inst *)pc[1].p)->n = 0;
	pc += 2;
	NEXT;
L_ref_is_null:
	SET_i32(1, fp[U(2)].bits == 0);
	pc += 3;
	NEXT;
L_ref_func:
	fp[U(1)].bits = (uint64_t)(uintptr_t)pc[2].p;
	pc += 3;
	NEXT;
#define H_BIN(n, opc, ta, tr, expr)                                                                \
	L_##n:                                                                                     \
	{                                                                                          \
		ctype_##ta a = GET_##ta(2), b = GET_##ta(3);                                       \
		SET_##tr(1, (expr));                                                               \
		pc += 4;                                                                           \
		NEXT;                                                                              \
	}                                                                                          \
	L_##n##_imm:                                                                               \
	{                                                                                          \
		ctype_##ta a = GET_##ta(2), b = IMM_##ta(3);                                       \
		SET_##tr(1, (expr));                                                               \
		pc += 4;                                                                           \
		NEXT;                                                                              \
	}
#define H_BR(n, cond, inv)                                                                         \
	L_br_##n:                                                                                  \
	{                                                                                          \
		uint32_t a = GET_i32(1), b = GET_i32(2);                                           \
		if (cond)                                                                          \
			JUMP(pc[3].i);                                                             \
		pc += 4;                                                                           \
		NEXT;                                                                              \
	}                                                                                          \
	L_br_##n##_imm:                                                                            \
	{                                                                                          \
		uint32_t a = GET_i32(1), b = (uint32_t)pc[2].u;                                    \
		if (cond)                                                                          \
			JUMP(pc[3].i);                                                             \
		pc += 4;                                                                           \
		NEXT;                                                                              \
	}
	WASM_BRANCH_CMPS(H_BR)
	/* x = y + K; branch when x cmp L (loop counters). */
#define H_ADDBR(n, cond, inv)                                                                      \
	L_addi_br_##n:                                                                             \
	{                                                                                          \
		uint32_t a = GET_i32(2) + (uint32_t)pc[3].u, b = (uint32_t)pc[4].u;                \
		SET_i32(1, a);                                                                     \
		if (__builtin_expect(cond, 1))                                                     \
			JUMP(pc[5].i);                                                             \
		pc += 6;                                                                           \
		NEXT;                                                                              \
	}
	WASM_BRANCH_CMPS(H_ADDBR)
	/* dst = (x cmp L) ? A : B with constants A, B. */
#define H_SELK(n, cond, inv)                                                                       \
	L_selk_##n:                                                                                \
	{                                                                                          \
		uint32_t a = GET_i32(4), b = (uint32_t)pc[5].u;                                    \
		fp[U(1)].bits = pick(cond, pc[2].u, pc[3].u);                                      \
		pc += 6;                                                                           \
		NEXT;                                                                              \
	}
	WASM_BRANCH_CMPS(H_SELK)
L_i32_add3:
	SET_i32(1, GET_i32(2) + GET_i32(3) + GET_i32(4));
	pc += 5;
	NEXT;
L_selk:
	fp[U(1)].bits = pick(GET_i32(4), pc[2].u, pc[3].u);
	pc += 5;
	NEXT;
#define H_UN(n, opc, ta, tr, expr)                                                                 \
	L_##n:                                                                                     \
	{                                                                                          \
		ctype_##ta a = GET_##ta(2);                                                        \
		SET_##tr(1, (expr));                                                               \
		pc += 3;                                                                           \
		NEXT;                                                                              \
	}
#define H_NONE(...)
	WASM_NUMERIC_OPS(H_BIN, H_UN, H_NONE, H_NONE)

#define DIVOP(n, t, st, minv, expr_s)                                                              \
	L_##n:                                                                                     \
	{                                                                                          \
		ctype_##t a = GET_##t(2), b = GET_##t(3);                                          \
		if (b == 0)                                                                        \
			TRAP(CAPSA_WASM_TRAP_INT_DIV_ZERO);                                        \
		expr_s;                                                                            \
		pc += 4;                                                                           \
		NEXT;                                                                              \
	}                                                                                          \
	L_##n##_imm:                                                                               \
	{                                                                                          \
		ctype_##t a = GET_##t(2), b = IMM_##t(3);                                          \
		if (b == 0)                                                                        \
			TRAP(CAPSA_WASM_TRAP_INT_DIV_ZERO);                                        \
		expr_s;                                                                            \
		pc += 4;                                                                           \
		NEXT;                                                                              \
	}
	DIVOP(i32_div_s, i32, int32_t, INT32_MIN, {
		if ((int32_t)a == INT32_MIN && (int32_t)b == -1)
			TRAP(CAPSA_WASM_TRAP_INT_OVERFLOW);
		SET_i32(1, (uint32_t)((int32_t)a / (int32_t)b));
	})
	DIVOP(i32_div_u, i32, uint32_t, 0, SET_i32(1, a / b))
	DIVOP(i32_rem_s, i32, int32_t, INT32_MIN,
	      SET_i32(1, (int32_t)b == -1 ? 0u : (uint32_t)((int32_t)a % (int32_t)b)))
	DIVOP(i32_rem_u, i32, uint32_t, 0, SET_i32(1, a % b))
	DIVOP(i64_div_s, i64, int64_t, INT64_MIN, {
		if ((int64_t)a == INT64_MIN && (int64_t)b == -1)
			TRAP(CAPSA_WASM_TRAP_INT_OVERFLOW);
		SET_i64(1, (uint64_t)((int64_t)a / (int64_t)b));
	})
	DIVOP(i64_div_u, i64, uint64_t, 0, SET_i64(1, a / b))
	DIVOP(i64_rem_s, i64, int64_t, INT64_MIN,
	      SET_i64(1, (int64_t)b == -1 ? 0u : (uint64_t)((int64_t)a % (int64_t)b)))
	DIVOP(i64_rem_u, i64, uint64_t, 0, SET_i64(1, a % b))

#define TRUNC(n, ta, tr, lo_ok, hi_ok, conv)                                                       \
	L_##n:                                                                                     \
	{                                                                                          \
		ctype_##ta a = GET_##ta(2);                                                        \
		if (a != a)                                                                        \
			TRAP(CAPSA_WASM_TRAP_BAD_CONVERSION);                                      \
		if (!((lo_ok) && (hi_ok)))                                                         \
			TRAP(CAPSA_WASM_TRAP_INT_OVERFLOW);                                        \
		SET_##tr(1, conv);                                                                 \
		pc += 3;                                                                           \
		NEXT;                                                                              \
	}
	TRUNC(i32_trunc_f32_s, f32, i32, a >= -2147483648.0f, a < 2147483648.0f,
	      (uint32_t)(int32_t)a)
	TRUNC(i32_trunc_f32_u, f32, i32, a > -1.0f, a < 4294967296.0f, (uint32_t)a)
	TRUNC(i32_trunc_f64_s, f64, i32, a > -2147483649.0, a < 2147483648.0, (uint32_t)(int32_t)a)
	TRUNC(i32_trunc_f64_u, f64, i32, a > -1.0, a < 4294967296.0, (uint32_t)a)
	TRUNC(i64_trunc_f32_s, f32, i64, a >= -9223372036854775808.0f, a < 9223372036854775808.0f,
	      (uint64_t)(int64_t)a)
	TRUNC(i64_trunc_f32_u, f32, i64, a > -1.0f, a < 18446744073709551616.0f, (uint64_t)a)
	TRUNC(i64_trunc_f64_s, f64, i64, a >= -9223372036854775808.0, a < 9223372036854775808.0,
	      (uint64_t)(int64_t)a)
	TRUNC(i64_trunc_f64_u, f64, i64, a > -1.0, a < 18446744073709551616.0, (uint64_t)a)

/* Loads and stores, checked (CHK) or relying on the guard region (NOCHK).
 * Effective addresses are u32 + u32 (+ u32 for the folded add), so an
 * unchecked access stays below 8 GiB + 8 bytes of the base. */
#define CHK(ea, bytes)                                                                             \
	if (__builtin_expect((ea) + (bytes) > msize, 0))                                           \
	TRAP(CAPSA_WASM_TRAP_MEMORY_OOB)
#define NOCHK(ea, bytes) (void)0
/* The effective address of a load whose address x + K was folded in:
 * the i32.add wraps at 32 bits, the offset (operand off) does not. */
#define EA_AI(x, k, off) ((uint64_t)(uint32_t)((x) + (uint32_t)pc[k].u) + pc[off].u)
/* Two i32 loads at e1 and e2, both checked first. */
#define LOAD_PAIR(a, b, e1, e2, check)                                                             \
	do {                                                                                       \
		check(e1, 4);                                                                      \
		check(e2, 4);                                                                      \
		memcpy(&(a), mbase + (e1), 4);                                                     \
		memcpy(&(b), mbase + (e2), 4);                                                     \
	} while (0)
/* After an access: nothing for checked ones. An unchecked one must not see
 * pc move on before it is done, so that the register holding pc names the
 * faulting instruction when the guard region catches it (guard.c saves the
 * registers; wasm_interp_call finds pc among them). */
#define CHK_END   (void)0
#define NOCHK_END __asm__ volatile("" : "+r"(pc)::"memory")
#define H_LOAD_V(n, t, bytes, ctype, rtype, check)                                                 \
	L_##n:                                                                                     \
	{                                                                                          \
		uint64_t ea = (uint64_t)GET_i32(2) + pc[3].u;                                      \
		ctype v;                                                                           \
		check(ea, bytes);                                                                  \
		memcpy(&v, mbase + ea, bytes);                                                     \
		fp[U(1)].RAW_##t = (rtype)v;                                                       \
		check##_END;                                                                       \
		pc += 4;                                                                           \
		NEXT;                                                                              \
	}
#define H_LOADAI_V(n, t, bytes, ctype, rtype, check)                                               \
	L_##n:                                                                                     \
	{                                                                                          \
		uint64_t ea = EA_AI(GET_i32(2), 4, 3);                                             \
		ctype v;                                                                           \
		check(ea, bytes);                                                                  \
		memcpy(&v, mbase + ea, bytes);                                                     \
		fp[U(1)].RAW_##t = (rtype)v;                                                       \
		check##_END;                                                                       \
		pc += 5;                                                                           \
		NEXT;                                                                              \
	}
#define H_LOAD(n, opc, t, bytes, ctype, rtype)                                                     \
	H_LOAD_V(n, t, bytes, ctype, rtype, CHK)                                                   \
	H_LOAD_V(n##_g, t, bytes, ctype, rtype, NOCHK)                                             \
	H_LOADAI_V(n##_ai, t, bytes, ctype, rtype, CHK)                                            \
	H_LOADAI_V(n##_ai_g, t, bytes, ctype, rtype, NOCHK)
#define H_STORE_V(n, t, bytes, ctype, check)                                                       \
	L_##n:                                                                                     \
	{                                                                                          \
		uint64_t ea = (uint64_t)GET_i32(1) + pc[3].u;                                      \
		ctype v = (ctype)fp[U(2)].RAW_##t;                                                 \
		check(ea, bytes);                                                                  \
		memcpy(mbase + ea, &v, bytes);                                                     \
		check##_END;                                                                       \
		pc += 4;                                                                           \
		NEXT;                                                                              \
	}
#define H_STORE(n, opc, t, bytes, ctype)                                                           \
	H_STORE_V(n, t, bytes, ctype, CHK) H_STORE_V(n##_g, t, bytes, ctype, NOCHK)
/* dst = a OP load(x + offset), and the form with the folded x + K. */
#define H_LDBIN_V(n, expr, sfx, check)                                                             \
	L_i32_##n##_ld##sfx:                                                                       \
	{                                                                                          \
		uint64_t ea = (uint64_t)GET_i32(3) + pc[4].u;                                      \
		uint32_t a = GET_i32(2), b;                                                        \
		check(ea, 4);                                                                      \
		memcpy(&b, mbase + ea, 4);                                                         \
		SET_i32(1, expr);                                                                  \
		check##_END;                                                                       \
		pc += 5;                                                                           \
		NEXT;                                                                              \
	}                                                                                          \
	L_i32_##n##_ldai##sfx:                                                                     \
	{                                                                                          \
		uint64_t ea = EA_AI(GET_i32(3), 5, 4);                                             \
		uint32_t a = GET_i32(2), b;                                                        \
		check(ea, 4);                                                                      \
		memcpy(&b, mbase + ea, 4);                                                         \
		SET_i32(1, expr);                                                                  \
		check##_END;                                                                       \
		pc += 6;                                                                           \
		NEXT;                                                                              \
	}
#define H_LDBIN(n, expr) H_LDBIN_V(n, expr, , CHK) H_LDBIN_V(n, expr, _g, NOCHK)
	WASM_LDBIN_OPS(H_LDBIN)
	/* dst = expr of a = load(x + K + offset) and b = load(y + K' + offset'),
	 * the instruction being `cells` long. */
#define H_LDLD(n, expr, cells, check)                                                              \
	L_##n:                                                                                     \
	{                                                                                          \
		uint64_t e1 = EA_AI(GET_i32(2), 4, 3);                                             \
		uint64_t e2 = EA_AI(GET_i32(5), 7, 6);                                             \
		uint32_t a, b;                                                                     \
		LOAD_PAIR(a, b, e1, e2, check);                                                    \
		SET_i32(1, expr);                                                                  \
		check##_END;                                                                       \
		pc += cells;                                                                       \
		NEXT;                                                                              \
	}
	H_LDLD(i32_add_ldld, a + b, 8, CHK)
	H_LDLD(i32_add_ldld_g, a + b, 8, NOCHK)
	H_LDLD(i32_mul_ldld, a * b, 8, CHK)
	H_LDLD(i32_mul_ldld_g, a * b, 8, NOCHK)
#define H_STADD(n, check)                                                                          \
	L_##n:                                                                                     \
	{                                                                                          \
		uint64_t ea = (uint64_t)GET_i32(1) + pc[4].u;                                      \
		uint32_t v = GET_i32(2) + GET_i32(3);                                              \
		check(ea, 4);                                                                      \
		memcpy(mbase + ea, &v, 4);                                                         \
		check##_END;                                                                       \
		pc += 5;                                                                           \
		NEXT;                                                                              \
	}
	H_STADD(i32_store_add, CHK)
	H_STADD(i32_store_add_g, NOCHK)
	WASM_MEMORY_OPS(H_LOAD, H_STORE)

#define LDV(v, n)                          memcpy(&(v), &fp[U(n)], 16)
#define STV(n, v)                          memcpy(&fp[U(n)], &(v), 16)
#define EACH(n)                            for (int i = 0; i < (n); i++)
#define H_SIMD(n, sub, shape, param, body) H_##shape(n, param, body)
#define H_SH_BIN(n, param, body)                                                                   \
	L_##n:                                                                                     \
	{                                                                                          \
		v128_t a, b, r;                                                                    \
		memset(&r, 0, 16);                                                                 \
		LDV(a, 2);                                                                         \
		LDV(b, 3);                                                                         \
		body;                                                                              \
		STV(1, r);                                                                         \
		pc += 4;                                                                           \
		NEXT;                                                                              \
	}
#define H_SH_UN(n, param, body)                                                                    \
	L_##n:                                                                                     \
	{                                                                                          \
		v128_t a, r;                                                                       \
		memset(&r, 0, 16);                                                                 \
		LDV(a, 2);                                                                         \
		body;                                                                              \
		STV(1, r);                                                                         \
		pc += 3;                                                                           \
		NEXT;                                                                              \
	}
#define H_SH_TERN(n, param, body)                                                                  \
	L_##n:                                                                                     \
	{                                                                                          \
		v128_t a, b, c, r;                                                                 \
		LDV(a, 2);                                                                         \
		LDV(b, 3);                                                                         \
		LDV(c, 4);                                                                         \
		body;                                                                              \
		STV(1, r);                                                                         \
		pc += 5;                                                                           \
		NEXT;                                                                              \
	}
#define H_SH_TEST(n, param, body)                                                                  \
	L_##n:                                                                                     \
	{                                                                                          \
		v128_t a;                                                                          \
		slot_t res;                                                                        \
		res.bits = 0;                                                                      \
		LDV(a, 2);                                                                         \
		body;                                                                              \
		fp[U(1)] = res;                                                                    \
		pc += 3;                                                                           \
		NEXT;                                                                              \
	}
#define H_SH_SHIFT(n, param, body)                                                                 \
	L_##n:                                                                                     \
	{                                                                                          \
		v128_t a, r;                                                                       \
		slot_t s = fp[U(3)];                                                               \
		LDV(a, 2);                                                                         \
		body;                                                                              \
		STV(1, r);                                                                         \
		pc += 4;                                                                           \
		NEXT;                                                                              \
	}
#define H_SPLAT(n, param, body)                                                                    \
	L_##n:                                                                                     \
	{                                                                                          \
		v128_t r;                                                                          \
		slot_t s = fp[U(2)];                                                               \
		body;                                                                              \
		STV(1, r);                                                                         \
		pc += 3;                                                                           \
		NEXT;                                                                              \
	}
#define H_SH_SPLAT_I32 H_SPLAT
#define H_SH_SPLAT_I64 H_SPLAT
#define H_SH_SPLAT_F32 H_SPLAT
#define H_SH_SPLAT_F64 H_SPLAT
#define H_EXTRACT(n, param, body)                                                                  \
	L_##n:                                                                                     \
	{                                                                                          \
		v128_t a;                                                                          \
		slot_t res;                                                                        \
		int L = (int)pc[3].u;                                                              \
		res.bits = 0;                                                                      \
		LDV(a, 2);                                                                         \
		body;                                                                              \
		fp[U(1)] = res;                                                                    \
		pc += 4;                                                                           \
		NEXT;                                                                              \
	}
#define H_SH_EXTRACT_I32 H_EXTRACT
#define H_SH_EXTRACT_I64 H_EXTRACT
#define H_SH_EXTRACT_F32 H_EXTRACT
#define H_SH_EXTRACT_F64 H_EXTRACT
#define H_REPLACE(n, param, body)                                                                  \
	L_##n:                                                                                     \
	{                                                                                          \
		v128_t r;                                                                          \
		slot_t s = fp[U(3)];                                                               \
		int L = (int)pc[4].u;                                                              \
		LDV(r, 2);                                                                         \
		body;                                                                              \
		STV(1, r);                                                                         \
		pc += 5;                                                                           \
		NEXT;                                                                              \
	}
#define H_SH_REPLACE_I32 H_REPLACE
#define H_SH_REPLACE_I64 H_REPLACE
#define H_SH_REPLACE_F32 H_REPLACE
#define H_SH_REPLACE_F64 H_REPLACE
#define H_SH_LOAD(n, param, body)                                                                  \
	L_##n:                                                                                     \
	{                                                                                          \
		uint64_t ea = (uint64_t)GET_i32(2) + pc[3].u;                                      \
		v128_t r;                                                                          \
		if (ea + (param) > msize)                                                          \
			TRAP(CAPSA_WASM_TRAP_MEMORY_OOB);                                          \
		const uint8_t *mp = mbase + ea;                                                    \
		memset(&r, 0, 16);                                                                 \
		body;                                                                              \
		STV(1, r);                                                                         \
		pc += 4;                                                                           \
		NEXT;                                                                              \
	}
#define H_SH_STORE(n, param, body)                                                                 \
	L_##n:                                                                                     \
	{                                                                                          \
		uint64_t ea = (uint64_t)GET_i32(1) + pc[3].u;                                      \
		v128_t a;                                                                          \
		LDV(a, 2);                                                                         \
		if (ea + (param) > msize)                                                          \
			TRAP(CAPSA_WASM_TRAP_MEMORY_OOB);                                          \
		uint8_t *mp = mbase + ea;                                                          \
		body;                                                                              \
		pc += 4;                                                                           \
		NEXT;                                                                              \
	}
#define H_SH_LOAD_LANE(n, param, body)                                                             \
	L_##n:                                                                                     \
	{                                                                                          \
		uint64_t ea = (uint64_t)GET_i32(2) + pc[4].u;                                      \
		v128_t r;                                                                          \
		int L = (int)pc[5].u;                                                              \
		LDV(r, 3);                                                                         \
		if (ea + (param) > msize)                                                          \
			TRAP(CAPSA_WASM_TRAP_MEMORY_OOB);                                          \
		const uint8_t *mp = mbase + ea;                                                    \
		body;                                                                              \
		STV(1, r);                                                                         \
		pc += 6;                                                                           \
		NEXT;                                                                              \
	}
#define H_SH_STORE_LANE(n, param, body)                                                            \
	L_##n:                                                                                     \
	{                                                                                          \
		uint64_t ea = (uint64_t)GET_i32(1) + pc[3].u;                                      \
		v128_t a;                                                                          \
		int L = (int)pc[4].u;                                                              \
		LDV(a, 2);                                                                         \
		if (ea + (param) > msize)                                                          \
			TRAP(CAPSA_WASM_TRAP_MEMORY_OOB);                                          \
		uint8_t *mp = mbase + ea;                                                          \
		body;                                                                              \
		pc += 5;                                                                           \
		NEXT;                                                                              \
	}
	WASM_SIMD_OPS(H_SIMD)
L_i8x16_shuffle : {
	v128_t a, b, r;
	uint8_t lanes[16];
	LDV(a, 2);
	LDV(b, 3);
	memcpy(lanes, &pc[4].u, 8);
	memcpy(lanes + 8, &pc[5].u, 8);
	EACH(16) r.u8[i] = lanes[i] < 16 ? a.u8[lanes[i]] : b.u8[lanes[i] - 16];
	STV(1, r);
	pc += 6;
	NEXT;
}

trapped:
	SYNC_FUEL();
	if (!info_done) /* else the compiled callee said where it trapped */
		fill_info(info, trap, cur, pc);
	if (entry_fuel && info && cur && cur->wc)
		info->offset = cur->wc->entry_off;
	s->depth = entry_depth;
	s->sp_top = (uint64_t *)entry_top;
	return trap;
}

const void *const *wasm_interp_labels(void)
{
	const void *const *labels = NULL;
	run(NULL, NULL, NULL, NULL, NULL, &labels);
	return labels;
}

/* The instruction a guarded access faulted in: the register that held run()'s
 * pc (an unchecked access keeps it on its own first cell, see NOCHK_END) is
 * the one pointing at the first cell of a memory instruction of the
 * function that was running. NULL when no register does. */
static const cell *memop_at(const struct capsa_wasm_func *f, uintptr_t v)
{
	const uintptr_t lo = (uintptr_t)f->code, n = f->wc->ncode;
	if (v < lo || (v - lo) % sizeof(cell) || (v - lo) / sizeof(cell) >= n)
		return NULL;
	uint32_t at = (uint32_t)((v - lo) / sizeof(cell));
	for (uint32_t i = 0; i < f->wc->nrelocs; i++)
		if (f->wc->relocs[i].cell == at && f->wc->relocs[i].kind == RELOC_MEMOP)
			return f->code + at;
	return NULL;
}

static const cell *fault_pc(const struct wasm_guard_ctx *g)
{
	const struct capsa_wasm_func *f = g->func;
	if (!f || !f->wc || !f->code)
		return NULL;
	const cell *pc;
#ifdef PC_GREG
	/* Where run() keeps pc: other registers may still hold the address of
	 * an earlier memory instruction. */
	if (PC_GREG < g->nregs && (pc = memop_at(f, g->regs[PC_GREG])))
		return pc;
#endif
	for (unsigned r = 0; r < g->nregs; r++)
		if ((pc = memop_at(f, g->regs[r])))
			return pc;
	return NULL;
}

/* The fault handler (guard.c) jumps back here when a guarded memory access
 * is out of bounds. What run() held in registers is lost but for the copy
 * the handler saved (fault_pc); the store's fuel stays charged for the whole
 * slice the interpreter had taken. */
enum capsa_wasm_trap wasm_interp_call(struct capsa_wasm_store *s, struct capsa_wasm_func *f,
                                      uint64_t *cells, struct capsa_wasm_trap_info *info)
{
	struct wasm_guard_ctx g;
	const uint32_t depth = s->depth;
	uint64_t *const top = s->sp_top;
	wasm_guard_push(&g);
	g.fuel_slice = 0;
	if (sigsetjmp(g.jb, 0)) {
		wasm_guard_pop(&g);
		if (s->fuel != INT64_MAX && g.fuel_slice > 0)
			s->fuel += g.fuel_slice;
		s->depth = depth;
		s->sp_top = top;
		fill_info(info, CAPSA_WASM_TRAP_MEMORY_OOB, g.func, fault_pc(&g));
		return CAPSA_WASM_TRAP_MEMORY_OOB;
	}
	enum capsa_wasm_trap trap = run(s, f, cells, info, &g, NULL);
	wasm_guard_pop(&g);
	return trap;
}
