/* SPDX-License-Identifier: Apache-2.0 */
/* Compiled SIMD (simd.c, simd_ops.c, simd_rt.c): v128 values live in XMM
 * registers and 16-byte frame homes; each instruction is a short SSE
 * sequence, or a call to its portable implementation on the 16 bytes. */
#ifndef CAPSA_WASM_JIT_SIMD_H
#define CAPSA_WASM_JIT_SIMD_H

#include <stdint.h>

#include "wasm/jit/jc.h"

/* The SSE extensions compiled code may use. CAPSA_WASM_JIT_SSE2=1 in the
 * environment limits it to SSE2 (tests of the portable path). */
enum { JS_SSE2, JS_SSSE3, JS_SSE41 };
int jit_simd_level(void);

/* The scratch area a portable implementation works on (offsets). */
enum { JS_A = 0, JS_B = 16, JS_C = 32, JS_S = 48, JS_L = 56, JS_LANES = 64 };

typedef void jit_simd_fn(uint8_t *scratch);
/* The portable implementation of a 0xfd instruction (NULL for memory
 * accesses, which compiled code composes from others). */
jit_simd_fn *jit_simd_generic(uint32_t sub);
/* Its shape (enum simd_shape in wasm/simd.h), -1 if there is none. */
int jit_simd_shape(uint32_t sub);
uint32_t jit_simd_stub(struct xbuf *b);

/* simd.c: the scratch area; the portable path of a non-memory instruction
 * on the operands on the stack. */
struct xm jc_scratch(struct jc *c, int off);
void jc_simd_generic(struct jc *c, uint32_t sub, uint32_t lane, const uint8_t *lanes);
/* simd_ops.c: SSE code for the instruction; 0, or -1 when it has none
 * at this level (the caller then takes the portable path). */
int jc_simd_fast(struct jc *c, uint32_t sub, uint32_t lane, const uint8_t *lanes, int level);
/* simd_seq.c: the instructions done by short sequences, same contract. */
int jc_simd_seq(struct jc *c, uint32_t sub, uint32_t lane, const uint8_t *lanes, int level);

/* Emitting SSE code (simd_ops.c, simd_seq.c): XMM14 and XMM15 are scratch. */
#define T14 14
#define T15 15

/* Register-register and register-immediate forms on XMM numbers 0-15. */
static inline void xr(struct jc *c, int pfx, uint32_t op, int dst, int src)
{
	x_rr(c->b, pfx, 0, op, dst & 15, src & 15, 0);
}
static inline void xri(struct jc *c, int pfx, uint32_t op, int dst, int src, uint8_t imm)
{
	xr(c, pfx, op, dst, src);
	xb_u8(c->b, imm);
}
/* Shift by an immediate: 66 0f 71/72/73 /digit ib. */
static inline void xsh(struct jc *c, uint32_t op, int digit, int x, uint8_t n)
{
	x_rr(c->b, 0x66, 0, op, digit, x & 15, 0);
	xb_u8(c->b, n);
}
static inline void movx(struct jc *c, int dst, int src)
{
	if ((dst & 15) != (src & 15))
		xr(c, 0, 0x0f28, dst, src); /* movaps */
}
static inline void ones(struct jc *c, int x)
{
	xr(c, 0x66, 0x0f76, x, x); /* pcmpeqd */
}
static inline void zero(struct jc *c, int x)
{
	xr(c, 0x66, 0x0fef, x, x); /* pxor */
}
static inline void vnot(struct jc *c, int x)
{
	ones(c, T15);
	xr(c, 0x66, 0x0fef, x, T15);
}
/* x = the 32-bit value v in every lane (uses RAX). */
static inline void splat32(struct jc *c, int x, uint32_t v)
{
	x_mov_ri(c->b, 0, RAX, v);
	x_rr(c->b, 0x66, 0, 0x0f6e, x & 15, RAX, 0); /* movd */
	xri(c, 0x66, 0x0f70, x, x, 0);               /* pshufd */
}
/* x = the 16 bytes lo, hi (uses RAX and tmp). */
static inline void vconst(struct jc *c, int x, uint64_t lo, uint64_t hi, int tmp)
{
	x_mov_ri(c->b, 1, RAX, lo);
	x_rr(c->b, 0x66, 1, 0x0f6e, x & 15, RAX, 0);
	x_mov_ri(c->b, 1, RAX, hi);
	x_rr(c->b, 0x66, 1, 0x0f6e, tmp & 15, RAX, 0);
	xr(c, 0x66, 0x0f6c, x, tmp); /* punpcklqdq */
}

/* Operands: the top n values (v[0] deepest), a v128 first operand taken
 * into a register the result may overwrite. */
struct opnds {
	struct jv v[3];
	uint32_t pos[3];
	int r[3], temp[3];
	int n;
};

static inline void pop_n(struct jc *c, struct opnds *o, int n)
{
	o->n = n;
	for (int i = n; i-- > 0;) {
		o->v[i] = jc_pop(c);
		o->pos[i] = c->nvs;
	}
	for (int i = 0; i < n; i++) {
		o->temp[i] = 1;
		if (i == 0)
			o->r[i] = jc_take(c, &o->v[i], o->pos[i]);
		else
			o->r[i] = jc_reg(c, &o->v[i], o->pos[i], &o->temp[i]);
	}
}

static inline void done(struct jc *c, struct opnds *o, uint8_t type, int dst)
{
	for (int i = 0; i < o->n; i++)
		if (o->r[i] != dst && o->temp[i])
			jc_free_reg(c, o->r[i]);
	jc_push_reg(c, type, dst);
}

#endif
