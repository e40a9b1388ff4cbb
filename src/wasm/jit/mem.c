/* SPDX-License-Identifier: Apache-2.0 */
/* Memory instructions (through the guard region, or checked explicitly when
 * the memory has none), globals, tables, references and the bulk
 * operations (runtime helpers, helpers.c). */
#include "wasm/jit/jc.h"

#include <stddef.h>

#include "wasm/jit/helpers.h"

#define I32 CAPSA_WASM_I32
#define I64 CAPSA_WASM_I64
#define F32 CAPSA_WASM_F32
#define F64 CAPSA_WASM_F64

/* The operand for an access of size bytes at a + offset. Uses RAX and R11;
 * *reg is a temporary to free after the access (or -1). */
struct xm jc_address(struct jc *c, struct jv *a, uint32_t pa, uint32_t offset, uint32_t size,
                     int *reg)
{
	const struct capsa_wasm_memory *mem = c->in->mem0;
	struct xbuf *b = c->b;
	*reg = -1;
	if (a->kind == JV_CONST) {
		uint64_t ea = (uint64_t)(uint32_t)a->c + offset;
		if (!mem->guarded) {
			x_mov_ri(b, 1, RAX, ea + size);
			x_mov_ri(b, 1, R11, (uint64_t)(uintptr_t)&mem->size);
			x_alu_rm(b, 1, OP_CMP, RAX, xmem(R11, 0));
			x_jcc(b, CC_A, jc_trap_label(c, CAPSA_WASM_TRAP_MEMORY_OOB));
		}
		if (ea <= INT32_MAX)
			return xmem(R14, (int32_t)ea);
		x_mov_ri(b, 1, RAX, ea);
		return xmemi(R14, RAX, 1, 0);
	}
	int temp, r = jc_reg(c, a, pa, &temp);
	if (temp)
		*reg = r;
	if (!mem->guarded) {
		uint64_t end = (uint64_t)offset + size;
		if (end <= INT32_MAX) {
			x_lea(b, 1, RAX, xmem(r, (int32_t)end));
		} else {
			x_mov_ri(b, 1, RAX, end);
			x_alu_rr(b, 1, OP_ADD, RAX, r);
		}
		x_mov_ri(b, 1, R11, (uint64_t)(uintptr_t)&mem->size);
		x_alu_rm(b, 1, OP_CMP, RAX, xmem(R11, 0));
		x_jcc(b, CC_A, jc_trap_label(c, CAPSA_WASM_TRAP_MEMORY_OOB));
	}
	if (offset <= INT32_MAX)
		return xmemi(R14, r, 1, (int32_t)offset);
	x_mov_ri(b, 0, RAX, offset);
	x_alu_rr(b, 1, OP_ADD, RAX, r);
	return xmemi(R14, RAX, 1, 0);
}

struct ldinfo {
	uint8_t type, size, w, pfx;
	uint16_t op;
};

static const struct ldinfo loads[] = {
    {I32, 4, 0, 0, 0x8b},      {I64, 8, 1, 0, 0x8b},   {F32, 4, 0, 0xf3, 0x0f10},
    {F64, 8, 0, 0xf2, 0x0f10}, {I32, 1, 0, 0, 0x0fbe}, {I32, 1, 0, 0, 0x0fb6},
    {I32, 2, 0, 0, 0x0fbf},    {I32, 2, 0, 0, 0x0fb7}, {I64, 1, 1, 0, 0x0fbe},
    {I64, 1, 0, 0, 0x0fb6},    {I64, 2, 1, 0, 0x0fbf}, {I64, 2, 0, 0, 0x0fb7},
    {I64, 4, 1, 0, 0x63},      {I64, 4, 0, 0, 0x8b},
};
static const struct ldinfo stores[] = {
    {I32, 4, 0, 0, 0x89},      {I64, 8, 1, 0, 0x89},    {F32, 4, 0, 0xf3, 0x0f11},
    {F64, 8, 0, 0xf2, 0x0f11}, {I32, 1, 0, 0, 0x88},    {I32, 2, 0, 0x66, 0x89},
    {I64, 1, 0, 0, 0x88},      {I64, 2, 0, 0x66, 0x89}, {I64, 4, 0, 0, 0x89},
};

/* A full-width load whose value is the right operand of the next
 * instruction (add, sub, mul, and, or, xor on integers; add, sub, mul,
 * div on floats) while the left one is in a temporary: the opcode of
 * "op reg, mem" for that instruction, or 0. */
static uint32_t load_op(const struct jc *c, uint8_t op)
{
	static const uint8_t i32[] = {0x6a, 0x6b, 0x6c, 0x71, 0x72, 0x73};
	static const uint8_t i64[] = {0x7c, 0x7d, 0x7e, 0x83, 0x84, 0x85};
	static const uint16_t iop[] = {0x03, 0x2b, 0x0faf, 0x23, 0x0b, 0x33};
	static const uint16_t fop[] = {0x0f58, 0x0f5c, 0x0f59, 0x0f5e};
	if (!rd_left(&c->r) || !c->nvs || op > 0x2b || c->vs[c->nvs - 1].kind != JV_REG ||
	    c->vs[c->nvs - 1].type != loads[op - 0x28].type)
		return 0;
	uint8_t next = *c->r.p;
	for (int i = 0; i < 6; i++)
		if ((op == 0x28 && next == i32[i]) || (op == 0x29 && next == i64[i]))
			return iop[i];
	if ((op == 0x2a && next >= 0x92 && next <= 0x95) ||
	    (op == 0x2b && next >= 0xa0 && next <= 0xa3))
		return fop[next - (op == 0x2a ? 0x92 : 0xa0)];
	return 0;
}

/* An integer load whose value only feeds eqz and then br_if, if or select:
 * the load is a compare of memory with zero (the flags carry the result to
 * the branch; what the compiler emits in between is moves only). */
static int load_eqz(const struct jc *c, uint8_t op)
{
	int i64 = op == 0x29 || op >= 0x30;
	if ((op != 0x28 && op != 0x29 && op < 0x2c) || op > 0x35 || rd_left(&c->r) < 2)
		return 0;
	uint8_t br = c->r.p[1];
	return c->r.p[0] == (i64 ? 0x50 : 0x45) && (br == 0x0d || br == 0x04 || br == 0x1b);
}

int jc_op_memory(struct jc *c, uint8_t op)
{
	uint32_t align, offset;
	if (rd_u32(&c->r, &align) || rd_u32(&c->r, &offset) || align >= 64 || !c->in->mem0)
		return -1;
	int treg;
	if (op <= 0x35) {
		const struct ldinfo *li = &loads[op - 0x28];
		struct jv a = jc_pop(c);
		uint32_t pa = c->nvs;
		if (load_eqz(c, op)) {
			c->r.p++; /* the eqz */
			struct xm m = jc_address(c, &a, pa, offset, li->size, &treg);
			jc_site(c);
			/* cmp m, 0: 80 /7 ib, 66 83 /7 ib, 83 /7 ib, REX.W 83 /7 ib */
			x_rm(c->b, li->size == 2 ? 0x66 : 0, li->size == 8,
			     li->size == 1 ? 0x80 : 0x83, 7, m, 0);
			xb_u8(c->b, 0);
			if (treg >= 0)
				jc_free_reg(c, treg);
			jc_free(c, &a);
			c->pending_cmp = JC_CMP_ZF;
			return 0;
		}
		uint32_t fused = load_op(c, op);
		if (fused) { /* the operation reads memory itself */
			int x = c->vs[c->nvs - 1].reg;
			c->r.p++;
			struct xm m = jc_address(c, &a, pa, offset, li->size, &treg);
			jc_site(c);
			x_rm(c->b, li->pfx, li->w, fused, x & 15, m, 0);
			if (treg >= 0)
				jc_free_reg(c, treg);
			jc_free(c, &a);
			return 0;
		}
		/* The load reads its address before it writes: the result may go
		 * to the local the address comes from. */
		int tee, dst = jc_dst_local(c, li->type, NULL, &tee), to_local = dst >= 0;
		if (!to_local)
			dst = jc_alloc(c, jt_isf(li->type));
		struct xm m = jc_address(c, &a, pa, offset, li->size, &treg);
		jc_site(c);
		x_rm(c->b, li->pfx, li->w, li->op, dst & 15, m, 0);
		if (treg >= 0)
			jc_free_reg(c, treg);
		jc_free(c, &a);
		jc_push_dst(c, li->type, dst, tee, to_local);
		return 0;
	}
	const struct ldinfo *si = &stores[op - 0x36];
	struct jv v = jc_pop(c);
	uint32_t pv = c->nvs;
	struct jv a = jc_pop(c);
	uint32_t pa = c->nvs;
	if (v.kind == JV_CONST && (si->size < 8 || (int64_t)v.c == (int32_t)v.c)) {
		/* mov m, imm: c6 /0 ib, 66 c7 /0 iw, c7 /0 id, REX.W c7 /0 id */
		struct xm m = jc_address(c, &a, pa, offset, si->size, &treg);
		jc_site(c);
		x_rm(c->b, si->size == 2 ? 0x66 : 0, si->size == 8, si->size == 1 ? 0xc6 : 0xc7, 0,
		     m, 0);
		for (uint32_t i = 0; i < (si->size < 4 ? si->size : 4u); i++)
			xb_u8(c->b, (uint8_t)(v.c >> (8 * i)));
		if (treg >= 0)
			jc_free_reg(c, treg);
		jc_free(c, &a);
		return 0;
	}
	int vt, rv = jc_reg(c, &v, pv, &vt);
	struct xm m = jc_address(c, &a, pa, offset, si->size, &treg);
	jc_site(c);
	x_rm(c->b, si->pfx, si->w, si->op, rv & 15, m, si->size == 1);
	if (treg >= 0)
		jc_free_reg(c, treg);
	if (vt)
		jc_free_reg(c, rv);
	jc_free(c, &a);
	jc_free(c, &v);
	return 0;
}

/* Calls helper(ctx, p1, p2, args) with the top nargs values as args;
 * pushes its result (RAX) as type rt unless rt is 0. */
static void helper_call(struct jc *c, const void *fn, const void *p1, const void *p2,
                        uint32_t nargs, uint8_t rt)
{
	jc_before_helper(c);
	uint32_t base = c->nvs - nargs;
	x_mov_rr(c->b, 1, RDI, R15);
	x_mov_ri(c->b, 1, RSI, (uint64_t)(uintptr_t)p1);
	x_mov_ri(c->b, 1, RDX, (uint64_t)(uintptr_t)p2);
	x_lea(c->b, 1, RCX, jc_slot(c, base));
	x_call_abs(c->b, fn);
	jc_site(c);
	jc_after_call(c);
	c->nvs = base;
	if (rt) {
		int dst = jc_alloc(c, 0);
		x_mov_rr(c->b, jt_w(rt), dst, RAX);
		jc_push_reg(c, rt, dst);
	}
}

int jc_op_bulk(struct jc *c, uint32_t sub)
{
	uint32_t x, y = 0;
	struct capsa_wasm_instance *in = c->in;
	const struct capsa_wasm_module *m = c->m;
	if (rd_u32(&c->r, &x))
		return -1;
	if (sub == 8 || sub == 10 || sub == 12 || sub == 14)
		if (rd_u32(&c->r, &y))
			return -1;
	switch (sub) {
	case 8:
		if (x >= m->ndatas || !in->mem0)
			return -1;
		helper_call(c, (const void *)jit_h_memory_init, in->mem0, &in->datas[x], 3, 0);
		return 0;
	case 9:
		if (x >= m->ndatas)
			return -1;
		helper_call(c, (const void *)jit_h_data_drop, NULL, &in->datas[x], 0, 0);
		return 0;
	case 10:
	case 11:
		if (!in->mem0)
			return -1;
		helper_call(c,
		            sub == 10 ? (const void *)jit_h_memory_copy
		                      : (const void *)jit_h_memory_fill,
		            in->mem0, NULL, 3, 0);
		return 0;
	case 12:
		if (x >= m->nelems || y >= m->ntables)
			return -1;
		helper_call(c, (const void *)jit_h_table_init, in->tables[y], &in->elems[x], 3, 0);
		return 0;
	case 13:
		if (x >= m->nelems)
			return -1;
		helper_call(c, (const void *)jit_h_elem_drop, NULL, &in->elems[x], 0, 0);
		return 0;
	case 14:
		if (x >= m->ntables || y >= m->ntables)
			return -1;
		helper_call(c, (const void *)jit_h_table_copy, in->tables[x], in->tables[y], 3, 0);
		return 0;
	case 15:
		if (x >= m->ntables)
			return -1;
		helper_call(c, (const void *)jit_h_table_grow, in->tables[x], NULL, 2, I32);
		return 0;
	case 16: {
		if (x >= m->ntables)
			return -1;
		int dst = jc_alloc(c, 0);
		x_mov_ri(c->b, 1, R11, (uint64_t)(uintptr_t)in->tables[x]);
		x_load(c->b, 0, dst, xmem(R11, offsetof(struct capsa_wasm_table, size)));
		jc_push_reg(c, I32, dst);
		return 0;
	}
	case 17:
		if (x >= m->ntables)
			return -1;
		helper_call(c, (const void *)jit_h_table_fill, in->tables[x], NULL, 3, 0);
		return 0;
	}
	return -1;
}

static int global_op(struct jc *c, uint8_t op)
{
	uint32_t x;
	if (rd_u32(&c->r, &x) || x >= c->m->nglobals)
		return -1;
	struct capsa_wasm_global *g = c->in->globals[x];
	if (op == 0x23 && !g->mut && g->type != CAPSA_WASM_V128) {
		jc_push(c, (struct jv){JV_CONST, g->type, 0, 0, g->val[0]});
		return 0;
	}
	if (op == 0x23) {
		int dst = jc_alloc(c, jt_isx(g->type));
		x_mov_ri(c->b, 1, R11, (uint64_t)(uintptr_t)&g->val[0]);
		jc_load_mem(c, g->type, dst, xmem(R11, 0));
		jc_push_reg(c, g->type, dst);
		return 0;
	}
	struct jv v = jc_pop(c);
	uint32_t pv = c->nvs;
	int t, r = jc_reg(c, &v, pv, &t);
	x_mov_ri(c->b, 1, R11, (uint64_t)(uintptr_t)&g->val[0]);
	jc_store_reg(c, g->type, xmem(R11, 0), r);
	if (t)
		jc_free_reg(c, r);
	jc_free(c, &v);
	return 0;
}

int jc_op_misc(struct jc *c, uint8_t op)
{
	uint32_t x;
	uint8_t b;
	switch (op) {
	case 0x23:
	case 0x24:
		return global_op(c, op);
	case 0x25:
	case 0x26:
		if (rd_u32(&c->r, &x) || x >= c->m->ntables)
			return -1;
		if (op == 0x25)
			helper_call(c, (const void *)jit_h_table_get, c->in->tables[x], NULL, 1,
			            c->in->tables[x]->elem);
		else
			helper_call(c, (const void *)jit_h_table_set, c->in->tables[x], NULL, 2, 0);
		return 0;
	case 0x3f:
	case 0x40:
		if (rd_u8(&c->r, &b) || b || !c->in->mem0)
			return -1;
		if (op == 0x40) {
			helper_call(c, (const void *)jit_h_memory_grow, c->in->mem0, NULL, 1, I32);
		} else {
			int dst = jc_alloc(c, 0);
			x_mov_ri(c->b, 1, R11, (uint64_t)(uintptr_t)&c->in->mem0->size);
			x_load(c->b, 1, dst, xmem(R11, 0));
			x_shift_ri(c->b, 1, 5, dst, 16);
			jc_push_reg(c, I32, dst);
		}
		return 0;
	case 0xd0:
		if (rd_u8(&c->r, &b))
			return -1;
		jc_push(c, (struct jv){JV_CONST, b, 0, 0, 0});
		return 0;
	case 0xd1: {
		struct jv v = jc_pop(c);
		int t, r = jc_reg(c, &v, c->nvs, &t);
		x_rr(c->b, 0, 1, 0x85, r, r, 0);
		if (t)
			jc_free_reg(c, r);
		jc_free(c, &v);
		int dst = jc_alloc(c, 0);
		x_setcc(c->b, CC_E, dst);
		jc_push_reg(c, I32, dst);
		return 0;
	}
	case 0xd2:
		if (rd_u32(&c->r, &x) || x >= c->m->nfuncs)
			return -1;
		jc_push(c, (struct jv){JV_CONST, CAPSA_WASM_FUNCREF, 0, 0,
		                       (uint64_t)(uintptr_t)c->in->funcs[x]});
		return 0;
	}
	return -1;
}
