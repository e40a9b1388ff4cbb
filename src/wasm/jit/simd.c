/* SPDX-License-Identifier: Apache-2.0 */
/* v128 values in the compiler: their 16-byte frame homes, calls whose
 * signatures carry them, v128.const, the memory instructions (through the
 * guard region or checked, like the scalar ones in mem.c) and the
 * dispatch of the others to SSE code (simd_ops.c) or to their portable
 * implementation (simd_rt.c) called through the register-keeping stub. */
#include "wasm/jit/simd.h"

#include <string.h>

#include "wasm/simd.h"

#define I32  CAPSA_WASM_I32
#define I64  CAPSA_WASM_I64
#define F32  CAPSA_WASM_F32
#define F64  CAPSA_WASM_F64
#define V128 CAPSA_WASM_V128

struct xm jc_scratch(struct jc *c, int off)
{
	c->wide = 1;
	struct xm m = xmem(RSP, (int32_t)c->wbase + off);
	m.late = 1;
	return m;
}

struct xm jc_vslot(struct jc *c, uint32_t pos, uint8_t type)
{
	if (type != V128)
		return jc_slot(c, pos);
	c->wide = 1;
	return jc_wlocal(c, c->nwlocals + pos);
}

struct xm jc_cells(struct jc *c)
{
	c->wide = 1;
	return jc_wlocal(c, c->nwlocals + c->wmaxh);
}

void jc_copy16(struct jc *c, struct xm dst, struct xm src)
{
	x_sse_rm(c->b, 0xf3, 0x0f6f, 15, src); /* movdqu xmm15 */
	x_sse_rm(c->b, 0xf3, 0x0f7f, 15, dst);
}

void jc_marshal(struct jc *c, const struct wtype *ft, uint32_t base, int back)
{
	struct xm cells = jc_cells(c);
	uint32_t first = back ? ft->nparams : 0, n = back ? ft->nresults : ft->nparams;
	uint32_t need = (ft->pcells > ft->rcells ? ft->pcells : ft->rcells) + 8;
	if (need > c->wcells)
		c->wcells = need;
	for (uint32_t k = 0, cell = 0; k < n; k++) {
		uint8_t t = ft->types[first + k];
		struct xm m = cells, v = jc_vslot(c, base + k, t);
		m.disp += (int32_t)(8 * cell);
		if (t == V128 && back) {
			jc_copy16(c, v, m);
		} else if (t == V128) {
			jc_copy16(c, m, v);
		} else {
			x_load(c->b, 1, RAX, back ? m : v);
			x_store(c->b, 1, back ? v : m, RAX);
		}
		cell += wtype_cells(t);
	}
}

uint32_t jc_wide_frame(struct jc *c, uint32_t frame)
{
	uint64_t narrow = 8 * (1 + (uint64_t)c->nlocals + c->nextra + c->maxh + 8);
	if (narrow > 0x40000000 || 16ull * c->maxh >= JW_LATE_CELLS - JW_LATE_BASE) {
		c->fail = 1;
		return frame;
	}
	c->wbase = (uint32_t)((narrow + 15) & ~15ull);
	c->wmaxh = c->maxh;
	struct xbuf *b = c->b;
	for (uint32_t i = 0; i < b->nlates; i++) {
		uint32_t d;
		memcpy(&d, b->p + b->lates[i], 4);
		d += c->wbase - JW_LATE_BASE;
		if (d - c->wbase >= JW_LATE_CELLS)
			d += 16 * c->wmaxh - JW_LATE_CELLS;
		memcpy(b->p + b->lates[i], &d, 4);
	}
	uint64_t end =
	    (uint64_t)c->wbase + JW_SCRATCH + 16ull * (c->nwlocals + c->wmaxh) + 8ull * c->wcells;
	if (end > 0x7fff0000)
		c->fail = 1;
	return end > frame ? (uint32_t)end : frame;
}

/* Writes an operand to the scratch area. */
static void put(struct jc *c, struct jv *v, uint32_t pos, int off)
{
	struct xm m = jc_scratch(c, off);
	if (v->kind == JV_REG)
		jc_store_reg(c, v->type, m, v->reg);
	else
		jc_store_to(c, v, pos, m);
}

static uint8_t result_type(int shape)
{
	switch (shape) {
	case SH_TEST:
	case SH_EXTRACT_I32:
		return I32;
	case SH_EXTRACT_I64:
		return I64;
	case SH_EXTRACT_F32:
		return F32;
	case SH_EXTRACT_F64:
		return F64;
	}
	return V128;
}

void jc_simd_generic(struct jc *c, uint32_t sub, uint32_t lane, const uint8_t *lanes)
{
	int shape = jit_simd_shape(sub);
	jit_simd_fn *fn = jit_simd_generic(sub);
	struct jv v[3];
	uint32_t pos[3];
	int n = shape == SH_TERN ? 3
	        : shape == SH_BIN || shape == SH_SHUFFLE || shape == SH_SHIFT ||
	                (shape >= SH_REPLACE_I32 && shape <= SH_REPLACE_F64)
	            ? 2
	            : 1;
	if (!fn) {
		c->fail = 1;
		return;
	}
	for (int i = n; i-- > 0;) {
		v[i] = jc_pop(c);
		pos[i] = c->nvs;
	}
	for (int i = 0, vo = JS_A; i < n; i++) {
		int scalar = v[i].type != V128;
		put(c, &v[i], pos[i], scalar ? JS_S : vo);
		if (!scalar)
			vo += 16;
	}
	x_store_i32(c->b, 0, jc_scratch(c, JS_L), (int32_t)lane);
	for (int h = 0; lanes && h < 2; h++) {
		uint64_t q;
		memcpy(&q, lanes + 8 * h, 8);
		x_mov_ri(c->b, 1, RAX, q);
		x_store(c->b, 1, jc_scratch(c, JS_LANES + 8 * h), RAX);
	}
	x_lea(c->b, 1, R11, jc_scratch(c, 0));
	x_mov_ri(c->b, 1, RAX, (uint64_t)(uintptr_t)fn);
	x_call_label(c->b, c->st.simd);
	for (int i = 0; i < n; i++)
		jc_free(c, &v[i]);
	uint8_t rt = result_type(shape);
	int dst = jc_alloc(c, jt_isx(rt));
	jc_load_mem(c, rt, dst, jc_scratch(c, rt == V128 ? JS_A : JS_S));
	jc_push_reg(c, rt, dst);
}

static void simd_op(struct jc *c, uint32_t sub, uint32_t lane, const uint8_t *lanes)
{
	if (!c->simd_level)
		c->simd_level = jit_simd_level() + 1;
	if (jc_simd_fast(c, sub, lane, lanes, c->simd_level - 1))
		jc_simd_generic(c, sub, lane, lanes);
}

/* The label of constant q in the function's pool (UINT32_MAX: it is full). */
static uint32_t pool_label(struct jc *c, const uint64_t *q)
{
	for (uint32_t i = 0; i < c->npool; i++)
		if (c->pool[i].q[0] == q[0] && c->pool[i].q[1] == q[1])
			return c->pool[i].label;
	if (c->npool == sizeof(c->pool) / sizeof(c->pool[0]))
		return UINT32_MAX;
	struct jconst *k = &c->pool[c->npool++];
	memcpy(k->q, q, 16);
	k->label = x_label(c->b);
	return k->label;
}

void jc_const_pool(struct jc *c)
{
	for (uint32_t i = 0; i < c->npool; i++) {
		x_bind(c->b, c->pool[i].label);
		xb_u64(c->b, c->pool[i].q[0]);
		xb_u64(c->b, c->pool[i].q[1]);
	}
}

static void v128_const(struct jc *c, const uint8_t *p)
{
	uint64_t q[2];
	uint32_t l;
	memcpy(q, p, 16);
	int dst = jc_alloc(c, 1) - 16;
	if (!q[0] && !q[1]) {
		x_rr(c->b, 0x66, 0, 0x0fef, dst, dst, 0); /* pxor */
	} else if ((l = pool_label(c, q)) != UINT32_MAX) {
		/* movdqu dst, [rip + rel32 to the pool entry] */
		xb_u8(c->b, 0xf3);
		if (dst >= 8)
			xb_u8(c->b, 0x44);
		xb_u8(c->b, 0x0f);
		xb_u8(c->b, 0x6f);
		xb_u8(c->b, (uint8_t)((dst & 7) << 3 | 5));
		x_rel32(c->b, l);
	} else {
		x_mov_ri(c->b, 1, RAX, q[0]);
		x_rr(c->b, 0x66, 1, 0x0f6e, dst, RAX, 0); /* movq */
		if (q[1] == q[0]) {
			x_rr(c->b, 0x66, 0, 0x0f6c, dst, dst, 0); /* punpcklqdq */
		} else if (q[1]) {
			x_mov_ri(c->b, 1, RAX, q[1]);
			x_rr(c->b, 0x66, 1, 0x0f6e, 15, RAX, 0);
			x_rr(c->b, 0x66, 0, 0x0f6c, dst, 15, 0);
		}
	}
	jc_push_reg(c, V128, XMM(dst));
}

/* Bytes a memory instruction accesses. */
static uint32_t access_size(uint32_t sub)
{
	if (sub == 0 || sub == 11)
		return 16;
	if (sub <= 6 || sub == 10 || sub == 87 || sub == 91 || sub == 93)
		return 8;
	if (sub == 7 || sub == 84 || sub == 88)
		return 1;
	if (sub == 8 || sub == 85 || sub == 89)
		return 2;
	return 4;
}

/* A scalar access of size bytes between a general register and memory. */
static void gpr_access(struct jc *c, int store, uint32_t size, int r, struct xm m)
{
	static const uint32_t ld[] = {0x0fb6, 0x0fb7, 0x8b, 0x8b};
	int k = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
	if (store)
		x_rm(c->b, size == 2 ? 0x66 : 0, size == 8, size == 1 ? 0x88 : 0x89, r, m,
		     size == 1);
	else
		x_rm(c->b, 0, size == 8, ld[k], r, m, 0);
}

static int simd_mem(struct jc *c, uint32_t sub, int shape)
{
	uint32_t align, offset, size = access_size(sub);
	uint8_t lane = 0;
	if (rd_u32(&c->r, &align) || rd_u32(&c->r, &offset) || align >= 64 || !c->in->mem0)
		return -1;
	if ((shape == SH_LOAD_LANE || shape == SH_STORE_LANE) &&
	    (rd_u8(&c->r, &lane) || lane >= 16 / size))
		return -1;
	struct jv v = {0}, a;
	uint32_t pv = 0, pa;
	int treg, rv = -1, vt = 0;
	if (shape != SH_LOAD) {
		v = jc_pop(c);
		pv = c->nvs;
	}
	a = jc_pop(c);
	pa = c->nvs;
	if (shape == SH_LOAD_LANE || shape == SH_STORE_LANE) {
		/* the vector is modified (load) or read while the address waits
		 * (store): the address keeps its place, which the lane's scalar,
		 * pushed at pa only after the access or popped before any
		 * spill, does not overwrite */
		rv = jc_take(c, &v, pv);
	}
	if (shape == SH_STORE_LANE) {
		static const uint8_t ext[] = {22, 25, 27, 0, 29};
		jc_push_reg(c, V128, rv);
		simd_op(c, ext[size / 2], lane, NULL);
		v = jc_pop(c);
		int sr = jc_take(c, &v, c->nvs);
		struct xm m = jc_address(c, &a, pa, offset, size, &treg);
		jc_site(c);
		gpr_access(c, 1, size, sr, m);
		jc_free_reg(c, sr);
	} else if (shape == SH_STORE) {
		rv = jc_reg(c, &v, pv, &vt);
		struct xm m = jc_address(c, &a, pa, offset, size, &treg);
		jc_site(c);
		x_sse_rm(c->b, 0xf3, 0x0f7f, rv - 16, m); /* movdqu */
		if (vt)
			jc_free_reg(c, rv);
		jc_free(c, &v);
	} else if (shape == SH_LOAD_LANE || (sub >= 7 && sub <= 10)) {
		static const uint8_t rep[] = {23, 26, 28, 0, 30}, splat[] = {15, 16, 17, 0, 18};
		int sr = jc_alloc(c, 0);
		struct xm m = jc_address(c, &a, pa, offset, size, &treg);
		jc_site(c);
		gpr_access(c, 0, size, sr, m);
		if (shape == SH_LOAD_LANE)
			jc_push_reg(c, V128, rv);
		if (treg >= 0)
			jc_free_reg(c, treg);
		treg = -1;
		jc_free(c, &a);
		jc_push_reg(c, size == 8 ? I64 : I32, sr);
		simd_op(c, shape == SH_LOAD_LANE ? rep[size / 2] : splat[size / 2], lane, NULL);
		return 0;
	} else {
		static const uint8_t ext[] = {0, 135, 137, 167, 169, 199, 201};
		int dst = jc_alloc(c, 1);
		struct xm m = jc_address(c, &a, pa, offset, size, &treg);
		jc_site(c);
		if (size == 16)
			x_sse_rm(c->b, 0xf3, 0x0f6f, dst - 16, m); /* movdqu */
		else if (size == 8)
			x_sse_rm(c->b, 0xf3, 0x0f7e, dst - 16, m); /* movq */
		else
			x_sse_rm(c->b, 0x66, 0x0f6e, dst - 16, m); /* movd */
		if (treg >= 0)
			jc_free_reg(c, treg);
		treg = -1;
		jc_free(c, &a);
		jc_push_reg(c, V128, dst);
		if (sub >= 1 && sub <= 6)
			simd_op(c, ext[sub], 0, NULL);
		return 0;
	}
	if (treg >= 0)
		jc_free_reg(c, treg);
	jc_free(c, &a);
	return 0;
}

int jc_op_simd(struct jc *c, uint32_t sub)
{
	int shape = jit_simd_shape(sub);
	const uint8_t *imm;
	uint8_t lane = 0;
	c->wide = 1;
	switch (shape) {
	case -1:
		return -1;
	case SH_CONST:
		if (rd_bytes(&c->r, 16, &imm))
			return -1;
		v128_const(c, imm);
		return 0;
	case SH_SHUFFLE:
		if (rd_bytes(&c->r, 16, &imm))
			return -1;
		for (int i = 0; i < 16; i++)
			if (imm[i] >= 32)
				return -1;
		simd_op(c, sub, 0, imm);
		return 0;
	case SH_LOAD:
	case SH_STORE:
	case SH_LOAD_LANE:
	case SH_STORE_LANE:
		return simd_mem(c, sub, shape);
	}
	if (shape >= SH_EXTRACT_I32 && shape <= SH_REPLACE_F64 && rd_u8(&c->r, &lane))
		return -1;
	simd_op(c, sub, lane, NULL);
	return 0;
}
