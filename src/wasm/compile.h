/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by the function compiler (compile.c) and its
 * extensions for prefixed instructions (compile_ext.c). */
#ifndef CAPSA_WASM_COMPILE_H
#define CAPSA_WASM_COMPILE_H

#include "wasm/internal.h"
#include "wasm/ops.h"
#include "wasm/reader.h"

/* Per function (docs/wasm.md, "Limits"): declared locals and parameters,
 * and cells of the operand stack (v128 values take two). */
#define MAX_LOCALS        (1u << 20)
#define MAX_OPERAND_CELLS 200000u
/* Operand stack entries the compiler may scan (at block boundaries and
 * local.set) per function: a base plus so many per body byte. Real code
 * keeps its stack shallow and stays far below; a deep stack held across
 * many instructions would make compiling quadratic in the body's size. */
#define COMPILE_WORK_BASE     (1ull << 26)
#define COMPILE_WORK_PER_BYTE 64u

enum { K_BLOCK, K_LOOP, K_IF, K_ELSE, K_FUNC };

struct vent {
	uint8_t type;
	uint8_t is_const; /* not yet in any slot: a constant operand */
	uint32_t slot, canon;
	uint64_t cval;
};

struct fix {
	uint32_t op, cell;
};

struct ctl {
	uint8_t kind, single;
	const uint8_t *pt, *rt;
	uint32_t np, nr;
	uint32_t height, base;
	int unreachable; /* rest of the block is unreachable (stack polymorphic) */
	int dead;        /* whole block entered from unreachable code: emit nothing */
	uint32_t start;  /* loop: code index of the loop head */
	uint32_t else_op, else_cell;
	struct fix *fixes;
	uint32_t nfix, capfix;
};

struct cc {
	struct capsa_wasm_module *m;
	struct rd r;
	struct err *e;
	const void *const *labels;
	/* Locals as runs of one type (each parameter, then each declared
	 * group), so that a million declared locals cost no per-local work. */
	struct lrun {
		uint32_t first, slot; /* index of its first local, and that local's slot */
		uint8_t type;
	} * lruns;
	uint32_t nlruns, caplruns;
	uint32_t nlmap; /* locals in lmap (at the end) */
	uint32_t nlocals, nlocal_cells;
	struct vent *vs;
	uint32_t nvs, capvs;
	struct ctl *cs;
	uint32_t ncs, capcs;
	cell *code;
	uint32_t *offs;
	uint32_t ncode, capcode;
	struct reloc *relocs;
	uint32_t nrelocs, caprelocs;
	uint32_t max_cells;
	uint32_t cur_off;
	int64_t last_dst;
	int64_t last_cmp;    /* code index of a just-emitted i32 compare, or -1 */
	int64_t last_addimm; /* code index of a just-emitted i32.add with immediate, or -1 */
	int cmp_kind;        /* its WASM_BRANCH_CMPS index; -2 for i32.eqz */
	int cmp_imm;         /* its second operand is an immediate */
	int64_t last_add;    /* code index of a just-emitted two-slot i32.add, or -1 */
	int64_t last_load;   /* code index of a just-emitted i32.load (either form), or -1 */
	int last_load_ai;    /* it has the folded x + K */
	int64_t prev_load;   /* an i32.load just before that one, or -1 */
	int prev_load_ai;
	int prev_gap;     /* cells of one i32.add between the two (0 or 4) */
	int64_t any_load; /* the latest i32.load emitted (never reset), or -1 */
	int any_load_ai;
	int64_t addimm_at;         /* code index of the latest i32.add with immediate, or -1 */
	uint32_t label_at;         /* code index of the latest branch target: no fusion across it */
	uint64_t work, work_limit; /* operand stack entries scanned, and the bound */
	int oom;                   /* out of memory or over a limit: stop compiling */
	int noemit;                /* validate only: every block is treated as DEAD */
	/* The first nlmap locals directly: slot << 8 | type, filled as the
	 * locals are named (last: the rest is not cleared). */
	uint32_t lmap[256];
};

/* A branch condition: a slot, or a compare folded into the branch. */
struct condv {
	int kind; /* -1: plain slot a; -2: eqz of a; else compare kind */
	int imm;
	uint64_t a, b;
	int add; /* a = s + k first: an i32.add with immediate folded in */
	uint64_t add_s, add_k;
};

#define FAIL(...) err_set(c->e, ERR_INPUT, __VA_ARGS__)
#define TOP       (&c->cs[c->ncs - 1])
#define DEAD      (c->noemit || TOP->unreachable || TOP->dead)

/* A frame's result types, and its label's (a loop's label takes its
 * parameters). */
static inline uint8_t ctl_res(const struct ctl *f, uint32_t i)
{
	return f->rt ? f->rt[i] : f->single;
}
static inline uint32_t label_n(const struct ctl *f)
{
	return f->kind == K_LOOP ? f->np : f->nr;
}
static inline uint8_t label_t(const struct ctl *f, uint32_t i)
{
	return f->kind == K_LOOP ? f->pt[i] : ctl_res(f, i);
}
static inline void set_unreachable(struct cc *c)
{
	struct ctl *f = TOP;
	c->nvs = f->height;
	f->unreachable = 1;
}
/* Read a block type into f's parameter and result types; the empty type
 * inline. */
int wc_read_blocktype_slow(struct cc *c, struct ctl *f);
static inline int wc_read_blocktype(struct cc *c, struct ctl *f)
{
	if (c->r.p < c->r.end && *c->r.p == 0x40) {
		c->r.p++;
		return 0;
	}
	return wc_read_blocktype_slow(c, f);
}
/* Type and slot of local x (< c->nlocals): from lmap, or from the last run
 * starting at or before it (wc_local_run, which extends lmap up to x). */
void wc_local_run(struct cc *c, uint32_t x, uint8_t *type, uint32_t *slot);
static inline void wc_local_at(struct cc *c, uint32_t x, uint8_t *type, uint32_t *slot)
{
	if (x < c->nlmap) {
		*type = (uint8_t)c->lmap[x];
		*slot = c->lmap[x] >> 8;
		return;
	}
	wc_local_run(c, x, type, slot);
}

struct numinfo {
	uint16_t opcode;
	uint8_t bin, ta, tr;
	uint16_t op, op_imm;
};

/* The slot the next operand pushed takes. */
static inline uint32_t wc_next_canon(const struct cc *c)
{
	if (!c->nvs)
		return c->nlocal_cells;
	const struct vent *t = &c->vs[c->nvs - 1];
	return t->canon + (uint32_t)wtype_cells(t->type);
}
uint32_t wc_emit_op(struct cc *c, enum wasm_op op);
uint32_t wc_emit_u(struct cc *c, uint64_t v);
void wc_rewind(struct cc *c, uint32_t to);
void wc_mark_memop(struct cc *c, uint32_t op_cell, enum wasm_op unchecked);
void wc_emit_reloc(struct cc *c, uint8_t kind, uint32_t index);
void wc_emit_const(struct cc *c, uint32_t dst, uint64_t v);
/* wc_push and wc_pop_raw do the common case inline; these do the rest
 * (growing the stack, a new deepest stack, the frame's bottom, errors). */
struct vent *wc_push_slow(struct cc *c, uint8_t type);
int wc_pop_raw_slow(struct cc *c, uint8_t want, struct vent *out);
static inline struct vent *wc_push(struct cc *c, uint8_t type)
{
	if (c->nvs < c->capvs) {
		uint32_t canon = wc_next_canon(c), end = canon + (uint32_t)wtype_cells(type);
		if (end <= c->max_cells || end - c->nlocal_cells <= MAX_OPERAND_CELLS) {
			if (end > c->max_cells)
				c->max_cells = end; /* a new deepest stack */
			struct vent *v = &c->vs[c->nvs++];
			*v = (struct vent){.type = type, .slot = canon, .canon = canon};
			return v;
		}
	}
	return wc_push_slow(c, type);
}
static inline int wc_pop_raw(struct cc *c, uint8_t want, struct vent *out)
{
	if (c->nvs > c->cs[c->ncs - 1].height) {
		const struct vent *v = &c->vs[c->nvs - 1];
		if (v->type == want || want == WASM_TYPE_UNKNOWN) {
			*out = *v;
			c->nvs--;
			return 0;
		}
	}
	return wc_pop_raw_slow(c, want, out);
}
int wc_pop(struct cc *c, uint8_t want, struct vent *out);
int wc_read_memarg(struct cc *c, uint32_t natural, uint32_t *offset);
int wc_zero_byte(struct cc *c);
int wc_check_table(struct cc *c, uint32_t t);
void wc_emit_result_op(struct cc *c, enum wasm_op op, uint8_t type);
int wc_op_numeric(struct cc *c, const struct numinfo *ni);
/* The numeric instructions 0x45..0xc4, then the 0xfc saturating
 * conversions; loads (bin 0) and stores (bin 1) 0x28..0x3e, with the
 * natural alignment in ta and the value type in tr. */
extern const struct numinfo wc_numinfos[], wc_meminfos[];
static inline const struct numinfo *wc_numinfo(uint8_t opcode) /* 0x45..0xc4 */
{
	return &wc_numinfos[opcode - 0x45];
}
static inline const struct numinfo *wc_meminfo(uint8_t opcode) /* 0x28..0x3e */
{
	return &wc_meminfos[opcode - 0x28];
}
int wc_op_memory(struct cc *c, uint8_t opcode); /* 0x28..0x3e */
int wc_op_select(struct cc *c, int typed);
/* Pop an i32 condition, taking back a compare (and counter steps) emitted
 * just before; the caller emits them again as part of its own instruction
 * (a branch, a select) in every form struct condv describes. */
int wc_take_cond(struct cc *c, struct condv *cd);
const struct numinfo *wc_numinfo_fc(uint32_t sub);
/* The 0xfc (bulk memory, tables, saturating conversions) and 0xfd (SIMD)
 * prefixed instructions. */
int wc_op_prefix_fc(struct cc *c);
int wc_op_simd(struct cc *c);
/* Validates and translates one instruction, its opcode already read. */
int wc_compile_instr(struct cc *c, uint8_t op);
/* Before each instruction: its offset, and the checks that stop a body. */
static inline int wc_instr_start(struct cc *c)
{
	if (c->oom)
		return -1;
	c->cur_off = rd_off(&c->r);
	if (c->work > c->work_limit)
		return FAIL("too costly to compile (a deep operand stack kept over many "
		            "instructions) at byte 0x%x",
		            c->cur_off);
	return 0;
}
/* The body's instructions validated only (c->noemit; compile_valid.c). */
int wc_validate_body(struct cc *c);

#endif
