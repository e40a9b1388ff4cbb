/* SPDX-License-Identifier: Apache-2.0 */
/* Validation and compilation of function bodies into the internal form.
 *
 * One pass over the bytecode validates it (operand and control stacks as in
 * the specification's algorithm) and emits threaded code. Every value has a
 * frame slot known at compile time: locals first, then the operand stack.
 * Instructions name their operand and result slots, so there is no runtime
 * stack pointer; local.get emits nothing (consumers read the local's slot
 * directly until the local changes or control flow joins), and a result
 * destined for a local is written there directly. Branches are resolved to
 * relative code offsets, with the moves of branch values pre-computed.
 * Numeric, memory and select instructions and the superinstructions they
 * fuse into are in compile_ops.c, prefixed instructions in compile_ext.c. */
#include "wasm/compile.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static int need(struct cc *c, void **arr, uint32_t *cap, uint32_t want, size_t size)
{
	if (want <= *cap)
		return 0;
	uint32_t ncap = *cap ? *cap * 2 : 64;
	while (ncap < want)
		ncap *= 2;
	void *p = realloc(*arr, (size_t)ncap * size);
	if (!p) {
		c->oom = 1;
		return err_set(c->e, ERR_SYSTEM, "out of memory");
	}
	*arr = p;
	*cap = ncap;
	return 0;
}

/* ---- code emission (no-ops in unreachable code) ---- */

static uint32_t emit_cell(struct cc *c, cell v)
{
	uint32_t cap = c->capcode;
	if (c->ncode + 1 > cap) {
		if (need(c, (void **)&c->code, &c->capcode, c->ncode + 1, sizeof(cell)))
			return 0;
		uint32_t *o = realloc(c->offs, (size_t)c->capcode * sizeof(uint32_t));
		if (!o) {
			c->oom = 1;
			return 0;
		}
		c->offs = o;
	}
	c->offs[c->ncode] = c->cur_off;
	c->code[c->ncode] = v;
	return c->ncode++;
}

uint32_t wc_emit_op(struct cc *c, enum wasm_op op)
{
	c->last_dst = -1;
	c->last_cmp = -1;
	c->last_addimm = -1;
	c->last_load = -1;
	c->last_add = -1;
	if (DEAD)
		return UINT32_MAX;
	return emit_cell(c, (cell){.h = c->labels[op]});
}

/* Take back the code from index `to` on (a fusion), with its relocations. */
void wc_rewind(struct cc *c, uint32_t to)
{
	c->ncode = to;
	while (c->nrelocs && c->relocs[c->nrelocs - 1].cell >= to)
		c->nrelocs--;
}

void wc_mark_memop(struct cc *c, uint32_t op_cell, enum wasm_op unchecked)
{
	if (DEAD || op_cell == UINT32_MAX)
		return;
	if (need(c, (void **)&c->relocs, &c->caprelocs, c->nrelocs + 1, sizeof(struct reloc)))
		return;
	c->relocs[c->nrelocs++] = (struct reloc){op_cell, RELOC_MEMOP, unchecked};
}

uint32_t wc_emit_u(struct cc *c, uint64_t v)
{
	if (DEAD)
		return UINT32_MAX;
	return emit_cell(c, (cell){.u = v});
}

void wc_emit_reloc(struct cc *c, uint8_t kind, uint32_t index)
{
	if (DEAD)
		return;
	uint32_t at = emit_cell(c, (cell){.u = index});
	if (need(c, (void **)&c->relocs, &c->caprelocs, c->nrelocs + 1, sizeof(struct reloc)))
		return;
	c->relocs[c->nrelocs++] = (struct reloc){at, kind, index};
}

static void emit_copy(struct cc *c, uint8_t type, uint32_t dst, uint32_t src)
{
	if (dst == src)
		return;
	wc_emit_op(c, type == CAPSA_WASM_V128 ? OP_copy128 : OP_copy);
	wc_emit_u(c, dst);
	wc_emit_u(c, src);
}

/* ---- operand stack ---- */

struct vent *wc_push_slow(struct cc *c, uint8_t type)
{
	if (need(c, (void **)&c->vs, &c->capvs, c->nvs + 1, sizeof(struct vent)))
		return NULL;
	uint32_t canon = wc_next_canon(c);
	struct vent *v = &c->vs[c->nvs++];
	v->type = type;
	v->is_const = 0;
	v->cval = 0;
	v->canon = v->slot = canon;
	uint32_t end = canon + (uint32_t)wtype_cells(type);
	if (end > c->max_cells) {
		c->max_cells = end;
		if (end - c->nlocal_cells > MAX_OPERAND_CELLS && !c->oom) {
			FAIL("operand stack deeper than %u cells at byte 0x%x", MAX_OPERAND_CELLS,
			     c->cur_off);
			c->oom = 1;
		}
	}
	return v;
}

void wc_emit_const(struct cc *c, uint32_t dst, uint64_t v)
{
	wc_emit_op(c, OP_const64);
	wc_emit_u(c, dst);
	wc_emit_u(c, v);
}

int wc_pop_raw_slow(struct cc *c, uint8_t want, struct vent *out)
{
	struct ctl *f = TOP;
	if (c->nvs == f->height) {
		if (!f->unreachable)
			return FAIL("type mismatch: operand stack underflow at byte 0x%x",
			            c->cur_off);
		memset(out, 0, sizeof(*out));
		out->type = WASM_TYPE_UNKNOWN;
		out->slot = out->canon = wc_next_canon(c);
		return 0;
	}
	*out = c->vs[--c->nvs];
	if (want != WASM_TYPE_UNKNOWN && out->type != WASM_TYPE_UNKNOWN && out->type != want)
		return FAIL("type mismatch at byte 0x%x", c->cur_off);
	return 0;
}

/* Pop a value that must be in a slot (constants get materialized). */
int wc_pop(struct cc *c, uint8_t want, struct vent *out)
{
	if (wc_pop_raw(c, want, out))
		return -1;
	if (out->is_const) {
		wc_emit_const(c, out->canon, out->cval);
		out->is_const = 0;
		out->slot = out->canon;
	}
	return 0;
}

static void materialize(struct cc *c, uint32_t from)
{
	c->work += c->nvs > from ? c->nvs - from : 0;
	if (c->noemit) /* slots matter to emitted code only */
		return;
	for (uint32_t i = from; i < c->nvs; i++) {
		struct vent *v = &c->vs[i];
		if (v->is_const) {
			wc_emit_const(c, v->canon, v->cval);
			v->is_const = 0;
		} else if (v->slot != v->canon) {
			emit_copy(c, v->type, v->canon, v->slot);
		}
		v->slot = v->canon;
	}
}

static void materialize_local(struct cc *c, uint32_t slot)
{
	c->work += c->nvs;
	if (c->noemit)
		return;
	for (uint32_t i = 0; i < c->nvs; i++) {
		struct vent *v = &c->vs[i];
		if (v->slot == slot && !v->is_const) {
			emit_copy(c, v->type, v->canon, v->slot);
			v->slot = v->canon;
		}
	}
}

/* ---- control frames ---- */

static struct ctl *push_ctl(struct cc *c, uint8_t kind)
{
	if (need(c, (void **)&c->cs, &c->capcs, c->ncs + 1, sizeof(struct ctl)))
		return NULL;
	struct ctl *f = &c->cs[c->ncs++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->height = c->nvs;
	f->base = wc_next_canon(c);
	f->else_op = UINT32_MAX;
	return f;
}

static void add_fix(struct cc *c, struct ctl *f, uint32_t op, uint32_t cellidx)
{
	if (DEAD || op == UINT32_MAX)
		return;
	if (need(c, (void **)&f->fixes, &f->capfix, f->nfix + 1, sizeof(struct fix)))
		return;
	f->fixes[f->nfix++] = (struct fix){op, cellidx};
}

int wc_read_blocktype_slow(struct cc *c, struct ctl *f)
{
	uint8_t b;
	if (!rd_left(&c->r))
		return rd_fail(&c->r, "unexpected end");
	b = *c->r.p;
	if (b == 0x40) {
		c->r.p++;
		return 0;
	}
	if (b == CAPSA_WASM_I32 || b == CAPSA_WASM_I64 || b == CAPSA_WASM_F32 ||
	    b == CAPSA_WASM_F64 || b == CAPSA_WASM_V128 || wtype_is_ref(b)) {
		c->r.p++;
		f->nr = 1;
		f->single = b;
		return 0;
	}
	int64_t idx;
	if (rd_s33(&c->r, &idx))
		return -1;
	if (idx < 0)
		return rd_fail(&c->r, "malformed block type");
	if ((uint64_t)idx >= c->m->ntypes)
		return FAIL("unknown type %lld", (long long)idx);
	const struct wtype *t = &c->m->types[idx];
	f->pt = t->types;
	f->np = t->nparams;
	f->rt = t->types + t->nparams;
	f->nr = t->nresults;
	return 0;
}

/* Check that the top n values have the label's types (without popping). */
static int check_label(struct cc *c, const struct ctl *l)
{
	uint32_t n = label_n(l);
	struct ctl *f = TOP;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t want = label_t(l, n - 1 - i);
		if (c->nvs - f->height <= i) {
			if (!f->unreachable)
				return FAIL("type mismatch: branch needs %u values at byte 0x%x", n,
				            c->cur_off);
			continue;
		}
		uint8_t have = c->vs[c->nvs - 1 - i].type;
		if (have != WASM_TYPE_UNKNOWN && have != want)
			return FAIL("type mismatch in branch at byte 0x%x", c->cur_off);
	}
	return 0;
}

/* Does branching to l need moves (values not already where l wants them)? */
static int branch_moves(struct cc *c, const struct ctl *l)
{
	uint32_t n = label_n(l);
	if (l->kind == K_FUNC)
		return 1;
	if (!n)
		return 0;
	return c->vs[c->nvs - n].canon != l->base;
}

static void emit_moves(struct cc *c, const struct ctl *l)
{
	uint32_t n = label_n(l), dst = l->kind == K_FUNC ? 0 : l->base;
	for (uint32_t i = 0; i < n; i++) {
		struct vent *v = &c->vs[c->nvs - n + i];
		emit_copy(c, v->type, dst, v->slot);
		dst += (uint32_t)wtype_cells(v->type);
	}
}

/* Unconditional jump to l, values already checked and materialized. */
static void emit_jump(struct cc *c, struct ctl *l)
{
	emit_moves(c, l);
	if (l->kind == K_FUNC) {
		wc_emit_op(c, OP_ret);
		return;
	}
	uint32_t op = wc_emit_op(c, OP_br);
	uint32_t at = wc_emit_u(c, 0);
	if (DEAD)
		return;
	if (l->kind == K_LOOP)
		c->code[at].i = (int64_t)l->start - (int64_t)op;
	else
		add_fix(c, l, op, at);
}

static int get_label(struct cc *c, struct ctl **out)
{
	uint32_t depth;
	if (rd_u32(&c->r, &depth))
		return -1;
	if (depth >= c->ncs)
		return FAIL("unknown label %u at byte 0x%x", depth, c->cur_off);
	*out = &c->cs[c->ncs - 1 - depth];
	return 0;
}

static void resolve_fixes(struct cc *c, struct ctl *f, uint32_t target)
{
	for (uint32_t i = 0; i < f->nfix; i++)
		c->code[f->fixes[i].cell].i = (int64_t)target - (int64_t)f->fixes[i].op;
	f->nfix = 0;
}

/* Pop the frame's results exactly; used at else and end. */
static int check_frame_results(struct cc *c, struct ctl *f)
{
	struct vent v;
	for (uint32_t i = f->nr; i-- > 0;)
		if (wc_pop(c, ctl_res(f, i), &v))
			return -1;
	if (c->nvs != f->height)
		return FAIL("type mismatch: values remaining on stack at end of block (byte 0x%x)",
		            c->cur_off);
	return 0;
}

static int push_results(struct cc *c, struct ctl *f)
{
	for (uint32_t i = 0; i < f->nr; i++)
		if (!wc_push(c, ctl_res(f, i)))
			return -1;
	return 0;
}

/* Pop an i32 condition; a compare emitted just before is taken back and
 * folded into the branch that will use it. */
int wc_take_cond(struct cc *c, struct condv *cd)
{
	int64_t lc = c->last_cmp;
	int kind = c->cmp_kind;
	struct vent v;
	if (wc_pop(c, CAPSA_WASM_I32, &v))
		return -1;
	cd->kind = -1;
	cd->imm = 0;
	cd->a = v.slot;
	cd->b = 0;
	cd->add = 0;
	uint32_t len = kind == -2 ? 3 : 4;
	if (DEAD || lc < 0 || v.slot != v.canon || (uint64_t)lc + len != c->ncode ||
	    c->code[lc + 1].u != v.canon || c->label_at > lc)
		return 0;
	cd->kind = kind;
	cd->a = c->code[lc + 2].u;
	if (kind >= 0) {
		cd->b = c->code[lc + 3].u;
		cd->imm = c->cmp_imm;
	}
	wc_rewind(c, (uint32_t)lc);
	c->last_cmp = -1;
	c->last_dst = -1;
	/* A counter step just before: `x = y + K; if (x cmp L)` becomes one op. */
	int64_t ad = c->addimm_at;
	int alias = 0;
	c->work += c->nvs;
	for (uint32_t i = 0; i < c->nvs; i++)
		if (!c->vs[i].is_const && c->vs[i].slot == cd->a)
			alias = 1;
	if (kind >= 0 && cd->imm && ad >= 0 && ad + 4 == lc && c->label_at <= ad &&
	    c->code[ad + 1].u == cd->a && !alias) {
		/* Taken back here; the branch op performs it. Moves emitted in
		 * between only read slots of values still on the stack (none is
		 * the sum's) and write their canonical slots (below the sum's
		 * operands, which were popped). */
		cd->add = 1;
		cd->add_s = c->code[ad + 2].u;
		cd->add_k = c->code[ad + 3].u;
		wc_rewind(c, (uint32_t)ad);
		c->addimm_at = -1;
	}
	return 0;
}

/* Emit a branch taken when the condition is true (or false); returns the
 * cell holding the relative target, and the op index in *opi. */
static uint32_t emit_branch_on(struct cc *c, const struct condv *cd, int when_true, uint32_t *opi)
{
	static const uint8_t inverse[] = {1, 0, 8, 9, 6, 7, 4, 5, 2, 3};
	uint32_t op;
	if (cd->kind < 0) {
		int t = cd->kind == -2 ? !when_true : when_true;
		op = wc_emit_op(c, t ? OP_br_if : OP_br_unless);
		wc_emit_u(c, cd->a);
	} else if (cd->add) {
		int k = when_true ? cd->kind : inverse[cd->kind];
		op = wc_emit_op(c, (enum wasm_op)(OP_addi_br_eq + k));
		wc_emit_u(c, cd->a);
		wc_emit_u(c, cd->add_s);
		wc_emit_u(c, cd->add_k);
		wc_emit_u(c, cd->b);
	} else {
		int k = when_true ? cd->kind : inverse[cd->kind];
		op = wc_emit_op(c, (enum wasm_op)(OP_br_eq + 2 * k + cd->imm));
		wc_emit_u(c, cd->a);
		wc_emit_u(c, cd->b);
	}
	*opi = op;
	return wc_emit_u(c, 0);
}

static int op_block(struct cc *c, uint8_t kind)
{
	struct ctl tmp;
	struct vent v;
	struct condv cd;
	memset(&tmp, 0, sizeof(tmp));
	if (wc_read_blocktype(c, &tmp))
		return -1;
	if (kind == K_IF && wc_take_cond(c, &cd))
		return -1;
	materialize(c, 0);
	uint32_t else_op = UINT32_MAX, else_cell = 0;
	if (kind == K_IF)
		else_cell = emit_branch_on(c, &cd, 0, &else_op);
	for (uint32_t i = tmp.np; i-- > 0;)
		if (wc_pop(c, tmp.pt[i], &v))
			return -1;
	int was_dead = DEAD;
	struct ctl *f = push_ctl(c, kind);
	if (!f)
		return -1;
	f->single = tmp.single;
	f->pt = tmp.pt;
	f->np = tmp.np;
	f->rt = tmp.rt;
	f->nr = tmp.nr;
	f->dead = was_dead; /* validated, but nothing emitted */
	f->else_op = was_dead ? UINT32_MAX : else_op;
	f->else_cell = else_cell;
	for (uint32_t i = 0; i < f->np; i++)
		if (!wc_push(c, f->pt[i]))
			return -1;
	if (kind == K_LOOP)
		f->start = c->label_at = c->ncode; /* backward branches here count fuel */
	c->last_cmp = -1;
	c->last_dst = -1;
	return 0;
}

static int op_else(struct cc *c)
{
	c->last_cmp = -1; /* a label may follow: no folding across it */
	struct ctl *f = TOP;
	if (f->kind != K_IF)
		return FAIL("else without if at byte 0x%x", c->cur_off);
	materialize(c, 0);
	if (check_frame_results(c, f))
		return -1;
	if (!DEAD) {
		uint32_t op = wc_emit_op(c, OP_br);
		uint32_t at = wc_emit_u(c, 0);
		add_fix(c, f, op, at);
	}
	f->kind = K_ELSE;
	f->unreachable = 0;
	c->label_at = c->ncode;
	if (f->else_op != UINT32_MAX)
		c->code[f->else_cell].i = (int64_t)c->ncode - (int64_t)f->else_op;
	f->else_op = UINT32_MAX;
	c->nvs = f->height;
	for (uint32_t i = 0; i < f->np; i++)
		if (!wc_push(c, f->pt[i]))
			return -1;
	c->last_dst = -1;
	return 0;
}

static int emit_return(struct cc *c);

static int op_end(struct cc *c)
{
	c->last_cmp = -1; /* a label may follow: no folding across it */
	struct ctl *f = TOP;
	materialize(c, 0);
	if (check_frame_results(c, f))
		return -1;
	if (f->kind == K_IF) {
		/* Without else the parameters pass through unchanged. */
		if (f->np != f->nr)
			return FAIL("type mismatch: if without else must keep its type");
		for (uint32_t i = 0; i < f->np; i++)
			if (f->pt[i] != ctl_res(f, i))
				return FAIL("type mismatch: if without else must keep its type");
	}
	if (f->kind == K_FUNC) {
		/* Results are in canonical slots; move them to the frame base. */
		c->nvs = f->height;
		push_results(c, f);
		f->unreachable = 0;
		c->label_at = c->ncode;
		resolve_fixes(c, f, c->ncode);
		emit_return(c);
		free(f->fixes);
		f->fixes = NULL;
		c->ncs--;
		return 0;
	}
	if (!f->dead) {
		c->label_at = c->ncode;
		if (f->else_op != UINT32_MAX)
			c->code[f->else_cell].i = (int64_t)c->ncode - (int64_t)f->else_op;
		resolve_fixes(c, f, c->ncode);
	}
	free(f->fixes);
	c->ncs--;
	c->nvs = f->height;
	c->last_dst = -1;
	return push_results(c, f);
}

static int emit_return(struct cc *c)
{
	struct ctl *fn = &c->cs[0];
	if (check_label(c, fn))
		return -1;
	materialize(c, 0);
	if (!DEAD && fn->nr && c->nvs >= fn->nr)
		emit_moves(c, fn);
	wc_emit_op(c, OP_ret);
	return 0;
}

static int op_br(struct cc *c, int cond)
{
	struct ctl *l = NULL;
	struct condv cd = {0};
	if (get_label(c, &l))
		return -1;
	if (cond && wc_take_cond(c, &cd))
		return -1;
	if (check_label(c, l))
		return -1;
	materialize(c, 0);
	if (!cond) {
		if (!DEAD && c->nvs - TOP->height >= label_n(l))
			emit_jump(c, l);
		set_unreachable(c);
		return 0;
	}
	if (DEAD)
		goto retype;
	if (!branch_moves(c, l)) {
		uint32_t op;
		uint32_t at = emit_branch_on(c, &cd, 1, &op);
		if (l->kind == K_LOOP)
			c->code[at].i = (int64_t)l->start - (int64_t)op;
		else
			add_fix(c, l, op, at);
	} else {
		uint32_t op;
		uint32_t at = emit_branch_on(c, &cd, 0, &op);
		emit_jump(c, l);
		c->code[at].i = (int64_t)c->ncode - (int64_t)op;
		c->label_at = c->ncode;
	}
retype:
	/* The values take the label's types (in unreachable code, missing ones
	 * appear). Everything is materialized, so slots are canonical. */
	for (uint32_t i = label_n(l); i-- > 0;) {
		struct vent v;
		if (wc_pop(c, label_t(l, i), &v))
			return -1;
	}
	for (uint32_t i = 0; i < label_n(l); i++)
		if (!wc_push(c, label_t(l, i)))
			return -1;
	c->last_dst = -1;
	return 0;
}

static int op_br_table(struct cc *c)
{
	uint32_t n;
	struct vent iv;
	if (rd_u32(&c->r, &n))
		return -1;
	if (n > rd_left(&c->r))
		return rd_fail(&c->r, "unexpected end");
	uint32_t *depths = malloc(((size_t)n + 1) * sizeof(uint32_t));
	if (!depths)
		return err_set(c->e, ERR_SYSTEM, "out of memory");
	int rc = -1;
	for (uint32_t i = 0; i <= n; i++) {
		if (rd_u32(&c->r, &depths[i]))
			goto out;
		if (depths[i] >= c->ncs) {
			FAIL("unknown label %u at byte 0x%x", depths[i], c->cur_off);
			goto out;
		}
	}
	if (wc_pop(c, CAPSA_WASM_I32, &iv))
		goto out;
	uint32_t arity = label_n(&c->cs[c->ncs - 1 - depths[n]]);
	for (uint32_t i = 0; i <= n; i++) {
		struct ctl *l = &c->cs[c->ncs - 1 - depths[i]];
		if (label_n(l) != arity) {
			FAIL("type mismatch: br_table labels differ in arity");
			goto out;
		}
		if (check_label(c, l))
			goto out;
	}
	materialize(c, 0);
	if (!DEAD && c->nvs - TOP->height >= arity) {
		uint32_t op = wc_emit_op(c, OP_br_table);
		wc_emit_u(c, iv.slot);
		wc_emit_u(c, n);
		uint32_t first = c->ncode;
		for (uint32_t i = 0; i <= n; i++)
			wc_emit_u(c, 0);
		for (uint32_t i = 0; i <= n; i++) {
			struct ctl *l = &c->cs[c->ncs - 1 - depths[i]];
			uint32_t at = first + i;
			if (c->oom)
				goto out;
			if (!branch_moves(c, l)) {
				if (l->kind == K_LOOP)
					c->code[at].i = (int64_t)l->start - (int64_t)op;
				else
					add_fix(c, l, op, at);
			} else {
				c->code[at].i = (int64_t)c->ncode - (int64_t)op;
				c->label_at = c->ncode;
				emit_jump(c, l);
			}
		}
	}
	set_unreachable(c);
	rc = 0;
out:
	free(depths);
	return rc;
}

static int op_call(struct cc *c, const struct wtype *t, int indirect, uint32_t idx, uint32_t table)
{
	struct vent v, iv = {0};
	if (indirect && wc_pop(c, CAPSA_WASM_I32, &iv))
		return -1;
	materialize(c, 0);
	for (uint32_t i = t->nparams; i-- > 0;)
		if (wc_pop(c, t->types[i], &v))
			return -1;
	uint32_t base = wc_next_canon(c);
	if (indirect) {
		wc_emit_op(c, OP_call_indirect);
		wc_emit_reloc(c, RELOC_TYPE, idx);
		wc_emit_reloc(c, RELOC_TABLE, table);
		wc_emit_u(c, iv.slot);
		wc_emit_u(c, base);
	} else {
		wc_emit_op(c, OP_call);
		wc_emit_reloc(c, RELOC_FUNC, idx);
		wc_emit_u(c, base);
	}
	for (uint32_t i = 0; i < t->nresults; i++)
		if (!wc_push(c, t->types[t->nparams + i]))
			return -1;
	if (base + t->pcells > c->max_cells)
		c->max_cells = base + t->pcells;
	c->last_dst = -1;
	return 0;
}

int wc_read_memarg(struct cc *c, uint32_t natural, uint32_t *offset)
{
	uint32_t align;
	if (rd_u32(&c->r, &align) || rd_u32(&c->r, offset))
		return -1;
	if (!c->m->nmems)
		return FAIL("unknown memory 0 at byte 0x%x", c->cur_off);
	if (align >= 32 || (1u << align) > natural)
		return FAIL("alignment must not be larger than natural at byte 0x%x", c->cur_off);
	return 0;
}

/* Emit a value-producing op whose first operand is the result slot. */
void wc_emit_result_op(struct cc *c, enum wasm_op op, uint8_t type)
{
	uint32_t dst = wc_next_canon(c);
	wc_emit_op(c, op);
	uint32_t at = wc_emit_u(c, dst);
	wc_push(c, type);
	if (!DEAD)
		c->last_dst = at;
}

/* The run holding local x. */
static const struct lrun *local_run(const struct cc *c, uint32_t x)
{
	uint32_t lo = 0, hi = c->nlruns;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (c->lruns[mid].first <= x)
			lo = mid;
		else
			hi = mid;
	}
	return &c->lruns[lo];
}

void wc_local_run(struct cc *c, uint32_t x, uint8_t *type, uint32_t *slot)
{
	const struct lrun *r = local_run(c, x);
	*type = r->type;
	*slot = r->slot + (x - r->first) * (uint32_t)wtype_cells(r->type);
	if (x >= sizeof(c->lmap) / sizeof(c->lmap[0]))
		return;
	/* Map the locals up to x, run by run. */
	const struct lrun *end = c->lruns + c->nlruns;
	for (r = local_run(c, c->nlmap); c->nlmap <= x; c->nlmap++) {
		while (r + 1 < end && r[1].first <= c->nlmap)
			r++;
		uint32_t s = r->slot + (c->nlmap - r->first) * (uint32_t)wtype_cells(r->type);
		c->lmap[c->nlmap] = s << 8 | r->type;
	}
}

static int op_local_set(struct cc *c, uint32_t x, int tee)
{
	struct vent v;
	if (x >= c->nlocals)
		return FAIL("unknown local %u at byte 0x%x", x, c->cur_off);
	uint8_t t;
	uint32_t slot;
	wc_local_at(c, x, &t, &slot);
	int64_t ld = c->last_dst;
	if (wc_pop_raw(c, t, &v))
		return -1;
	if (v.is_const) {
		materialize_local(c, slot);
		wc_emit_const(c, slot, v.cval);
		goto done;
	}
	int aliased = 0;
	c->work += c->nvs;
	for (uint32_t i = 0; i < c->nvs && !DEAD; i++)
		if (c->vs[i].slot == slot)
			aliased = 1;
	if (!DEAD && ld >= 0 && !aliased && v.slot == v.canon && c->code[ld].u == v.canon &&
	    v.type != WASM_TYPE_UNKNOWN) {
		c->code[ld].u = slot; /* write the result straight into the local */
	} else {
		materialize_local(c, slot);
		emit_copy(c, t, slot, v.slot);
	}
done:
	c->last_dst = -1;
	if (tee) {
		struct vent *n = wc_push(c, t);
		if (!n)
			return -1;
		n->slot = slot;
	}
	return 0;
}

int wc_zero_byte(struct cc *c)
{
	uint8_t b;
	if (rd_u8(&c->r, &b))
		return -1;
	if (b != 0)
		return rd_fail(&c->r, "zero byte expected");
	return 0;
}

int wc_check_table(struct cc *c, uint32_t t)
{
	if (t >= c->m->ntables)
		return FAIL("unknown table %u at byte 0x%x", t, c->cur_off);
	return 0;
}

/* call (0x10) and call_indirect (0x11). */
static int op_call_instr(struct cc *c, uint8_t op)
{
	const struct capsa_wasm_module *m = c->m;
	uint32_t x, tab = 0;
	if (rd_u32(&c->r, &x))
		return -1;
	if (op == 0x10) {
		if (x >= m->nfuncs)
			return FAIL("unknown function %u at byte 0x%x", x, c->cur_off);
		return op_call(c, &m->types[m->func_type[x]], 0, x, 0);
	}
	if (rd_u32(&c->r, &tab))
		return -1;
	if (x >= m->ntypes)
		return FAIL("unknown type %u at byte 0x%x", x, c->cur_off);
	if (wc_check_table(c, tab))
		return -1;
	if (m->tables[tab].elem != CAPSA_WASM_FUNCREF)
		return FAIL("type mismatch: call_indirect needs a funcref table");
	return op_call(c, &m->types[x], 1, x, tab);
}

/* Control instructions (0x00..0x11). */
static int op_control(struct cc *c, uint8_t op)
{
	switch (op) {
	case 0x00:
		wc_emit_op(c, OP_unreachable);
		set_unreachable(c);
		return 0;
	case 0x01:
		return 0;
	case 0x02:
	case 0x03:
	case 0x04:
		return op_block(c, op == 0x02 ? K_BLOCK : op == 0x03 ? K_LOOP : K_IF);
	case 0x05:
		return op_else(c);
	case 0x0b:
		return op_end(c);
	case 0x0c:
	case 0x0d:
		return op_br(c, op == 0x0d);
	case 0x0e:
		return op_br_table(c);
	case 0x0f:
		if (emit_return(c))
			return -1;
		set_unreachable(c);
		return 0;
	case 0x10:
	case 0x11:
		return op_call_instr(c, op);
	}
	return rd_fail(&c->r, "illegal opcode");
}

static int op_local_get(struct cc *c)
{
	uint32_t x;
	if (rd_u32(&c->r, &x))
		return -1;
	if (x >= c->nlocals)
		return FAIL("unknown local %u at byte 0x%x", x, c->cur_off);
	uint8_t t;
	uint32_t slot;
	wc_local_at(c, x, &t, &slot);
	struct vent *v = wc_push(c, t);
	if (!v)
		return -1;
	v->slot = slot;
	c->last_dst = -1;
	return 0;
}

/* global.get (0x23) and global.set (0x24). */
static int op_global(struct cc *c, uint8_t op)
{
	const struct capsa_wasm_module *m = c->m;
	struct vent a;
	uint32_t x;
	if (rd_u32(&c->r, &x))
		return -1;
	if (x >= m->nglobals)
		return FAIL("unknown global %u at byte 0x%x", x, c->cur_off);
	if (op == 0x23) {
		wc_emit_result_op(
		    c, m->globals[x].type == CAPSA_WASM_V128 ? OP_global_get128 : OP_global_get,
		    m->globals[x].type);
		c->last_dst = -1;
		wc_emit_reloc(c, RELOC_GLOBAL, x);
		return 0;
	}
	if (!m->globals[x].mut)
		return FAIL("global is immutable at byte 0x%x", c->cur_off);
	if (wc_pop(c, m->globals[x].type, &a))
		return -1;
	wc_emit_op(c, m->globals[x].type == CAPSA_WASM_V128 ? OP_global_set128 : OP_global_set);
	wc_emit_reloc(c, RELOC_GLOBAL, x);
	wc_emit_u(c, a.slot);
	return 0;
}

/* table.get (0x25) and table.set (0x26). */
static int op_table_access(struct cc *c, uint8_t op)
{
	const struct capsa_wasm_module *m = c->m;
	struct vent a, b;
	uint32_t x;
	if (rd_u32(&c->r, &x) || wc_check_table(c, x))
		return -1;
	if (op == 0x25) {
		if (wc_pop(c, CAPSA_WASM_I32, &a))
			return -1;
		wc_emit_result_op(c, OP_table_get, m->tables[x].elem);
		c->last_dst = -1;
		wc_emit_reloc(c, RELOC_TABLE, x);
		wc_emit_u(c, a.slot);
		return 0;
	}
	if (wc_pop(c, m->tables[x].elem, &b) || wc_pop(c, CAPSA_WASM_I32, &a))
		return -1;
	wc_emit_op(c, OP_table_set);
	wc_emit_reloc(c, RELOC_TABLE, x);
	wc_emit_u(c, a.slot);
	wc_emit_u(c, b.slot);
	return 0;
}

/* memory.size (0x3f) and memory.grow (0x40). */
static int op_memory_size_grow(struct cc *c, uint8_t op)
{
	struct vent a;
	if (wc_zero_byte(c))
		return -1;
	if (!c->m->nmems)
		return FAIL("unknown memory 0 at byte 0x%x", c->cur_off);
	if (op == 0x3f) {
		wc_emit_result_op(c, OP_memory_size, CAPSA_WASM_I32);
	} else {
		if (wc_pop(c, CAPSA_WASM_I32, &a))
			return -1;
		wc_emit_result_op(c, OP_memory_grow, CAPSA_WASM_I32);
		wc_emit_u(c, a.slot);
	}
	c->last_dst = -1;
	return 0;
}

/* A constant operand, emitted by whatever consumes it. */
static int push_const(struct cc *c, uint8_t t, uint64_t v)
{
	struct vent *cv = wc_push(c, t);
	if (!cv)
		return -1;
	cv->is_const = 1;
	cv->cval = v;
	c->last_dst = -1;
	return 0;
}

/* i32/i64/f32/f64.const (0x41..0x44). */
static int op_const(struct cc *c, uint8_t op)
{
	if (op == 0x41) {
		int32_t i;
		return rd_s32(&c->r, &i) ? -1 : push_const(c, CAPSA_WASM_I32, (uint32_t)i);
	}
	if (op == 0x42) {
		int64_t i;
		return rd_s64(&c->r, &i) ? -1 : push_const(c, CAPSA_WASM_I64, (uint64_t)i);
	}
	if (op == 0x43) {
		uint32_t f;
		return rd_f32(&c->r, &f) ? -1 : push_const(c, CAPSA_WASM_F32, f);
	}
	uint64_t v;
	return rd_f64(&c->r, &v) ? -1 : push_const(c, CAPSA_WASM_F64, v);
}

/* ref.null (0xd0), ref.is_null (0xd1) and ref.func (0xd2). */
static int op_ref(struct cc *c, uint8_t op)
{
	const struct capsa_wasm_module *m = c->m;
	struct vent a;
	uint32_t x;
	if (op == 0xd0) {
		uint8_t t;
		if (rd_u8(&c->r, &t))
			return -1;
		if (!wtype_is_ref(t))
			return rd_fail(&c->r, "malformed reference type");
		return push_const(c, t, 0);
	}
	if (op == 0xd1) {
		if (wc_pop(c, WASM_TYPE_UNKNOWN, &a))
			return -1;
		if (a.type != WASM_TYPE_UNKNOWN && !wtype_is_ref(a.type))
			return FAIL("type mismatch: ref.is_null needs a reference");
		wc_emit_result_op(c, OP_ref_is_null, CAPSA_WASM_I32);
		int64_t ld = c->last_dst;
		wc_emit_u(c, a.slot);
		c->last_dst = ld;
		return 0;
	}
	if (rd_u32(&c->r, &x))
		return -1;
	if (x >= m->nfuncs)
		return FAIL("unknown function %u at byte 0x%x", x, c->cur_off);
	if (!m->declared_funcs[x])
		return FAIL("undeclared function reference %u at byte 0x%x", x, c->cur_off);
	wc_emit_result_op(c, OP_ref_func, CAPSA_WASM_FUNCREF);
	c->last_dst = -1;
	wc_emit_reloc(c, RELOC_FUNC, x);
	return 0;
}

int wc_compile_instr(struct cc *c, uint8_t op)
{
	struct vent a;
	uint32_t x;
	if (op >= 0x45 && op <= 0xc4)
		return wc_op_numeric(c, wc_numinfo(op));
	if (op >= 0x28 && op <= 0x3e)
		return wc_op_memory(c, op);
	if (op <= 0x11)
		return op_control(c, op);
	switch (op) {
	case 0x1a:
		return wc_pop_raw(c, WASM_TYPE_UNKNOWN, &a);
	case 0x1b:
	case 0x1c:
		return wc_op_select(c, op == 0x1c);
	case 0x20:
		return op_local_get(c);
	case 0x21:
	case 0x22:
		return rd_u32(&c->r, &x) || op_local_set(c, x, op == 0x22) ? -1 : 0;
	case 0x23:
	case 0x24:
		return op_global(c, op);
	case 0x25:
	case 0x26:
		return op_table_access(c, op);
	case 0x3f:
	case 0x40:
		return op_memory_size_grow(c, op);
	case 0x41:
	case 0x42:
	case 0x43:
	case 0x44:
		return op_const(c, op);
	case 0xd0:
	case 0xd1:
	case 0xd2:
		return op_ref(c, op);
	case 0xfc:
		return wc_op_prefix_fc(c);
	case 0xfd:
		return wc_op_simd(c);
	}
	return rd_fail(&c->r, "illegal opcode");
}

static int compile_body(struct cc *c)
{
	if (c->noemit)
		return wc_validate_body(c);
	while (c->ncs) {
		uint8_t op;
		if (wc_instr_start(c) || rd_u8(&c->r, &op) || wc_compile_instr(c, op))
			return -1;
	}
	return 0;
}

static const void *const *labels_cache(void)
{
	return wasm_interp_labels();
}

/* The locals: parameters, then the declared groups (body bytes at c->r),
 * as runs of one type. */
static int setup_locals(struct cc *c, const struct wtype *ft)
{
	uint32_t ngroups;
	uint64_t total = ft->nparams;
	if (rd_u32(&c->r, &ngroups))
		return -1;
	const uint8_t *groups = c->r.p;
	for (uint32_t i = 0; i < ngroups; i++) {
		uint32_t n;
		uint8_t t;
		if (rd_u32(&c->r, &n) || rd_u8(&c->r, &t))
			return -1;
		total += n;
		if (total > MAX_LOCALS)
			return FAIL("too many locals (more than %u) at byte 0x%x", MAX_LOCALS,
			            rd_off(&c->r));
	}
	/* ngroups is bounded by the body's size: each took two bytes or more. */
	if (need(c, (void **)&c->lruns, &c->caplruns, ft->nparams + ngroups + 1, sizeof(*c->lruns)))
		return -1;
	uint32_t first = 0, slot = 0;
	for (uint32_t k = 0; k < ft->nparams; k++) {
		c->lruns[c->nlruns++] = (struct lrun){first++, slot, ft->types[k]};
		slot += (uint32_t)wtype_cells(ft->types[k]);
	}
	c->r.p = groups;
	for (uint32_t i = 0; i < ngroups; i++) {
		uint32_t n;
		uint8_t t;
		rd_u32(&c->r, &n);
		rd_u8(&c->r, &t);
		if (!(t == CAPSA_WASM_I32 || t == CAPSA_WASM_I64 || t == CAPSA_WASM_F32 ||
		      t == CAPSA_WASM_F64 || t == CAPSA_WASM_V128 || wtype_is_ref(t)))
			return rd_fail(&c->r, "malformed value type");
		if (!n)
			continue;
		c->lruns[c->nlruns++] = (struct lrun){first, slot, t};
		first += n;
		slot += n * (uint32_t)wtype_cells(t);
	}
	c->nlocals = first;
	c->nlocal_cells = slot;
	return 0;
}

/* One pass over a body: validation, and with emit the threaded code. */
static int compile_func(const struct capsa_wasm_module *cm, uint32_t defidx, int emit,
                        struct wvalid_keep *keep, struct err *e)
{
	/* Writes go to the function's own struct wcode: entry and frame sizes
	 * when validating, the code when translating. */
	struct capsa_wasm_module *m = (struct capsa_wasm_module *)cm;
	struct wcode *wc = &m->code[defidx];
	uint32_t funcidx = m->nimp_funcs + defidx;
	const struct wtype *ft = &m->types[m->func_type[funcidx]];
	struct cc cc, *c = &cc;
	memset(c, 0, offsetof(struct cc, lmap));
	int rc = -1;
	c->m = m;
	c->e = e;
	c->noemit = !emit;
	c->labels = labels_cache();
	c->r = (struct rd){m->bytes + wc->body_off, m->bytes + wc->body_off + wc->body_len,
	                   m->bytes, e};
	c->last_dst = -1;
	c->last_cmp = -1;
	c->last_addimm = -1;
	c->addimm_at = -1;
	c->last_load = -1;
	c->prev_load = -1;
	c->prev_gap = 0;
	c->any_load = -1;
	c->last_add = -1;
	c->work_limit = COMPILE_WORK_BASE + (uint64_t)COMPILE_WORK_PER_BYTE * wc->body_len;
	if (keep) {
		c->cs = keep->cs;
		c->capcs = keep->capcs;
		c->vs = keep->vs;
		c->capvs = keep->capvs;
		c->lruns = keep->lruns;
		c->caplruns = keep->caplruns;
	}

	if (setup_locals(c, ft))
		goto out;
	uint32_t entry = (uint32_t)(c->r.p - m->bytes);
	c->max_cells = c->nlocal_cells;
	struct ctl *f = push_ctl(c, K_FUNC);
	if (!f)
		goto out;
	f->rt = ft->types + ft->nparams;
	f->nr = ft->nresults;
	if (compile_body(c))
		goto out;
	if (rd_left(&c->r)) {
		rd_fail(&c->r, "section size mismatch: code after function end");
		goto out;
	}
	if (c->oom)
		goto out;
	if (emit) {
		wc->code = c->code;
		wc->offs = c->offs;
		wc->ncode = c->ncode;
		wc->relocs = c->relocs;
		wc->nrelocs = c->nrelocs;
		c->code = NULL;
		c->offs = NULL;
		c->relocs = NULL;
	} else {
		wc->entry_off = entry;
		wc->nlocal_cells = c->nlocal_cells;
		wc->frame_cells = c->max_cells + 2;
	}
	rc = 0;
out:
	if (rc && e->msg[0] && funcidx < m->nfuncs)
		err_prefix(e, "function %u", funcidx);
	for (uint32_t i = 0; i < c->ncs; i++)
		free(c->cs[i].fixes);
	free(c->code);
	free(c->offs);
	free(c->relocs);
	if (keep) {
		*keep =
		    (struct wvalid_keep){c->cs, c->vs, c->lruns, c->capcs, c->capvs, c->caplruns};
	} else {
		free(c->cs);
		free(c->vs);
		free(c->lruns);
	}
	return rc;
}

int wasm_validate_func(struct capsa_wasm_module *m, uint32_t defidx, struct wvalid_keep *keep,
                       struct err *e)
{
	return compile_func(m, defidx, 0, keep, e);
}

void wasm_validate_done(struct wvalid_keep *keep)
{
	free(keep->cs);
	free(keep->vs);
	free(keep->lruns);
	memset(keep, 0, sizeof(*keep));
}

int wasm_translate_func(const struct capsa_wasm_module *m, uint32_t defidx, struct err *e)
{
	struct capsa_wasm_module *w = (struct capsa_wasm_module *)m; /* its lock and counter */
	int rc = 0;
	pthread_mutex_lock(&w->code_lock);
	if (!m->code[defidx].code) {
		rc = compile_func(m, defidx, 1, NULL, e);
		if (!rc)
			w->ntranslated++;
	}
	pthread_mutex_unlock(&w->code_lock);
	return rc;
}
