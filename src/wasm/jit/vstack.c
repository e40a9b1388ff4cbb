/* SPDX-License-Identifier: Apache-2.0 */
/* The compiler's abstract operand stack: register allocation, spilling,
 * loads and stores of values of every kind (see jc.h). */
#include "wasm/jit/jc.h"

#include <stdlib.h>
#include <string.h>

static const int gpr_temps[] = {RCX, RDX, RSI, RDI, R10, R9, R8};

void jc_push_grow(struct jc *c, struct jv v)
{
	uint32_t n = c->capvs ? c->capvs * 2 : 64;
	struct jv *p = realloc(c->vs, n * sizeof(*p));
	if (!p) {
		c->fail = 1;
		return;
	}
	c->vs = p;
	c->capvs = n;
	jc_push(c, v);
}

struct jv jc_pop_empty(struct jc *c)
{
	c->fail = 1;
	return (struct jv){JV_CONST, CAPSA_WASM_I32, 0, 0, 0};
}

void jc_push_reg(struct jc *c, uint8_t type, int r)
{
	jc_push(c, (struct jv){JV_REG, type, (uint8_t)r, 0, 0});
}

void jc_free_reg(struct jc *c, int r)
{
	c->busy[r] = 0;
}

void jc_free(struct jc *c, const struct jv *v)
{
	if (v->kind == JV_REG)
		c->busy[v->reg] = 0;
}

static void load_mem(struct jc *c, uint8_t type, int dst, struct xm m)
{
	if (type == CAPSA_WASM_V128)
		x_sse_rm(c->b, 0xf3, 0x0f6f, dst - 16, m); /* movdqu */
	else if (dst >= 16)
		x_sse_rm(c->b, type == CAPSA_WASM_F32 ? 0xf3 : 0xf2, 0x0f10, dst - 16, m);
	else
		x_load(c->b, jt_w(type), dst, m);
}

static void store_mem(struct jc *c, uint8_t type, struct xm m, int src)
{
	if (type == CAPSA_WASM_V128)
		x_sse_rm(c->b, 0xf3, 0x0f7f, src - 16, m); /* movdqu */
	else if (src >= 16)
		x_sse_rm(c->b, type == CAPSA_WASM_F32 ? 0xf3 : 0xf2, 0x0f11, src - 16, m);
	else
		x_store(c->b, 1, m, src);
}

void jc_store_reg(struct jc *c, uint8_t type, struct xm m, int src)
{
	store_mem(c, type, m, src);
}

void jc_load_mem(struct jc *c, uint8_t type, int dst, struct xm m)
{
	load_mem(c, type, dst, m);
}

static void move_reg(struct jc *c, int dst, int src)
{
	if (dst == src)
		return;
	if (dst >= 16 && src >= 16)
		x_rr(c->b, 0, 0, 0x0f28, dst - 16, src - 16, 0); /* movaps */
	else if (dst >= 16)
		x_rr(c->b, 0x66, 1, 0x0f6e, dst - 16, src, 0); /* movq xmm, r64 */
	else if (src >= 16)
		x_rr(c->b, 0x66, 1, 0x0f7e, src - 16, dst, 0); /* movq r64, xmm */
	else
		x_mov_rr(c->b, 1, dst, src);
}

void jc_pmove(struct jc *c, uint32_t n, const int *dst, int *src)
{
	uint8_t done[16] = {0};
	uint32_t left = 0;
	if (n > 16) {
		c->fail = 1;
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		done[i] = dst[i] == src[i];
		left += !done[i];
	}
	while (left) {
		int progress = 0;
		for (uint32_t i = 0; i < n; i++) {
			int blocked = 0;
			for (uint32_t j = 0; j < n && !done[i] && !blocked; j++)
				blocked = !done[j] && j != i && src[j] == dst[i];
			if (done[i] || blocked)
				continue;
			move_reg(c, dst[i], src[i]);
			done[i] = 1;
			left--;
			progress = 1;
		}
		if (progress)
			continue;
		/* Only cycles left: one source goes to the scratch register. */
		for (uint32_t i = 0; i < n; i++) {
			if (done[i])
				continue;
			int from = src[i], tmp = from >= 16 ? XMM(15) : RAX;
			move_reg(c, tmp, from);
			for (uint32_t j = 0; j < n; j++)
				if (!done[j] && src[j] == from)
					src[j] = tmp;
			break;
		}
	}
}

int jc_arg_reg(const struct wtype *ft, uint32_t k)
{
	static const int gr[] = {RCX, R8, R9, R10};
	uint32_t ni = 0, nf = 0;
	for (uint32_t i = 0; i < k; i++) {
		if (jt_isf(ft->types[i]))
			nf++;
		else
			ni++;
	}
	if (!jc_sig_plain(ft))
		return -1;
	if (jt_isf(ft->types[k]))
		return nf < 4 ? XMM((int)nf) : -1;
	return ni < 4 ? gr[ni] : -1;
}

void jc_load(struct jc *c, const struct jv *v, uint32_t pos, int dst)
{
	switch (v->kind) {
	case JV_CONST:
		if (dst >= 16) {
			if (v->c == 0) {
				x_rr(c->b, 0, 0, 0x0f57, dst - 16, dst - 16, 0); /* xorps */
			} else {
				x_mov_ri(c->b, 1, RAX, v->c);
				move_reg(c, dst, RAX);
			}
		} else {
			x_mov_ri(c->b, jt_w(v->type), dst, jt_w(v->type) ? v->c : (uint32_t)v->c);
		}
		break;
	case JV_REG:
		move_reg(c, dst, v->reg);
		break;
	case JV_LOCAL:
		if (c->loc[v->local].reg >= 0)
			move_reg(c, dst, c->loc[v->local].reg);
		else
			load_mem(c, v->type, dst, jc_local(c, v->local));
		break;
	default:
		load_mem(c, v->type, dst, jc_vslot(c, pos, v->type));
	}
}

/* Writes v's value to memory m (a slot or local home). */
static void store_value(struct jc *c, const struct jv *v, uint32_t pos, struct xm m)
{
	if (v->type == CAPSA_WASM_V128 && v->kind != JV_REG &&
	    !(v->kind == JV_LOCAL && c->loc[v->local].reg >= 0)) {
		struct xm s =
		    v->kind == JV_LOCAL ? jc_local(c, v->local) : jc_vslot(c, pos, v->type);
		if (v->kind == JV_CONST)
			c->fail = 1; /* v128 constants are built in registers */
		else if (s.disp != m.disp || m.base != RSP)
			jc_copy16(c, m, s);
		return;
	}
	switch (v->kind) {
	case JV_CONST:
		/* 32-bit values are kept zero-extended in every cell. */
		if (jt_w(v->type) ? (int64_t)v->c == (int32_t)v->c : (uint32_t)v->c <= INT32_MAX) {
			x_store_i32(c->b, 1, m, (int32_t)v->c);
		} else {
			x_mov_ri(c->b, 1, RAX, v->c);
			x_store(c->b, 1, m, RAX);
		}
		break;
	case JV_REG:
		store_mem(c, v->type, m, v->reg);
		break;
	case JV_LOCAL:
		if (c->loc[v->local].reg >= 0) {
			store_mem(c, v->type, m, c->loc[v->local].reg);
		} else {
			x_load(c->b, jt_w(v->type), RAX, jc_local(c, v->local));
			x_store(c->b, 1, m, RAX);
		}
		break;
	default: {
		struct xm s = jc_slot(c, pos);
		if (s.disp != m.disp || m.base != RSP) {
			x_load(c->b, jt_w(v->type), RAX, s);
			x_store(c->b, 1, m, RAX);
		}
	}
	}
}

void jc_store_to(struct jc *c, const struct jv *v, uint32_t pos, struct xm m)
{
	store_value(c, v, pos, m);
}

static void spill(struct jc *c, uint32_t i)
{
	struct jv *v = &c->vs[i];
	if (v->kind == JV_SLOT)
		return;
	store_value(c, v, i, jc_vslot(c, i, v->type));
	jc_free(c, v);
	v->kind = JV_SLOT;
}

static void charge(struct jc *c, uint32_t n)
{
	c->work += n;
	if (c->work > c->work_limit)
		c->fail = 1;
}

void jc_spill_all(struct jc *c)
{
	charge(c, c->nvs);
	for (uint32_t i = 0; i < c->nvs; i++)
		spill(c, i);
}

/* Stack entries that read local x now hold a copy. */
void jc_detach_local(struct jc *c, uint32_t x)
{
	charge(c, c->nvs);
	for (uint32_t i = 0; i < c->nvs; i++)
		if (c->vs[i].kind == JV_LOCAL && c->vs[i].local == x)
			spill(c, i);
}

void jc_evict(struct jc *c, int r)
{
	if (!c->busy[r])
		return;
	charge(c, c->nvs);
	for (uint32_t i = 0; i < c->nvs; i++)
		if (c->vs[i].kind == JV_REG && c->vs[i].reg == r) {
			spill(c, i);
			return;
		}
}

int jc_alloc(struct jc *c, int xmm)
{
	if (xmm) {
		for (int r = 0; r < 8; r++)
			if (!c->busy[XMM(r)]) {
				c->busy[XMM(r)] = 1;
				return XMM(r);
			}
	} else {
		for (unsigned k = 0; k < sizeof(gpr_temps) / sizeof(gpr_temps[0]); k++)
			if (!c->busy[gpr_temps[k]]) {
				c->busy[gpr_temps[k]] = 1;
				return gpr_temps[k];
			}
	}
	charge(c, c->nvs);
	for (uint32_t i = 0; i < c->nvs; i++) {
		struct jv *v = &c->vs[i];
		if (v->kind == JV_REG && (v->reg >= 16) == !!xmm) {
			int r = v->reg;
			spill(c, i);
			c->busy[r] = 1;
			return r;
		}
	}
	c->fail = 1; /* every register held by popped operands: cannot happen */
	return xmm ? XMM(7) : RCX;
}

int jc_take(struct jc *c, const struct jv *v, uint32_t pos)
{
	if (v->kind == JV_REG)
		return v->reg;
	int r = jc_alloc(c, jt_isx(v->type));
	jc_load(c, v, pos, r);
	return r;
}

int jc_reg(struct jc *c, const struct jv *v, uint32_t pos, int *temp)
{
	*temp = 0;
	if (v->kind == JV_LOCAL && c->loc[v->local].reg >= 0)
		return c->loc[v->local].reg;
	*temp = 1;
	return jc_take(c, v, pos);
}

static void locals_xfer(struct jc *c, int save)
{
	for (uint32_t k = 0; k < c->nreglocals; k++) {
		uint32_t i = c->reglocals[k];
		int r = c->loc[i].reg;
		if (save)
			store_mem(c, c->loc[i].type, jc_local(c, i), r);
		else
			load_mem(c, c->loc[i].type, r, jc_local(c, i));
	}
}

/* What is written after calls [0] and saves the register locals before
 * them [1] is the same bytes each time in a function: written once, then
 * copied (replay 1) when the buffer has room. */
static int replay(struct jc *c, int k)
{
	struct xbuf *b = c->b;
	uint32_t len = c->xfer_len[k];
	if (!len || b->n + len > b->cap)
		return 0;
	memcpy(b->p + b->n, b->p + c->xfer_at[k], len);
	b->n += len;
	return 1;
}

/* Notes the code from start as sequence k (not when it has displacements
 * completed later: v128 homes). */
static void keep(struct jc *c, int k, size_t start, uint32_t nlates)
{
	struct xbuf *b = c->b;
	if (!c->xfer_len[k] && !b->oom && b->nlates == nlates && b->n - start <= UINT32_MAX) {
		c->xfer_at[k] = (uint32_t)start;
		c->xfer_len[k] = (uint32_t)(b->n - start);
	}
}

static void save_locals(struct jc *c)
{
	if (replay(c, 1))
		return;
	size_t start = c->b->n;
	uint32_t nlates = c->b->nlates;
	locals_xfer(c, 1);
	keep(c, 1, start, nlates);
}

void jc_mem_base(struct jc *c)
{
	if (!c->in->mem0 || !c->uses_mem)
		return;
	x_mov_ri(c->b, 1, R11, (uint64_t)(uintptr_t)&c->in->mem0->base);
	x_load(c->b, 1, R14, xmem(R11, 0));
}

void jc_before_call(struct jc *c)
{
	jc_spill_all(c);
	save_locals(c);
}

void jc_before_direct_call(struct jc *c, uint32_t base, const struct wtype *ft)
{
	charge(c, c->nvs);
	for (uint32_t i = 0; i < c->nvs; i++)
		if (i < base || jc_arg_reg(ft, i - base) < 0)
			spill(c, i);
	save_locals(c);
}

void jc_before_helper(struct jc *c)
{
	jc_before_call(c);
	x_store(c->b, 1, xmem(R15, CTX_BUDGET), R13); /* the runtime reads it there */
}

void jc_after_call(struct jc *c)
{
	if (replay(c, 0))
		return;
	size_t start = c->b->n;
	uint32_t nlates = c->b->nlates;
	jc_mem_base(c);
	locals_xfer(c, 0);
	keep(c, 0, start, nlates);
}

void jc_site(struct jc *c)
{
	if (*c->nsites == *c->capsites) {
		uint32_t n = *c->capsites ? *c->capsites * 2 : 256;
		struct jit_site *p = realloc(*c->sites, n * sizeof(*p));
		if (!p) {
			c->fail = 1;
			return;
		}
		*c->sites = p;
		*c->capsites = n;
	}
	(*c->sites)[(*c->nsites)++] = (struct jit_site){(uint32_t)c->b->n, c->cur_off, c->fidx, 0};
}

uint32_t jc_trap_label(struct jc *c, int code)
{
	/* One per trap code and instruction: the instructions are compiled
	 * in order, so those of this one are the last. */
	for (uint32_t i = c->ntraps; code != JT_FUEL && i-- && c->traps[i].wasm == c->cur_off;)
		if (c->traps[i].code == code)
			return c->traps[i].label;
	if (c->ntraps == c->captraps) {
		uint32_t n = c->captraps ? c->captraps * 2 : 32;
		struct jtrap *p = realloc(c->traps, n * sizeof(*p));
		if (!p) {
			c->fail = 1;
			return 0;
		}
		c->traps = p;
		c->captraps = n;
	}
	uint32_t l = x_label(c->b);
	c->traps[c->ntraps++] = (struct jtrap){l, c->cur_off, 0, (uint8_t)code};
	return l;
}

int jc_dst_local(struct jc *c, uint8_t type, const struct jv *src, int *tee)
{
	struct rd r = c->r;
	uint8_t op;
	uint32_t x;
	if (rd_u8(&r, &op) || (op != 0x21 && op != 0x22) || rd_u32(&r, &x) || x >= c->nlocals)
		return -1;
	int reg = c->loc[x].reg;
	if (reg < 0 || c->loc[x].type != type)
		return -1;
	if (src && src->kind == JV_LOCAL && src->local == x)
		return -1;
	jc_detach_local(c, x);
	c->r = r;
	*tee = op == 0x22 ? (int)x : -1;
	return reg;
}

void jc_push_dst(struct jc *c, uint8_t type, int dst, int tee, int to_local)
{
	if (!to_local)
		jc_push_reg(c, type, dst);
	else if (tee >= 0)
		jc_push(c, (struct jv){JV_LOCAL, type, 0, (uint32_t)tee, 0});
}
