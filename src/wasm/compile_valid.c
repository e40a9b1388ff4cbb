/* SPDX-License-Identifier: Apache-2.0 */
/* The validation fast path: loading a module validates every body with
 * compile_func without emitting code; there the frequent instructions in
 * their well-typed form take this short path. It applies the translator's
 * typing rules from the same sources (the numeric and memory tables, the
 * locals' and globals' types, the frames' label types) and does none of
 * its emission and fusion bookkeeping. Anything else (a type error, an
 * immediate out of range, a rare or prefixed instruction) is left to
 * wc_compile_instr from the instruction's start, so errors and their
 * messages are the translator's own. It takes values of known types
 * only (the unknown type of unreachable code is left to the translator,
 * but for a frame ending with nothing on its stack), and counts the same
 * work (c->work) and computes the same frame size (c->max_cells) as the
 * translator for the same instruction. */
#include "wasm/compile.h"

static const uint8_t type_i32 = CAPSA_WASM_I32;

/* The n values below the top skip ones have types t[0..n), in this
 * frame. */
static inline int stack_has(const struct cc *c, uint32_t skip, const uint8_t *t, uint32_t n)
{
	if (c->nvs - TOP->height < skip + n)
		return 0;
	uint32_t at = c->nvs - skip - n;
	for (uint32_t i = 0; i < n; i++)
		if (c->vs[at + i].type != t[i])
			return 0;
	return 1;
}

/* The top values are what a branch to l carries. */
static inline int label_ok(const struct cc *c, const struct ctl *l)
{
	uint32_t n = label_n(l);
	if (c->nvs - TOP->height < n)
		return 0;
	uint32_t at = c->nvs - n;
	for (uint32_t i = 0; i < n; i++)
		if (c->vs[at + i].type != label_t(l, i))
			return 0;
	return 1;
}

/* The frame holds exactly its results (or nothing, past an unconditional
 * branch: then any results may be taken). */
static inline int results_ok(const struct cc *c, const struct ctl *f)
{
	if (f->unreachable && c->nvs == f->height)
		return 1;
	if (c->nvs - f->height != f->nr)
		return 0;
	for (uint32_t i = 0; i < f->nr; i++)
		if (c->vs[f->height + i].type != ctl_res(f, i))
			return 0;
	return 1;
}

/* Pops n values (n >= 1) and pushes one of type t, which takes no more
 * cells than the first popped value: as wc_push would, in that value's
 * place. */
static int replace_top(struct cc *c, uint32_t n, uint8_t t)
{
	c->nvs -= n - 1;
	struct vent *v = &c->vs[c->nvs - 1];
	*v = (struct vent){.type = t, .slot = v->canon, .canon = v->canon};
	return 1;
}

/* The values from index `from` up, popped and pushed again as they are:
 * in their canonical slots, no longer constants. */
static void repush(struct cc *c, uint32_t from)
{
	for (uint32_t i = from; i < c->nvs; i++) {
		struct vent *v = &c->vs[i];
		*v = (struct vent){.type = v->type, .slot = v->canon, .canon = v->canon};
	}
}

static int push_types(struct cc *c, const uint8_t *t, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!wc_push(c, t[i]))
			return -1;
	return 0;
}

static int push_results(struct cc *c, const struct ctl *f)
{
	for (uint32_t i = 0; i < f->nr; i++)
		if (!wc_push(c, ctl_res(f, i)))
			return -1;
	return 0;
}

/* block, loop and if (op 0x02..0x04). */
static int v_block(struct cc *c, uint8_t op)
{
	struct ctl bt = {0};
	uint32_t cond = op == 0x04;
	if (c->ncs >= c->capcs || wc_read_blocktype(c, &bt))
		return 0;
	if ((cond && !stack_has(c, 0, &type_i32, 1)) || !stack_has(c, cond, bt.pt, bt.np))
		return 0;
	c->nvs -= cond;
	c->work += c->nvs; /* the translator materializes the stack */
	c->nvs -= bt.np;
	uint8_t kind = op == 0x02 ? K_BLOCK : op == 0x03 ? K_LOOP : K_IF;
	struct ctl *f = &c->cs[c->ncs++];
	*f = (struct ctl){.kind = kind,
	                  .single = bt.single,
	                  .pt = bt.pt,
	                  .rt = bt.rt,
	                  .np = bt.np,
	                  .nr = bt.nr,
	                  .height = c->nvs,
	                  .base = wc_next_canon(c),
	                  .dead = 1,
	                  .else_op = UINT32_MAX};
	return push_types(c, bt.pt, bt.np) ? -1 : 1;
}

static int v_else(struct cc *c)
{
	struct ctl *f = TOP;
	if (f->kind != K_IF || !results_ok(c, f))
		return 0;
	c->work += c->nvs;
	f->kind = K_ELSE;
	f->unreachable = 0;
	c->nvs = f->height;
	return push_types(c, f->pt, f->np) ? -1 : 1;
}

static int v_end(struct cc *c)
{
	struct ctl *f = TOP;
	if (!results_ok(c, f))
		return 0;
	if (f->kind == K_IF) { /* without else: the parameters pass through */
		if (f->np != f->nr)
			return 0;
		for (uint32_t i = 0; i < f->np; i++)
			if (f->pt[i] != ctl_res(f, i))
				return 0;
	}
	c->work += c->nvs;
	if (c->nvs == f->height + f->nr) { /* the results, already in place */
		repush(c, f->height);
	} else {
		c->nvs = f->height;
		if (push_results(c, f))
			return -1;
	}
	c->ncs--; /* at the function's end, the body ends */
	return 1;
}

/* br, br_if (op 0x0c, 0x0d) and return (0x0f). */
static int v_branch(struct cc *c, uint8_t op)
{
	uint32_t depth = 0;
	if (op != 0x0f && (rd_u32(&c->r, &depth) || depth >= c->ncs))
		return 0;
	const struct ctl *l = op == 0x0f ? &c->cs[0] : &c->cs[c->ncs - 1 - depth];
	uint32_t cond = op == 0x0d;
	if (cond && !stack_has(c, 0, &type_i32, 1))
		return 0;
	c->nvs -= cond;
	if (!label_ok(c, l)) {
		c->nvs += cond;
		return 0;
	}
	c->work += c->nvs;
	if (!cond) {
		set_unreachable(c);
		return 1;
	}
	repush(c, c->nvs - label_n(l)); /* as the translator retypes them */
	return 1;
}

/* call and call_indirect (0x10, 0x11). */
static int v_call(struct cc *c, uint8_t op)
{
	const struct capsa_wasm_module *m = c->m;
	const struct wtype *t;
	uint32_t x, tab;
	if (rd_u32(&c->r, &x))
		return 0;
	if (op == 0x10) {
		if (x >= m->nfuncs)
			return 0;
		t = &m->types[m->func_type[x]];
	} else {
		if (rd_u32(&c->r, &tab) || x >= m->ntypes || tab >= m->ntables ||
		    m->tables[tab].elem != CAPSA_WASM_FUNCREF)
			return 0;
		t = &m->types[x];
	}
	uint32_t ind = op == 0x11; /* the table index, on top */
	if ((ind && !stack_has(c, 0, &type_i32, 1)) || !stack_has(c, ind, t->types, t->nparams))
		return 0;
	c->nvs -= ind;
	c->work += c->nvs;
	c->nvs -= t->nparams;
	uint32_t base = wc_next_canon(c);
	if (push_types(c, t->types + t->nparams, t->nresults))
		return -1;
	if (base + t->pcells > c->max_cells)
		c->max_cells = base + t->pcells;
	return 1;
}

/* The untyped select (0x1b) of two numeric values of one type. */
static int v_select(struct cc *c)
{
	if (c->nvs - TOP->height < 3)
		return 0;
	const struct vent *v = &c->vs[c->nvs - 3];
	uint8_t t = v[0].type;
	if (v[2].type != CAPSA_WASM_I32 || v[1].type != t || t == WASM_TYPE_UNKNOWN ||
	    wtype_is_ref(t))
		return 0;
	return replace_top(c, 3, t);
}

/* local.get, local.set and local.tee (0x20..0x22). */
static int v_local(struct cc *c, uint8_t op)
{
	uint32_t x, slot;
	uint8_t t;
	if (rd_u32(&c->r, &x) || x >= c->nlocals)
		return 0;
	wc_local_at(c, x, &t, &slot);
	if (op == 0x20) {
		struct vent *v = wc_push(c, t);
		if (!v)
			return -1;
		v->slot = slot;
		return 1;
	}
	if (!stack_has(c, 0, &t, 1))
		return 0;
	/* The translator scans the stack below the value for copies of the
	 * local, and again (materializing them) unless the value is a
	 * constant. */
	struct vent *v = &c->vs[c->nvs - 1];
	c->work += (v->is_const ? 1u : 2u) * (c->nvs - 1);
	if (op == 0x21) {
		c->nvs--;
		return 1;
	}
	*v = (struct vent){.type = t, .slot = slot, .canon = v->canon}; /* tee: the local */
	return 1;
}

/* global.get and global.set (0x23, 0x24). */
static int v_global(struct cc *c, uint8_t op)
{
	const struct capsa_wasm_module *m = c->m;
	uint32_t x;
	if (rd_u32(&c->r, &x) || x >= m->nglobals)
		return 0;
	const struct wglobaltype *g = &m->globals[x];
	if (op == 0x23)
		return wc_push(c, g->type) ? 1 : -1;
	if (!g->mut || !stack_has(c, 0, &g->type, 1))
		return 0;
	c->nvs--;
	return 1;
}

/* Loads and stores (0x28..0x3e). */
static int v_memory(struct cc *c, uint8_t op)
{
	const struct numinfo *mi = wc_meminfo(op);
	uint32_t align, offset;
	if (rd_u32(&c->r, &align) || rd_u32(&c->r, &offset) || !c->m->nmems || align >= 32 ||
	    (1u << align) > mi->ta)
		return 0;
	if (mi->bin) {
		const uint8_t want[2] = {CAPSA_WASM_I32, mi->tr};
		if (!stack_has(c, 0, want, 2))
			return 0;
		c->nvs -= 2;
		return 1;
	}
	if (!stack_has(c, 0, &type_i32, 1))
		return 0;
	return replace_top(c, 1, mi->tr);
}

/* i32/i64/f32/f64.const (0x41..0x44): a constant operand. */
static int v_const(struct cc *c, uint8_t op)
{
	static const uint8_t types[] = {CAPSA_WASM_I32, CAPSA_WASM_I64, CAPSA_WASM_F32,
	                                CAPSA_WASM_F64};
	uint64_t val;
	if (op == 0x41) {
		int32_t i;
		if (rd_s32(&c->r, &i))
			return 0;
		val = (uint32_t)i;
	} else if (op == 0x42) {
		int64_t i;
		if (rd_s64(&c->r, &i))
			return 0;
		val = (uint64_t)i;
	} else if (op == 0x43) {
		uint32_t f;
		if (rd_f32(&c->r, &f))
			return 0;
		val = f;
	} else if (rd_f64(&c->r, &val)) {
		return 0;
	}
	struct vent *v = wc_push(c, types[op - 0x41]);
	if (!v)
		return -1;
	v->is_const = 1;
	v->cval = val;
	return 1;
}

/* The numeric instructions (0x45..0xc4), typed by their table. */
static int v_numeric(struct cc *c, uint8_t op)
{
	const struct numinfo *ni = wc_numinfo(op);
	uint32_t n = ni->bin ? 2u : 1u;
	if (c->nvs - TOP->height < n)
		return 0;
	const struct vent *v = &c->vs[c->nvs - 1];
	if (v[0].type != ni->ta || (n == 2 && v[-1].type != ni->ta))
		return 0;
	return replace_top(c, n, ni->tr);
}

/* 1: instruction op done; 0: not taken (the caller rewinds the reader);
 * -1: out of memory. */
static int fast(struct cc *c, uint8_t op)
{
	switch (op) {
	case 0x45 ... 0xc4:
		return v_numeric(c, op);
	case 0x28 ... 0x3e:
		return v_memory(c, op);
	case 0x00:
		set_unreachable(c);
		return 1;
	case 0x01:
		return 1;
	case 0x02:
	case 0x03:
	case 0x04:
		return v_block(c, op);
	case 0x05:
		return v_else(c);
	case 0x0b:
		return v_end(c);
	case 0x0c:
	case 0x0d:
	case 0x0f:
		return v_branch(c, op);
	case 0x10:
	case 0x11:
		return v_call(c, op);
	case 0x1a:
		if (c->nvs == TOP->height)
			return 0;
		c->nvs--;
		return 1;
	case 0x1b:
		return v_select(c);
	case 0x20:
	case 0x21:
	case 0x22:
		return v_local(c, op);
	case 0x23:
	case 0x24:
		return v_global(c, op);
	case 0x41:
	case 0x42:
	case 0x43:
	case 0x44:
		return v_const(c, op);
	}
	return 0;
}

int wc_validate_body(struct cc *c)
{
	while (c->ncs) {
		uint8_t op;
		if (wc_instr_start(c) || rd_u8(&c->r, &op))
			return -1;
		const uint8_t *at = c->r.p;
		int done = fast(c, op);
		if (done < 0)
			return -1;
		if (!done) {
			c->r.p = at;
			if (wc_compile_instr(c, op))
				return -1;
		}
	}
	return 0;
}
