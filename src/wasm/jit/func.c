/* SPDX-License-Identifier: Apache-2.0 */
/* The single-pass compiler of one function body: prologue and epilogue,
 * locals, structured control flow and calls. Numeric, memory and other
 * instructions are in ops.c and mem.c. */
#include "wasm/jit/jc.h"
#include "wasm/jit/trip.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

int jc_prepass(struct jc *c);
void jit_h_call(struct jit_ctx *ctx, struct capsa_wasm_func *f, uint64_t *cells,
                struct capsa_wasm_instance *caller);
void jit_h_sigcheck(struct jit_ctx *ctx, struct capsa_wasm_func *f, const struct wtype *want);

enum { CK_BLOCK, CK_LOOP, CK_IF, CK_ELSE, CK_FUNC };

static uint8_t ctl_type(const struct jctl *t, int result, uint32_t k)
{
	const uint8_t *p = result ? t->rt : t->pt;
	return p ? p[k] : t->single;
}

static struct jctl *push_ctl(struct jc *c, uint8_t kind)
{
	if (c->ncs == c->capcs) {
		uint32_t n = c->capcs ? c->capcs * 2 : 16;
		struct jctl *p = realloc(c->cs, n * sizeof(*p));
		if (!p) {
			c->fail = 1;
			return NULL;
		}
		c->cs = p;
		c->capcs = n;
	}
	struct jctl *t = &c->cs[c->ncs++];
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->label = x_label(c->b);
	return t;
}

static int read_blocktype(struct jc *c, struct jctl *t)
{
	uint8_t b = *c->r.p;
	if (b == 0x40 || (b >= 0x6f && b <= 0x7f)) {
		c->r.p++;
		if (b != 0x40) {
			t->nr = 1;
			t->single = b;
		}
		return 0;
	}
	int64_t idx;
	if (rd_s33(&c->r, &idx) || idx < 0 || (uint64_t)idx >= c->m->ntypes)
		return -1;
	const struct wtype *ft = &c->m->types[idx];
	t->np = ft->nparams;
	t->nr = ft->nresults;
	t->pt = ft->types;
	t->rt = ft->types + ft->nparams;
	return 0;
}

/* A function's single result goes to its end in RAX (see jc.h). */
static int in_rax(const struct jc *c, const struct jctl *t)
{
	return t->kind == CK_FUNC && jc_result_in_rax(c->ft);
}

/* Moves the top n values to where the values of label t live: the slots
 * from its height on, or RAX. */
static void move_top(struct jc *c, const struct jctl *t, uint32_t n)
{
	uint32_t height = t->height;
	if (in_rax(c, t) && n == 1) {
		const struct jv *v = &c->vs[c->nvs - 1];
		int r = v->kind == JV_REG     ? v->reg
		        : v->kind == JV_LOCAL ? c->loc[v->local].reg
		                              : -1;
		if (r >= 16) /* movd / movq: an f32 stays zero-extended */
			x_rr(c->b, 0x66, jt_w(v->type), 0x0f7e, r - 16, RAX, 0);
		else
			jc_load(c, v, c->nvs - 1, RAX);
		return;
	}
	for (uint32_t k = 0; k < n; k++) {
		uint32_t pos = c->nvs - n + k;
		if (height + k != pos || c->vs[pos].kind != JV_SLOT)
			jc_store_to(c, &c->vs[pos], pos, jc_vslot(c, height + k, c->vs[pos].type));
	}
}

static int needs_move(struct jc *c, const struct jctl *t, uint32_t n)
{
	uint32_t height = t->height;
	if (in_rax(c, t))
		return 1;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t pos = c->nvs - n + k;
		if (height + k != pos || c->vs[pos].kind != JV_SLOT)
			return 1;
	}
	return 0;
}

static uint32_t br_arity(const struct jctl *t)
{
	return t->kind == CK_LOOP ? t->np : t->nr;
}

/* After a branch the rest of the block is dead: skip to its else or end. */
static int skip_dead(struct jc *c)
{
	uint32_t depth = 0;
	while (rd_left(&c->r)) {
		uint8_t op = *c->r.p;
		if ((op == 0x0b || op == 0x05) && depth == 0)
			return 0;
		c->r.p++;
		if (op == 0x02 || op == 0x03 || op == 0x04)
			depth++;
		else if (op == 0x0b)
			depth--;
		if (jc_skip_imm(&c->r, op))
			return -1;
	}
	return -1;
}

void jc_pop_cond(struct jc *c, struct jcond *cd)
{
	cd->cmp = c->pending_cmp;
	c->pending_cmp = 0;
	if (cd->cmp == JC_CMP_ZF) { /* no operand left: the flags hold it */
		cd->a = (struct jv){JV_CONST, CAPSA_WASM_I32, 0, 0, 0};
		cd->pa = c->nvs;
		return;
	}
	if (cd->cmp && cd->cmp != 0x45 && cd->cmp != 0x50) {
		cd->b = jc_pop(c);
		cd->pb = c->nvs;
	}
	cd->a = jc_pop(c);
	cd->pa = c->nvs;
}

static void branch_cond(struct jc *c, struct jcond *cd, int jump_if, uint32_t label)
{
	if (cd->cmp) {
		jc_cmp_branch(c, cd, jump_if, label);
		return;
	}
	struct jv *v = &cd->a;
	if (v->kind == JV_CONST) {
		if (!!(uint32_t)v->c == jump_if)
			x_jmp(c->b, label);
		return;
	}
	int temp, r;
	if (v->kind == JV_SLOT || (v->kind == JV_LOCAL && c->loc[v->local].reg < 0)) {
		struct xm m = v->kind == JV_SLOT ? jc_slot(c, cd->pa) : jc_local(c, v->local);
		x_alu_mi(c->b, 0, OP_CMP, m, 0);
	} else {
		r = jc_reg(c, v, cd->pa, &temp);
		x_rr(c->b, 0, 0, 0x85, r, r, 0); /* test */
		if (temp)
			jc_free_reg(c, r);
	}
	x_jcc(c->b, jump_if ? CC_NE : CC_E, label);
}

static void fuel_check(struct jc *c)
{
	if (!c->st.metered)
		return;
	x_alu_ri(c->b, 1, OP_SUB, R13, 1);
	uint32_t slow = jc_trap_label(c, JT_FUEL), back = x_label(c->b);
	if (c->ntraps) /* none when out of memory (c->fail) */
		c->traps[c->ntraps - 1].back = back;
	x_jcc(c->b, CC_S, slow);
	x_bind(c->b, back);
}

/* Copies the parameters of an if between their slots and the frame cells
 * saving them for the else branch (a v128 takes two). */
static void if_params(struct jc *c, const struct jctl *t, int restore)
{
	for (uint32_t k = 0, cell = 0; k < t->np; k++) {
		uint8_t ty = ctl_type(t, 0, k);
		struct xm save = jc_local(c, c->nlocals + t->extra + cell);
		struct xm slot = jc_vslot(c, t->height + k, ty);
		if (ty == CAPSA_WASM_V128) {
			jc_copy16(c, restore ? slot : save, restore ? save : slot);
		} else {
			x_load(c->b, 1, RAX, restore ? save : slot);
			x_store(c->b, 1, restore ? slot : save, RAX);
		}
		cell += wtype_cells(ty);
	}
}

static void op_block(struct jc *c, uint8_t op)
{
	struct jctl tmp = {0};
	if (read_blocktype(c, &tmp)) {
		c->fail = 1;
		return;
	}
	struct jcond cd = {0};
	if (op == 0x04)
		jc_pop_cond(c, &cd);
	jc_spill_all(c);
	struct jctl *t = push_ctl(c, op == 0x02 ? CK_BLOCK : op == 0x03 ? CK_LOOP : CK_IF);
	if (!t)
		return;
	uint32_t label = t->label;
	*t = tmp;
	t->kind = op == 0x02 ? CK_BLOCK : op == 0x03 ? CK_LOOP : CK_IF;
	t->label = label;
	t->height = c->nvs - t->np;
	if (op == 0x03) {
		/* Fuel: each branch back to the head pays (branch_to), so that
		 * running out names that branch, as in the interpreter. The
		 * head is aligned for the instruction fetch. A counted loop
		 * (trip.c) computes its bound first. */
		if (!t->np && !t->nr)
			jc_trip_loop(c, t->label);
		x_align16(c->b);
		x_bind(c->b, t->label);
	} else if (op == 0x04) {
		t->else_label = x_label(c->b);
		/* Save the parameters for the else branch. */
		t->extra = c->extra_used;
		for (uint32_t k = 0; k < t->np; k++)
			c->extra_used += wtype_cells(ctl_type(t, 0, k));
		if (c->extra_used > c->nextra) {
			c->fail = 1;
			return;
		}
		if_params(c, t, 0);
		branch_cond(c, &cd, 0, t->else_label);
	}
}

static void set_results(struct jc *c, const struct jctl *t)
{
	c->nvs = t->height;
	for (uint32_t k = 0; k < t->nr; k++)
		jc_push(c, (struct jv){JV_SLOT, ctl_type(t, 1, k), 0, 0, 0});
}

static void op_else(struct jc *c)
{
	struct jctl *t = &c->cs[c->ncs - 1];
	if (!t->unreachable) {
		move_top(c, t, t->nr);
		x_jmp(c->b, t->label);
	}
	x_bind(c->b, t->else_label);
	t->kind = CK_ELSE;
	t->unreachable = 0;
	for (uint32_t i = c->nvs; i-- > t->height;)
		jc_free(c, &c->vs[i]);
	c->nvs = t->height;
	if_params(c, t, 1);
	for (uint32_t k = 0; k < t->np; k++)
		jc_push(c, (struct jv){JV_SLOT, ctl_type(t, 0, k), 0, 0, 0});
}

static void op_end(struct jc *c)
{
	struct jctl *t = &c->cs[c->ncs - 1];
	if (!t->unreachable)
		move_top(c, t, t->nr);
	for (uint32_t i = c->nvs; i-- > t->height;)
		jc_free(c, &c->vs[i]);
	if (t->kind == CK_IF)
		x_bind(c->b, t->else_label);
	if (t->kind != CK_LOOP)
		x_bind(c->b, t->label);
	set_results(c, t);
	c->ncs--;
}

static void branch_to(struct jc *c, uint32_t depth)
{
	const struct jctl *t = &c->cs[c->ncs - 1 - depth];
	move_top(c, t, br_arity(t));
	if (t->kind == CK_LOOP && c->st.metered) {
		/* Fuel left: straight to the head; else the refill (or the
		 * trap), out of line, then the head. */
		x_alu_ri(c->b, 1, OP_SUB, R13, 1);
		x_jcc(c->b, CC_NS, t->label);
		x_jmp(c->b, jc_trap_label(c, JT_FUEL));
		if (c->ntraps) /* none when out of memory (c->fail) */
			c->traps[c->ntraps - 1].back = t->label;
		return;
	}
	x_jmp(c->b, t->label);
}

static int op_br(struct jc *c, uint8_t op)
{
	uint32_t depth;
	if (op == 0x0d && jc_trip_final(c)) {
		jc_trip_branch(c);
		return 0;
	}
	if (rd_u32(&c->r, &depth) || depth >= c->ncs)
		return -1;
	if (op == 0x0c) {
		branch_to(c, depth);
		c->cs[c->ncs - 1].unreachable = 1;
		return skip_dead(c);
	}
	struct jcond cd;
	jc_pop_cond(c, &cd);
	const struct jctl *t = &c->cs[c->ncs - 1 - depth];
	if ((t->kind != CK_LOOP || !c->st.metered) && !needs_move(c, t, br_arity(t))) {
		branch_cond(c, &cd, 1, t->label);
		return 0;
	}
	uint32_t skip = x_label(c->b);
	branch_cond(c, &cd, 0, skip);
	branch_to(c, depth);
	x_bind(c->b, skip);
	return 0;
}

static int op_br_table(struct jc *c)
{
	uint32_t n;
	if (rd_u32(&c->r, &n) || n > rd_left(&c->r))
		return -1;
	uint32_t *ds = malloc(((size_t)n + 1) * sizeof(uint32_t));
	if (!ds)
		return -1;
	for (uint32_t i = 0; i <= n; i++)
		if (rd_u32(&c->r, &ds[i]) || ds[i] >= c->ncs) {
			free(ds);
			return -1;
		}
	struct jv iv = jc_pop(c);
	int temp, r = jc_reg(c, &iv, c->nvs, &temp);
	uint32_t *stubs = malloc(((size_t)n + 1) * sizeof(uint32_t));
	if (!stubs) {
		free(ds);
		return -1;
	}
	for (uint32_t i = 0; i <= n; i++) {
		const struct jctl *t = &c->cs[c->ncs - 1 - ds[i]];
		stubs[i] = (t->kind == CK_LOOP && c->st.metered) || needs_move(c, t, br_arity(t))
		               ? x_label(c->b)
		               : t->label;
	}
	x_alu_ri(c->b, 0, OP_CMP, r, (int32_t)n);
	x_jcc(c->b, CC_AE, stubs[n]);
	uint32_t table = x_label(c->b);
	x_lea(c->b, 1, RAX, xmem(RIP_BASE, 0));
	size_t disp_at = c->b->n - 4;
	x_rm(c->b, 0, 1, 0x63, R11, xmemi(RAX, r, 4, 0), 0); /* movsxd r11, [rax+r*4] */
	x_lea(c->b, 1, RAX, xmemi(RAX, r, 4, 4));
	x_alu_rr(c->b, 1, OP_ADD, RAX, R11);
	x_rr(c->b, 0, 0, 0xff, 4, RAX, 0); /* jmp rax */
	if (temp)
		jc_free_reg(c, r);
	x_bind(c->b, table);
	if (!c->b->oom) {
		int32_t rel = (int32_t)(c->b->n - (disp_at + 4));
		memcpy(c->b->p + disp_at, &rel, 4);
	}
	for (uint32_t i = 0; i < n; i++)
		x_rel32(c->b, stubs[i]);
	for (uint32_t i = 0; i <= n; i++) {
		const struct jctl *t = &c->cs[c->ncs - 1 - ds[i]];
		if (stubs[i] == t->label)
			continue;
		int dup = 0;
		for (uint32_t k = 0; k < i; k++)
			dup |= stubs[k] == stubs[i];
		if (dup)
			continue;
		x_bind(c->b, stubs[i]);
		branch_to(c, ds[i]);
	}
	free(ds);
	free(stubs);
	c->cs[c->ncs - 1].unreachable = 1;
	return skip_dead(c);
}

/* The arguments are the top np values; results replace them. */
static void call_args_done(struct jc *c, const struct wtype *ft)
{
	uint32_t base = c->nvs - ft->nparams;
	c->nvs = base;
	for (uint32_t k = 0; k < ft->nresults; k++)
		jc_push(c, (struct jv){JV_SLOT, ft->types[ft->nparams + k], 0, 0, 0});
	if (base + ft->nparams > c->maxh)
		c->maxh = base + ft->nparams;
}

static void call_helper(struct jc *c, struct xm cells, int func_reg, struct capsa_wasm_func *f)
{
	x_store(c->b, 1, xmem(R15, CTX_BUDGET), R13);
	x_load(c->b, 1, RDX, xmem(RSP, JC_DEPTH));
	x_store(c->b, 1, xmem(R15, CTX_DEPTH), RDX);
	if (func_reg >= 0)
		x_mov_rr(c->b, 1, RSI, func_reg);
	else
		x_mov_ri(c->b, 1, RSI, (uint64_t)(uintptr_t)f);
	x_mov_rr(c->b, 1, RDI, R15);
	x_lea(c->b, 1, RDX, cells);
	x_mov_ri(c->b, 1, RCX, (uint64_t)(uintptr_t)c->in);
	x_call_abs(c->b, (const void *)jit_h_call);
	jc_site(c);
	x_load(c->b, 1, R13, xmem(R15, CTX_BUDGET)); /* it gives the fuel back */
}

/* Where the callee finds its argument cells: the operand slots, or (a
 * signature with v128 values) a copy in cell layout. */
static struct xm call_cells(struct jc *c, const struct wtype *ft, uint32_t base)
{
	if (jc_sig_plain(ft))
		return jc_slot(c, base);
	jc_marshal(c, ft, base, 0);
	return jc_cells(c);
}

static void call_results(struct jc *c, const struct wtype *ft, uint32_t base)
{
	if (!jc_sig_plain(ft))
		jc_marshal(c, ft, base, 1);
	call_args_done(c, ft);
}

/* A compiled callee's single result is in RAX only (jc.h): it replaces
 * the result slot just pushed. */
static void result_from_rax(struct jc *c, const struct wtype *ft)
{
	if (!jc_result_in_rax(ft))
		return;
	uint8_t type = ft->types[ft->nparams];
	int dst = jc_alloc(c, jt_isf(type));
	if (dst >= 16)
		x_rr(c->b, 0x66, jt_w(type), 0x0f6e, dst - 16, RAX, 0);
	else
		x_mov_rr(c->b, jt_w(type), dst, RAX);
	c->nvs--;
	jc_push_reg(c, type, dst);
}

static int op_call(struct jc *c)
{
	uint32_t fi;
	if (rd_u32(&c->r, &fi) || fi >= c->m->nfuncs)
		return -1;
	const struct wtype *ft = &c->m->types[c->m->func_type[fi]];
	uint32_t base = c->nvs - ft->nparams;
	if (!jc_sig_plain(ft)) {
		/* v128 values: arguments and results in cell layout, in memory */
		jc_before_call(c);
		struct xm cells = call_cells(c, ft, base);
		if (fi >= c->m->nimp_funcs) {
			x_lea(c->b, 1, RSI, cells);
			x_load(c->b, 1, RDX, xmem(RSP, JC_DEPTH));
			x_call_label(c->b, c->func_labels[fi - c->m->nimp_funcs]);
			jc_site(c);
		} else {
			call_helper(c, cells, -1, c->in->funcs[fi]);
		}
		jc_after_call(c);
		call_results(c, ft, base);
		return 0;
	}
	if (fi >= c->m->nimp_funcs) {
		/* The arguments go to their slots (spilled) and, the first
		 * ones, to their registers: from where they are now (a spill
		 * does not change a register), as one parallel move. */
		int dst[8], src[8];
		struct jv late[8];
		uint32_t nmv = 0, nlate = 0;
		for (uint32_t k = 0; k < ft->nparams; k++) {
			int r = jc_arg_reg(ft, k);
			const struct jv *v = &c->vs[base + k];
			int from = v->kind == JV_REG     ? v->reg
			           : v->kind == JV_LOCAL ? c->loc[v->local].reg
			                                 : -1;
			if (r < 0)
				continue;
			if (from >= 0) {
				dst[nmv] = r;
				src[nmv++] = from;
			} else {
				late[nlate] = *v;
				late[nlate].reg = (uint8_t)r;
				late[nlate++].local = v->kind == JV_LOCAL ? v->local : base + k;
			}
		}
		jc_before_direct_call(c, base, ft);
		for (uint32_t k = 0; k < ft->nparams; k++)
			if (jc_arg_reg(ft, k) >= 0)
				jc_free(c, &c->vs[base + k]);
		jc_pmove(c, nmv, dst, src);
		for (uint32_t k = 0; k < nlate; k++) {
			struct jv v = late[k];
			int r = v.reg;
			if (v.kind == JV_CONST)
				jc_load(c, &v, 0, r);
			else if (v.kind == JV_SLOT) /* .local: its position */
				jc_load_mem(c, v.type, r, jc_slot(c, v.local));
			else
				jc_load_mem(c, v.type, r, jc_local(c, v.local));
		}
		x_lea(c->b, 1, RSI, jc_slot(c, base));
		x_load(c->b, 1, RDX, xmem(RSP, JC_DEPTH));
		x_call_label(c->b, c->reg_labels[fi - c->m->nimp_funcs]);
		jc_site(c);
	} else {
		jc_before_call(c);
		call_helper(c, jc_slot(c, base), -1, c->in->funcs[fi]);
	}
	jc_after_call(c);
	call_args_done(c, ft);
	if (fi >= c->m->nimp_funcs)
		result_from_rax(c, ft);
	return 0;
}

static int op_call_indirect(struct jc *c)
{
	uint32_t ti, tab;
	if (rd_u32(&c->r, &ti) || rd_u32(&c->r, &tab) || ti >= c->m->ntypes || tab >= c->m->ntables)
		return -1;
	const struct wtype *ft = &c->m->types[ti];
	struct jv iv = jc_pop(c);
	int r = jc_take(c, &iv, c->nvs);
	jc_before_call(c);
	jc_free_reg(c, r);
	uint32_t base = c->nvs - ft->nparams;
	struct xm cells = call_cells(c, ft, base);
	struct xbuf *b = c->b;
	x_mov_ri(b, 1, RAX, (uint64_t)(uintptr_t)c->in->tables[tab]);
	x_alu_rm(b, 0, OP_CMP, r, xmem(RAX, offsetof(struct capsa_wasm_table, size)));
	x_jcc(b, CC_AE, jc_trap_label(c, CAPSA_WASM_TRAP_UNDEFINED_ELEMENT));
	x_load(b, 1, RAX, xmem(RAX, offsetof(struct capsa_wasm_table, elems)));
	x_load(b, 1, RAX, xmemi(RAX, r, 8, 0));
	x_rr(b, 0, 1, 0x85, RAX, RAX, 0);
	x_jcc(b, CC_E, jc_trap_label(c, CAPSA_WASM_TRAP_UNINITIALIZED_ELEMENT));
	uint32_t ok = x_label(b), slow = x_label(b), done = x_label(b);
	x_alu_mi(b, 0, OP_CMP, xmem(RAX, offsetof(struct capsa_wasm_func, jit_sig)),
	         (int32_t)jit_sig(c->js, ft));
	x_jcc(b, CC_E, ok);
	x_mov_rr(b, 1, RBX, RAX); /* RBX is saved (a local's copy is in its slot) */
	x_store(b, 1, xmem(R15, CTX_BUDGET), R13);
	x_mov_rr(b, 1, RDI, R15);
	x_mov_rr(b, 1, RSI, RAX);
	x_mov_ri(b, 1, RDX, (uint64_t)(uintptr_t)ft);
	x_call_abs(b, (const void *)jit_h_sigcheck);
	jc_site(c);
	x_mov_rr(b, 1, RAX, RBX);
	x_bind(b, ok);
	x_load(b, 1, R11, xmem(RAX, offsetof(struct capsa_wasm_func, jit)));
	x_rr(b, 0, 1, 0x85, R11, R11, 0);
	x_jcc(b, CC_E, slow);
	x_lea(b, 1, RSI, cells);
	x_load(b, 1, RDX, xmem(RSP, JC_DEPTH));
	x_rr(b, 0, 0, 0xff, 2, R11, 0); /* call r11 */
	jc_site(c);
	x_jmp(b, done);
	x_bind(b, slow);
	call_helper(c, cells, RAX, NULL);
	if (jc_result_in_rax(ft)) /* the runtime wrote it to the cells */
		x_load(b, 1, RAX, cells);
	x_bind(b, done);
	jc_after_call(c);
	call_results(c, ft, base);
	result_from_rax(c, ft);
	return 0;
}

static void op_local(struct jc *c, uint8_t op, uint32_t x)
{
	if (op == 0x20) {
		jc_push(c, (struct jv){JV_LOCAL, c->loc[x].type, 0, x, 0});
		return;
	}
	struct jv v = jc_pop(c);
	uint32_t pos = c->nvs;
	if (!(v.kind == JV_LOCAL && v.local == x)) {
		jc_detach_local(c, x);
		if (c->loc[x].reg >= 0)
			jc_load(c, &v, pos, c->loc[x].reg);
		else
			jc_store_to(c, &v, pos, jc_local(c, x));
		if (op == 0x22 && v.kind == JV_REG && c->loc[x].reg < 0) {
			jc_push(c, v); /* the value stays in its register too */
			return;
		}
		jc_free(c, &v);
	}
	if (op == 0x22)
		jc_push(c, (struct jv){JV_LOCAL, c->loc[x].type, 0, x, 0});
}

static int op_drop_select(struct jc *c, uint8_t op)
{
	if (op == 0x1a) {
		struct jv v = jc_pop(c);
		jc_free(c, &v);
		return 0;
	}
	if (op == 0x1c) {
		uint32_t n;
		const uint8_t *t;
		if (rd_u32(&c->r, &n) || rd_bytes(&c->r, n, &t))
			return -1;
	}
	struct jcond cd;
	jc_pop_cond(c, &cd);
	struct jv bv = jc_pop(c), av = jc_pop(c);
	cd.v = cd.a;
	cd.pos = cd.pa;
	uint32_t pb = c->nvs + 1, pa = c->nvs;
	int dst = jc_take(c, &av, pa);
	uint32_t skip = x_label(c->b);
	if (jt_isx(av.type)) {
		branch_cond(c, &cd, 1, skip);
		jc_load(c, &bv, pb, dst);
		x_bind(c->b, skip);
	} else {
		int temp = 1, rb;
		if (bv.kind == JV_CONST) {
			rb = jc_alloc(c, 0);
			jc_load(c, &bv, pb, rb);
		} else {
			rb = jc_reg(c, &bv, pb, &temp);
		}
		if (cd.cmp) {
			int cc = jc_cmp_emit(c, &cd);
			x_rr(c->b, 0, 1, (uint32_t)(0x0f40 + (cc ^ 1)), dst, rb, 0); /* cmov */
		} else if (cd.v.kind == JV_CONST) {
			if (!(uint32_t)cd.v.c)
				x_mov_rr(c->b, 1, dst, rb);
		} else {
			int ctemp, rc = jc_reg(c, &cd.v, cd.pos, &ctemp);
			x_rr(c->b, 0, 0, 0x85, rc, rc, 0);
			x_rr(c->b, 0, 1, 0x0f44, dst, rb, 0); /* cmovz */
			if (ctemp)
				jc_free_reg(c, rc);
		}
		if (temp)
			jc_free_reg(c, rb);
		bv.kind = JV_CONST;
	}
	jc_free(c, &bv);
	jc_push_reg(c, av.type, dst);
	return 0;
}

static int compile_op(struct jc *c, uint8_t op)
{
	uint32_t x;
	switch (op) {
	case 0x00:
		x_jmp(c->b, jc_trap_label(c, CAPSA_WASM_TRAP_UNREACHABLE));
		c->cs[c->ncs - 1].unreachable = 1;
		return skip_dead(c);
	case 0x01:
		return 0;
	case 0x02:
	case 0x03:
	case 0x04:
		op_block(c, op);
		return 0;
	case 0x05:
		op_else(c);
		return 0;
	case 0x0b:
		op_end(c);
		return 0;
	case 0x0c:
	case 0x0d:
		return op_br(c, op);
	case 0x0e:
		return op_br_table(c);
	case 0x0f:
		branch_to(c, c->ncs - 1);
		c->cs[c->ncs - 1].unreachable = 1;
		return skip_dead(c);
	case 0x10:
		return op_call(c);
	case 0x11:
		return op_call_indirect(c);
	case 0x1a:
	case 0x1b:
	case 0x1c:
		return op_drop_select(c, op);
	case 0x20:
	case 0x21:
	case 0x22:
		if (rd_u32(&c->r, &x) || x >= c->nlocals)
			return -1;
		op_local(c, op, x);
		return 0;
	case 0xfc:
		if (rd_u32(&c->r, &x))
			return -1;
		return jc_op_fc(c, x);
	case 0xfd:
		if (rd_u32(&c->r, &x))
			return -1;
		return jc_op_simd(c, x);
	default:
		if (op >= 0x28 && op <= 0x3e)
			return jc_op_memory(c, op);
		if (op >= 0x41 && op <= 0xc4)
			return jc_op_numeric(c, op);
		return jc_op_misc(c, op);
	}
}

static int setup_locals(struct jc *c)
{
	uint32_t n;
	uint64_t total = c->ft->nparams;
	struct rd r = c->r;
	if (rd_u32(&r, &n))
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t cnt;
		uint8_t t;
		if (rd_u32(&r, &cnt) || rd_u8(&r, &t))
			return -1;
		total += cnt;
	}
	if (total > (1u << 21))
		return -1;
	c->nlocals = (uint32_t)total;
	if (total + 1 > c->caploc) {
		struct jlocal *p = realloc(c->loc, (total + 1) * sizeof(*p));
		if (!p)
			return -1;
		c->loc = p;
		c->caploc = (uint32_t)total + 1;
	}
	uint32_t k = 0;
	for (; k < c->ft->nparams; k++)
		c->loc[k].type = c->ft->types[k];
	rd_u32(&c->r, &n);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t cnt;
		uint8_t t;
		rd_u32(&c->r, &cnt);
		rd_u8(&c->r, &t);
		for (uint32_t j = 0; j < cnt; j++)
			c->loc[k++].type = t;
	}
	for (k = 0; k < total; k++)
		if (c->loc[k].type == CAPSA_WASM_V128)
			c->loc[k].widx = c->nwlocals++;
	c->wide |= c->nwlocals || !jc_sig_plain(c->ft);
	return 0;
}

/* The parameters passed in registers go to their locals. */
static void params_from_regs(struct jc *c)
{
	int dst[8], src[8];
	uint32_t n = 0;
	for (uint32_t i = 0; i < c->ft->nparams; i++) {
		int r = jc_arg_reg(c->ft, i);
		if (r < 0)
			continue;
		if (c->loc[i].reg >= 0) {
			dst[n] = c->loc[i].reg;
			src[n++] = r;
		} else {
			jc_store_reg(c, c->loc[i].type, jc_local(c, i), r);
		}
	}
	jc_pmove(c, n, dst, src);
}

void jc_entry_args(struct jc *c, const struct wtype *ft, uint32_t reg_label, int store)
{
	for (uint32_t i = 0; i < ft->nparams; i++) {
		int r = jc_arg_reg(ft, i);
		if (r >= 0) /* entered with the arguments in memory only */
			jc_load_mem(c, ft->types[i], r, xmem(RSI, (int32_t)(8 * i)));
	}
	x_bind(c->b, reg_label);
	for (uint32_t i = 0; i < ft->nparams && store; i++) {
		int r = jc_arg_reg(ft, i);
		if (r >= 0)
			jc_store_reg(c, ft->types[i], xmem(RSI, (int32_t)(8 * i)), r);
	}
}

static void prologue(struct jc *c, uint32_t defidx)
{
	struct xbuf *b = c->b;
	uint32_t np = c->ft->nparams, nd = c->nlocals - np;
	/* rep stosq (many locals) would clobber RCX and RDI: then the
	 * parameters are read from memory even on a direct call (whose entry
	 * stores those passed in registers to their cells first). */
	int regargs = nd <= 16;
	jc_entry_args(c, c->ft, c->reg_labels[defidx], !regargs);
	x_lea(b, 1, RAX, xmem(RSP, -0x7fffffff));
	c->frame_fix = (uint32_t)b->n - 4;
	x_alu_rm(b, 1, OP_CMP, RAX, xmem(R15, CTX_LIMIT));
	x_jcc(b, CC_B, jc_trap_label(c, CAPSA_WASM_TRAP_STACK_EXHAUSTED));
	x_alu_ri(b, 1, OP_SUB, RDX, 1);
	x_jcc(b, CC_S, jc_trap_label(c, CAPSA_WASM_TRAP_STACK_EXHAUSTED));
	x_mov_rr(b, 1, RSP, RAX);
	if (c->ft->nresults && !jc_result_in_rax(c->ft))
		x_store(b, 1, xmem(RSP, 0), RSI); /* where the results go */
	x_store(b, 1, xmem(RSP, JC_DEPTH), RDX);
	if (regargs)
		params_from_regs(c);
	for (uint32_t i = 0, cell = 0; i < np; cell += wtype_cells(c->loc[i++].type)) {
		if (c->loc[i].type == CAPSA_WASM_V128) {
			jc_copy16(c, jc_local(c, i), xmem(RSI, (int32_t)(8 * cell)));
			continue;
		}
		if (regargs && jc_arg_reg(c->ft, i) >= 0)
			continue;
		if (c->loc[i].reg >= 0) {
			if (regargs)
				jc_load_mem(c, c->loc[i].type, c->loc[i].reg,
				            xmem(RSI, (int32_t)(8 * cell)));
			continue;
		}
		x_load(b, 1, RAX, xmem(RSI, (int32_t)(8 * cell)));
		x_store(b, 1, jc_local(c, i), RAX);
	}
	uint32_t wp = c->ft->pcells - np; /* v128 parameters */
	if (c->nwlocals > wp) {
		/* The parameters are out of RCX by now; RDI may hold a
		 * register local already, so R11 keeps it. */
		x_mov_rr(b, 1, R11, RDI);
		x_lea(b, 1, RDI, jc_wlocal(c, wp));
		x_mov_ri(b, 0, RCX, 2 * (c->nwlocals - wp));
		x_mov_ri(b, 0, RAX, 0);
		xb_u8(b, 0xf3);
		xb_u8(b, 0x48);
		xb_u8(b, 0xab); /* rep stosq */
		x_mov_rr(b, 1, RDI, R11);
	}
	if (!regargs) {
		x_lea(b, 1, RDI, xmem(RSP, (int32_t)(16 + 8 * np))); /* the 8-byte homes */
		x_mov_ri(b, 0, RCX, nd);
		x_mov_ri(b, 0, RAX, 0);
		xb_u8(b, 0xf3);
		xb_u8(b, 0x48);
		xb_u8(b, 0xab); /* rep stosq */
	} else {
		for (uint32_t i = np; i < c->nlocals; i++)
			if (c->loc[i].reg < 0 && c->loc[i].type != CAPSA_WASM_V128)
				x_store_i32(b, 1, jc_local(c, i), 0);
	}
	jc_mem_base(c);
	for (uint32_t i = 0, cell = 0; i < c->nlocals; i++) {
		int r = c->loc[i].reg;
		cell += i && i <= np ? wtype_cells(c->loc[i - 1].type) : 0;
		if (r < 0)
			continue;
		if (i < np) {
			if (!regargs || c->loc[i].type == CAPSA_WASM_V128)
				jc_load_mem(c, c->loc[i].type, r, xmem(RSI, (int32_t)(8 * cell)));
		} else if (r >= 16)
			x_rr(b, 0, 0, 0x0f57, r - 16, r - 16, 0); /* xorps */
		else
			x_mov_ri(b, 0, r, 0);
	}
	fuel_check(c);
}

static void epilogue(struct jc *c, uint32_t frame)
{
	struct xbuf *b = c->b;
	const struct wtype *ft = c->ft;
	if (ft->nresults && !jc_result_in_rax(ft))
		x_load(b, 1, RDX, xmem(RSP, 0));
	for (uint32_t k = 0, cell = 0; k < ft->nresults && !jc_result_in_rax(ft); k++) {
		uint8_t t = ft->types[ft->nparams + k];
		if (t == CAPSA_WASM_V128) {
			jc_copy16(c, xmem(RDX, (int32_t)(8 * cell)), jc_vslot(c, k, t));
		} else {
			x_load(b, jt_w(t), RAX, jc_slot(c, k));
			x_store(b, 1, xmem(RDX, (int32_t)(8 * cell)), RAX);
		}
		cell += wtype_cells(t);
	}
	x_rr(b, 0, 1, 0x81, OP_ADD, RSP, 0);
	xb_u32(b, frame);
	x_ret(b);
	for (uint32_t i = 0; i < c->ntraps; i++) {
		const struct jtrap *t = &c->traps[i];
		c->cur_off = t->wasm;
		x_bind(b, t->label);
		if (t->code == JT_FUEL) {
			x_call_label(b, c->st.fuel);
			jc_site(c);
			x_jmp(b, t->back);
		} else if (t->code == CAPSA_WASM_TRAP_STACK_EXHAUSTED) {
			/* Checked on entry, before the frame exists: [rsp] is the
			 * return address, so the trap names the caller's call
			 * instruction, as the interpreter does. */
			x_mov_ri(b, 0, RSI, t->code);
			x_jmp(b, c->st.trap);
		} else {
			jc_trip_trap(c, i);
			x_mov_ri(b, 0, RSI, t->code);
			x_call_label(b, c->st.trap);
			jc_site(c);
		}
	}
	jc_trip_pads(c);
}

static int compile_pass(struct jc *c, uint32_t defidx)
{
	struct capsa_wasm_module *m = c->m;
	const struct wcode *wc = &m->code[defidx];
	c->fidx = m->nimp_funcs + defidx;
	c->ft = &m->types[m->func_type[c->fidx]];
	c->r = (struct rd){m->bytes + wc->body_off, m->bytes + wc->body_off + wc->body_len,
	                   m->bytes, NULL};
	if (setup_locals(c) || jc_prepass(c))
		return -1;
	c->ntrips = 0;
	c->trip_open = 0;
	c->trip_cell = UINT32_MAX;
	uint32_t tcells = c->st.metered ? jc_trip_wanted(c) : 0;
	if (tcells) { /* the cells of counted loops */
		c->trip_cell = c->nextra;
		c->nextra += tcells;
		jc_trip_reserve(c);
	}
	c->work_limit = (1ull << 26) + 64ull * wc->body_len;
	c->cur_off = (uint32_t)(c->r.p - m->bytes);
	struct jctl *t = push_ctl(c, CK_FUNC);
	if (!t)
		return -1;
	t->nr = c->ft->nresults;
	t->rt = c->ft->types + c->ft->nparams;
	prologue(c, defidx);
	while (c->ncs && !c->fail && !c->b->oom) {
		if (!rd_left(&c->r))
			return -1;
		c->cur_off = (uint32_t)(c->r.p - m->bytes);
		uint8_t op = *c->r.p++;
		if (op == 0x0b && c->ncs == 1) {
			struct jctl *f = &c->cs[0];
			if (!f->unreachable)
				move_top(c, f, f->nr);
			x_bind(c->b, f->label);
			c->ncs = 0;
			break;
		}
		if (compile_op(c, op))
			return -1;
	}
	if (c->fail || c->b->oom || c->pending_cmp)
		return -1;
	/* Spare cells above the deepest stack: a host function given the
	 * arguments of a call at the top may write a few more cells than it
	 * returns (the interpreter tolerates that too). */
	uint64_t slots = 2 + (uint64_t)c->nlocals + c->nextra + c->maxh + 8;
	uint64_t frame = slots * 8;
	if (c->wide || c->b->nlates)
		frame = jc_wide_frame(c, (uint32_t)(frame < 0x7fff0000 ? frame : 0x7fff0000));
	if (frame % 16 == 0)
		frame += 8;
	if (frame > JC_MAX_FRAME)
		return -1;
	int32_t neg = -(int32_t)frame;
	memcpy(c->b->p + c->frame_fix, &neg, 4);
	epilogue(c, (uint32_t)frame);
	jc_const_pool(c);
	return c->fail || c->b->oom ? -1 : 0;
}

/* One pass: the 16-byte area of v128 values is addressed provisionally
 * and placed at the end (jc_wide_frame). */
int jc_function(struct jc *c, uint32_t defidx)
{
	c->wbase = JW_LATE_BASE;
	c->wmaxh = JW_LATE_CELLS / 16;
	c->b->nlates = 0;
	return compile_pass(c, defidx);
}
