/* SPDX-License-Identifier: Apache-2.0 */
/* Numeric, memory and select instructions, with the superinstructions
 * they fuse into (see compile.h): each takes back the instruction emitted
 * just before when it consumes that one's result and nothing else can
 * observe it (no branch target in between: c->label_at). */
#include "wasm/compile.h"

#include <string.h>

#define T_i32                       CAPSA_WASM_I32
#define T_i64                       CAPSA_WASM_I64
#define T_f32                       CAPSA_WASM_F32
#define T_f64                       CAPSA_WASM_F64
#define NI_BIN(n, opc, ta, tr, ...) {opc, 1, T_##ta, T_##tr, OP_##n, OP_##n##_imm},
#define NI_UN(n, opc, ta, tr, ...)  {opc, 0, T_##ta, T_##tr, OP_##n, 0},
const struct numinfo wc_numinfos[] = {WASM_NUMERIC_OPS(NI_BIN, NI_UN, NI_BIN, NI_UN)};

#define MI_LOAD(n, opc, t, bytes, ...)  {opc, 0, bytes, T_##t, OP_##n, 0},
#define MI_STORE(n, opc, t, bytes, ...) {opc, 1, bytes, T_##t, OP_##n, 0},
const struct numinfo wc_meminfos[] = {WASM_MEMORY_OPS(MI_LOAD, MI_STORE)};
_Static_assert(sizeof(wc_numinfos) / sizeof(wc_numinfos[0]) == 0xc5 - 0x45 + 8, "numeric table");
_Static_assert(sizeof(wc_meminfos) / sizeof(wc_meminfos[0]) == 0x3f - 0x28, "memory table");

const struct numinfo *wc_numinfo_fc(uint32_t sub)
{
	return &wc_numinfos[0xc5 - 0x45 + sub];
}
static int cmp_kind(uint16_t op)
{
	switch (op) {
	case OP_i32_eq:
		return 0;
	case OP_i32_ne:
		return 1;
	case OP_i32_lt_s:
		return 2;
	case OP_i32_lt_u:
		return 3;
	case OP_i32_gt_s:
		return 4;
	case OP_i32_gt_u:
		return 5;
	case OP_i32_le_s:
		return 6;
	case OP_i32_le_u:
		return 7;
	case OP_i32_ge_s:
		return 8;
	case OP_i32_ge_u:
		return 9;
	case OP_i32_eqz:
		return -2;
	}
	return -1;
}

/* Index in WASM_LDBIN_OPS of an i32 operation, or -1. */
static int ldbin_index(uint16_t op)
{
	switch (op) {
	case OP_i32_add:
		return 0;
	case OP_i32_sub:
		return 1;
	case OP_i32_mul:
		return 2;
	case OP_i32_and:
		return 3;
	case OP_i32_or:
		return 4;
	case OP_i32_xor:
		return 5;
	}
	return -1;
}

/* What was emitted just before a binary operation, read before its
 * operands are popped (popping may emit, which resets it). */
struct prior {
	int64_t add;        /* a two-slot i32.add, or -1 */
	int64_t load, prev; /* the latest i32.load and one just before it, or -1 */
	int load_ai, prev_ai, gap;
};

/* (x + y) + z: a sum just computed (and used only here) plus another value
 * is one three-operand add. 1 when fused. */
static int fuse_add3(struct cc *c, int64_t lad, const struct vent *a, const struct vent *b,
                     uint32_t dst)
{
	if (b->is_const || DEAD || lad < 0 || c->label_at > lad || (uint64_t)lad + 4 != c->ncode)
		return 0;
	uint64_t t = c->code[lad + 1].u, other = UINT64_MAX;
	if (b->slot == b->canon && b->slot == t && a->slot != t)
		other = a->slot;
	else if (a->slot == a->canon && a->slot == t && b->slot != t)
		other = b->slot;
	if (other == UINT64_MAX)
		return 0;
	uint64_t v[3] = {c->code[lad + 2].u, c->code[lad + 3].u, other};
	/* A local (likely an accumulator carried around a loop) goes last:
	 * the handler adds it to the sum of the other two, one add after its
	 * value arrives. */
	for (int i = 0; i < 2; i++)
		if (v[i] < c->nlocal_cells && v[2] >= c->nlocal_cells) {
			uint64_t s = v[i];
			v[i] = v[2];
			v[2] = s;
		}
	wc_rewind(c, (uint32_t)lad);
	wc_emit_op(c, OP_i32_add3);
	uint32_t at = wc_emit_u(c, dst);
	for (int i = 0; i < 3; i++)
		wc_emit_u(c, v[i]);
	c->last_dst = at;
	return 1;
}

/* load(p) OP load(q) for add and mul, both loads emitted just before (other
 * is the first one's result). An i32.add between the two loads moves
 * before both, if it does not touch the first load's address or result.
 * 1 when fused. */
static int fuse_ldld(struct cc *c, const struct prior *pr, int lb, uint64_t other, uint32_t dst)
{
	const int64_t pl = pr->prev, ll = pr->load;
	if ((lb != 0 && lb != 2) || pl < 0 || c->label_at > pl || c->code[pl + 1].u != other ||
	    c->code[ll + 2].u == other)
		return 0;
	const uint32_t alu = (uint32_t)(pl + 4 + pr->prev_ai);
	cell g[4];
	uint32_t g_off = 0;
	if (pr->gap) {
		memcpy(g, &c->code[alu], sizeof(g));
		g_off = c->offs[alu];
		uint64_t d = g[1].u;
		int imm = g[0].h == c->labels[OP_i32_add_imm];
		if (d == c->code[pl + 1].u || d == c->code[pl + 2].u ||
		    g[2].u == c->code[pl + 1].u || (!imm && g[3].u == c->code[pl + 1].u))
			return 0;
	}
	uint64_t ops[6] = {
	    c->code[pl + 2].u, c->code[pl + 3].u, pr->prev_ai ? c->code[pl + 4].u : 0,
	    c->code[ll + 2].u, c->code[ll + 3].u, pr->load_ai ? c->code[ll + 4].u : 0};
	uint32_t where = c->offs[pl];
	wc_rewind(c, (uint32_t)pl);
	if (pr->gap) {
		for (int i = 0; i < 4; i++) {
			uint32_t at = wc_emit_u(c, g[i].u);
			if (!c->oom && at != UINT32_MAX)
				c->offs[at] = g_off;
		}
	}
	enum wasm_op fop = lb == 0 ? OP_i32_add_ldld : OP_i32_mul_ldld;
	uint32_t op = wc_emit_op(c, fop);
	wc_mark_memop(c, op, (enum wasm_op)(fop + 1));
	uint32_t at = wc_emit_u(c, dst);
	for (int i = 0; i < 6; i++)
		wc_emit_u(c, ops[i]);
	if (!c->oom)
		c->offs[op] = where;
	c->last_dst = at;
	return 1;
}

/* An i32 add, sub, mul, and, or or xor of an i32.load emitted just before:
 * the load folds into the operation (or both operands' loads, fuse_ldld).
 * 1 when fused. */
static int fuse_load_operand(struct cc *c, const struct numinfo *ni, const struct prior *pr,
                             const struct vent *a, const struct vent *b, uint32_t dst)
{
	const int64_t ll = pr->load;
	int lb = ldbin_index(ni->op);
	if (lb < 0 || DEAD || ll < 0 || c->label_at > ll ||
	    (uint64_t)ll + 4 + (uint64_t)pr->load_ai != c->ncode || b->is_const)
		return 0;
	uint64_t ld = c->code[ll + 1].u, other;
	int other_canon;
	if (b->slot == b->canon && b->slot == ld && a->slot != ld) {
		other = a->slot;
		other_canon = a->slot == a->canon;
	} else if (lb != 1 && a->slot == a->canon && a->slot == ld && b->slot != ld) {
		other = b->slot; /* commutative: the load is the first operand */
		other_canon = b->slot == b->canon;
	} else {
		return 0;
	}
	if (other_canon && fuse_ldld(c, pr, lb, other, dst))
		return 1;
	/* dst = other OP load(...): the load's operands move over. */
	uint64_t x = c->code[ll + 2].u, off = c->code[ll + 3].u;
	uint64_t k = pr->load_ai ? c->code[ll + 4].u : 0;
	uint32_t where = c->offs[ll];
	wc_rewind(c, (uint32_t)ll);
	enum wasm_op fop = (enum wasm_op)(OP_i32_add_ld + 4 * lb + pr->load_ai);
	uint32_t op = wc_emit_op(c, fop);
	wc_mark_memop(c, op, (enum wasm_op)(fop + 2));
	uint32_t at = wc_emit_u(c, dst);
	wc_emit_u(c, other);
	wc_emit_u(c, x);
	wc_emit_u(c, off);
	if (pr->load_ai)
		wc_emit_u(c, k);
	if (!c->oom)
		c->offs[op] = where; /* a trap is the load's */
	c->last_dst = at;
	return 1;
}

/* Notes what a plain binary operation at op may fuse with next. */
static void note_binary(struct cc *c, const struct numinfo *ni, uint32_t op, int imm)
{
	if (ni->op == OP_i32_add && !imm)
		c->last_add = op;
	if (ni->op == OP_i32_add && imm) {
		c->last_addimm = c->addimm_at = op;
	}
	int k = cmp_kind(ni->op);
	if (k >= 0) {
		c->last_cmp = op;
		c->cmp_kind = k;
		c->cmp_imm = imm;
	}
}

static int op_binary(struct cc *c, const struct numinfo *ni)
{
	struct vent a, b;
	const struct prior pr = {c->last_add,     c->last_load,    c->prev_load,
	                         c->last_load_ai, c->prev_load_ai, c->prev_gap};
	if (wc_pop_raw(c, ni->ta, &b) || wc_pop(c, ni->ta, &a))
		return -1;
	uint32_t dst = wc_next_canon(c);
	if ((ni->op == OP_i32_add && fuse_add3(c, pr.add, &a, &b, dst)) ||
	    fuse_load_operand(c, ni, &pr, &a, &b, dst)) {
		wc_push(c, ni->tr);
		return 0;
	}
	uint32_t op = wc_emit_op(c, b.is_const ? (enum wasm_op)ni->op_imm : (enum wasm_op)ni->op);
	uint32_t at = wc_emit_u(c, dst);
	wc_emit_u(c, a.slot);
	wc_emit_u(c, b.is_const ? b.cval : b.slot);
	wc_push(c, ni->tr);
	if (!DEAD) {
		c->last_dst = at;
		note_binary(c, ni, op, b.is_const);
	}
	return 0;
}

int wc_op_numeric(struct cc *c, const struct numinfo *ni)
{
	struct vent a;
	if (ni->bin)
		return op_binary(c, ni);
	if (wc_pop(c, ni->ta, &a))
		return -1;
	uint32_t dst = wc_next_canon(c);
	uint32_t op = wc_emit_op(c, ni->op);
	uint32_t at = wc_emit_u(c, dst);
	wc_emit_u(c, a.slot);
	wc_push(c, ni->tr);
	if (!DEAD) {
		c->last_dst = at;
		if (ni->op == OP_i32_eqz) {
			c->last_cmp = op;
			c->cmp_kind = -2;
		}
	}
	return 0;
}

/* Record the i32.load just emitted at op, and the one before (pl), if that
 * is right before it or separated by one two-slot or immediate i32.add. */
static void note_load(struct cc *c, uint32_t op, int ai)
{
	int64_t pl = c->any_load;
	int pl_ai = c->any_load_ai;
	c->last_load = c->any_load = op;
	c->last_load_ai = c->any_load_ai = ai;
	c->prev_load = -1;
	c->prev_load_ai = pl_ai;
	c->prev_gap = 0;
	/* It may since have been taken back (a fusion): check what is there. */
	if (pl < 0 || pl >= op || c->code[pl].h != c->labels[pl_ai ? OP_i32_load_ai : OP_i32_load])
		return;
	uint64_t end = (uint64_t)pl + 4 + (uint64_t)pl_ai;
	if (end == op) {
		c->prev_load = pl;
	} else if (end + 4 == op && (c->code[end].h == c->labels[OP_i32_add] ||
	                             c->code[end].h == c->labels[OP_i32_add_imm])) {
		c->prev_load = pl;
		c->prev_gap = 4;
	}
}

int wc_op_memory(struct cc *c, uint8_t opcode)
{
	const struct numinfo *mi = wc_meminfo(opcode);
	struct vent a, v;
	uint32_t offset;
	if (wc_read_memarg(c, mi->ta, &offset))
		return -1;
	if (!mi->bin) {
		int64_t la = c->last_addimm;
		if (wc_pop(c, CAPSA_WASM_I32, &a))
			return -1;
		uint32_t dst = wc_next_canon(c);
		if (!DEAD && la >= 0 && a.slot == a.canon && (uint64_t)la + 4 == c->ncode &&
		    c->code[la + 1].u == a.canon && c->label_at <= la) {
			/* Fold the address computation x + K into the load. */
			uint64_t x = c->code[la + 2].u, k = c->code[la + 3].u;
			wc_rewind(c, (uint32_t)la);
			uint32_t op = wc_emit_op(c, (enum wasm_op)(mi->op + 1));
			wc_mark_memop(c, op, (enum wasm_op)(mi->op + 3));
			uint32_t at = wc_emit_u(c, dst);
			wc_emit_u(c, x);
			wc_emit_u(c, offset);
			wc_emit_u(c, k);
			wc_push(c, mi->tr);
			if (!DEAD) {
				c->last_dst = at;
				if (mi->op == OP_i32_load)
					note_load(c, op, 1);
			}
			return 0;
		}
		uint32_t op = wc_emit_op(c, mi->op);
		wc_mark_memop(c, op, (enum wasm_op)(mi->op + 2));
		uint32_t at = wc_emit_u(c, dst);
		wc_emit_u(c, a.slot);
		wc_emit_u(c, offset);
		wc_push(c, mi->tr);
		if (!DEAD) {
			c->last_dst = at;
			if (mi->op == OP_i32_load)
				note_load(c, op, 0);
		}
		return 0;
	}
	int64_t lad = c->last_add;
	if (wc_pop(c, mi->tr, &v) || wc_pop(c, CAPSA_WASM_I32, &a))
		return -1;
	if (mi->op == OP_i32_store && !DEAD && lad >= 0 && c->label_at <= lad &&
	    (uint64_t)lad + 4 == c->ncode && v.slot == v.canon && c->code[lad + 1].u == v.slot &&
	    a.slot != v.slot) {
		/* Store a sum just computed (used only here). */
		uint64_t x = c->code[lad + 2].u, y = c->code[lad + 3].u;
		wc_rewind(c, (uint32_t)lad);
		uint32_t op = wc_emit_op(c, OP_i32_store_add);
		wc_mark_memop(c, op, OP_i32_store_add_g);
		wc_emit_u(c, a.slot);
		wc_emit_u(c, x);
		wc_emit_u(c, y);
		wc_emit_u(c, offset);
		return 0;
	}
	uint32_t op = wc_emit_op(c, mi->op);
	wc_mark_memop(c, op, (enum wasm_op)(mi->op + 1));
	wc_emit_u(c, a.slot);
	wc_emit_u(c, v.slot);
	wc_emit_u(c, offset);
	return 0;
}

/* Re-emit a condition wc_take_cond() folded away, into slot dst. */
static void emit_cond(struct cc *c, const struct condv *cd, uint32_t dst)
{
	static const uint16_t cmp_ops[] = {OP_i32_eq,   OP_i32_ne,   OP_i32_lt_s, OP_i32_lt_u,
	                                   OP_i32_gt_s, OP_i32_gt_u, OP_i32_le_s, OP_i32_le_u,
	                                   OP_i32_ge_s, OP_i32_ge_u};
	if (cd->add) {
		wc_emit_op(c, OP_i32_add_imm);
		wc_emit_u(c, cd->a);
		wc_emit_u(c, cd->add_s);
		wc_emit_u(c, cd->add_k);
	}
	if (cd->kind == -2) {
		wc_emit_op(c, OP_i32_eqz);
		wc_emit_u(c, dst);
		wc_emit_u(c, cd->a);
	} else if (cd->kind >= 0) {
		wc_emit_op(c, (enum wasm_op)(cmp_ops[cd->kind] + cd->imm));
		wc_emit_u(c, dst);
		wc_emit_u(c, cd->a);
		wc_emit_u(c, cd->b);
	}
}

/* The operand type of an untyped select: both numeric and alike. */
static int untyped_select_type(struct cc *c, const struct vent *a, const struct vent *b, uint8_t *t)
{
	if (wtype_is_ref(a->type) || wtype_is_ref(b->type))
		return FAIL("type mismatch: select needs numeric operands");
	if (a->type != WASM_TYPE_UNKNOWN && b->type != WASM_TYPE_UNKNOWN && a->type != b->type)
		return FAIL("type mismatch in select");
	*t = a->type != WASM_TYPE_UNKNOWN ? a->type : b->type;
	return 0;
}

/* select between two constants: `x cmp K ? A : B` is one op when the
 * condition is an i32 compare with an immediate emitted just before. */
static int op_select_consts(struct cc *c, uint8_t t, int typed)
{
	struct vent a, b;
	struct condv cd;
	uint32_t canon = c->vs[c->nvs - 1].canon;
	if (wc_take_cond(c, &cd) || wc_pop_raw(c, t, &b) || wc_pop_raw(c, t, &a))
		return -1;
	if (!typed && untyped_select_type(c, &a, &b, &t))
		return -1;
	uint32_t dst = wc_next_canon(c);
	uint32_t at;
	if (cd.kind >= 0 && cd.imm && !cd.add) {
		wc_emit_op(c, (enum wasm_op)(OP_selk_eq + cd.kind));
		at = wc_emit_u(c, dst);
		wc_emit_u(c, a.cval);
		wc_emit_u(c, b.cval);
		wc_emit_u(c, cd.a);
		wc_emit_u(c, cd.b);
	} else {
		uint32_t cs = (uint32_t)cd.a;
		if (cd.kind != -1 || cd.add) {
			emit_cond(c, &cd, canon);
			cs = canon;
		}
		wc_emit_op(c, OP_selk);
		at = wc_emit_u(c, dst);
		wc_emit_u(c, a.cval);
		wc_emit_u(c, b.cval);
		wc_emit_u(c, cs);
	}
	wc_push(c, t);
	if (!DEAD)
		c->last_dst = at;
	return 0;
}

int wc_op_select(struct cc *c, int typed)
{
	struct vent a, b, cond;
	uint8_t t = WASM_TYPE_UNKNOWN;
	if (typed) {
		uint32_t n;
		if (rd_u32(&c->r, &n))
			return -1;
		if (n != 1)
			return FAIL("invalid result arity for select");
		if (rd_u8(&c->r, &t))
			return -1;
		if (!(t == CAPSA_WASM_I32 || t == CAPSA_WASM_I64 || t == CAPSA_WASM_F32 ||
		      t == CAPSA_WASM_F64 || t == CAPSA_WASM_V128 || wtype_is_ref(t)))
			return rd_fail(&c->r, "malformed value type");
	}
	if (c->nvs >= TOP->height + 3 && c->vs[c->nvs - 2].is_const && c->vs[c->nvs - 3].is_const &&
	    t != CAPSA_WASM_V128 && c->vs[c->nvs - 2].type != CAPSA_WASM_V128)
		return op_select_consts(c, t, typed);
	if (wc_pop(c, CAPSA_WASM_I32, &cond) || wc_pop(c, t, &b) || wc_pop(c, t, &a))
		return -1;
	if (!typed && untyped_select_type(c, &a, &b, &t))
		return -1;
	uint32_t dst = wc_next_canon(c);
	wc_emit_op(c, t == CAPSA_WASM_V128 ? OP_select128 : OP_select);
	uint32_t at = wc_emit_u(c, dst);
	wc_emit_u(c, a.slot);
	wc_emit_u(c, b.slot);
	wc_emit_u(c, cond.slot);
	wc_push(c, t);
	if (!DEAD)
		c->last_dst = at;
	return 0;
}
