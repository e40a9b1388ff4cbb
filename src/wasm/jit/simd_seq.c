/* SPDX-License-Identifier: Apache-2.0 */
/* SSE sequences for the v128 instructions without a single matching SSE
 * instruction: splats, lane access, any/all_true and bitmask, unsigned and
 * i64x2 compares, shifts (i8x16 through word shifts and masks, i64x2.shr_s
 * through the sign trick), wasm min/max with NaN and signed zeros,
 * i64x2.mul, extmul, extadd, popcnt, swizzle and shuffle through pshufb,
 * q15mulr with its one saturating case, and the conversions. */
#include "wasm/jit/simd.h"

#include <string.h>

#define I32  CAPSA_WASM_I32
#define I64  CAPSA_WASM_I64
#define V128 CAPSA_WASM_V128

/* A scalar operand in a general register (*temp: free it after). */
static int gpr_of(struct jc *c, struct jv *v, uint32_t pos, int *temp)
{
	return jc_reg(c, v, pos, temp);
}

/* The shift count (wasm: modulo the lane width) in XMM15's low quadword. */
static void shift_count(struct jc *c, struct jv *s, uint32_t ps, int mask, int add)
{
	if (s->kind == JV_CONST) {
		x_mov_ri(c->b, 0, RAX,
		         (uint32_t)(((uint32_t)s->c & (uint32_t)mask) + (uint32_t)add));
	} else {
		int t, r = gpr_of(c, s, ps, &t);
		x_mov_rr(c->b, 0, RAX, r);
		x_alu_ri(c->b, 0, OP_AND, RAX, mask);
		if (add)
			x_alu_ri(c->b, 0, OP_ADD, RAX, add);
		if (t)
			jc_free_reg(c, r);
	}
	x_rr(c->b, 0x66, 0, 0x0f6e, T15, RAX, 0); /* movd */
	jc_free(c, s);
}

static int seq_shift(struct jc *c, uint32_t sub)
{
	/* psll, psra, psrl with the count in an XMM register, per lane width */
	static const uint32_t w16[] = {0x0ff1, 0x0fe1, 0x0fd1}, w32[] = {0x0ff2, 0x0fe2, 0x0fd2},
	                      w64[] = {0x0ff3, 0, 0x0fd3};
	struct jv s = jc_pop(c);
	uint32_t ps = c->nvs;
	struct jv a = jc_pop(c);
	uint32_t pa = c->nvs;
	int dst = jc_take(c, &a, pa);
	int k = (int)sub - 107; /* i8x16: 0 shl, 1 shr_s, 2 shr_u */
	if (sub >= 139 && sub <= 141) {
		shift_count(c, &s, ps, 15, 0);
		xr(c, 0x66, w16[sub - 139], dst, T15);
	} else if (sub >= 171 && sub <= 173) {
		shift_count(c, &s, ps, 31, 0);
		xr(c, 0x66, w32[sub - 171], dst, T15);
	} else if (sub == 203 || sub == 205) {
		shift_count(c, &s, ps, 63, 0);
		xr(c, 0x66, w64[sub - 203], dst, T15);
	} else if (sub == 204) {
		/* arithmetic: ((a ^ m) >>> n) ^ m, m the lanes' signs */
		shift_count(c, &s, ps, 63, 0);
		movx(c, T14, dst);
		xsh(c, 0x0f72, 4, T14, 31);           /* psrad 31 */
		xri(c, 0x66, 0x0f70, T14, T14, 0xf5); /* pshufd: high dwords */
		xr(c, 0x66, 0x0fef, dst, T14);
		xr(c, 0x66, 0x0fd3, dst, T15); /* psrlq */
		xr(c, 0x66, 0x0fef, dst, T14);
	} else if (k == 1) {
		/* i8x16.shr_s: bytes widened into the high halves of words,
		 * shifted by n + 8, packed back */
		shift_count(c, &s, ps, 7, 8);
		movx(c, T14, dst);
		xr(c, 0x66, 0x0f60, dst, dst); /* punpcklbw */
		xr(c, 0x66, 0x0f68, T14, T14); /* punpckhbw */
		xr(c, 0x66, 0x0fe1, dst, T15); /* psraw */
		xr(c, 0x66, 0x0fe1, T14, T15);
		xr(c, 0x66, 0x0f63, dst, T14); /* packsswb */
	} else {
		/* i8x16 shl / shr_u: shift words, mask each byte */
		shift_count(c, &s, ps, 7, 0);
		ones(c, T14);
		if (k == 0) {
			xr(c, 0x66, 0x0ff1, dst, T15); /* psllw */
			xr(c, 0x66, 0x0ff1, T14, T15); /* words 0xffff << n */
			xr(c, 0x66, 0x0f63, T14, T14); /* packsswb: bytes 0xff << n */
		} else {
			xr(c, 0x66, 0x0fd1, dst, T15); /* psrlw */
			xr(c, 0x66, 0x0fd1, T14, T15);
			xsh(c, 0x0f71, 2, T14, 8);     /* words 0xff >> n */
			xr(c, 0x66, 0x0f67, T14, T14); /* packuswb */
		}
		xr(c, 0x66, 0x0fdb, dst, T14); /* pand */
	}
	jc_push_reg(c, V128, dst);
	return 0;
}

static int seq_splat(struct jc *c, uint32_t sub)
{
	struct jv s = jc_pop(c);
	uint32_t ps = c->nvs;
	int dst;
	if (sub >= 19) {
		dst = jc_take(c, &s, ps);
		if (sub == 19)
			xri(c, 0x66, 0x0f70, dst, dst, 0); /* pshufd */
		else
			xr(c, 0x66, 0x0f6c, dst, dst); /* punpcklqdq */
		jc_push_reg(c, V128, dst);
		return 0;
	}
	int t, r = gpr_of(c, &s, ps, &t);
	dst = jc_alloc(c, 1);
	x_rr(c->b, 0x66, sub == 18, 0x0f6e, dst & 15, r, 0); /* movd / movq */
	if (t)
		jc_free_reg(c, r);
	jc_free(c, &s);
	if (sub == 15)
		xr(c, 0x66, 0x0f60, dst, dst); /* punpcklbw */
	if (sub <= 16)
		xri(c, 0xf2, 0x0f70, dst, dst, 0); /* pshuflw */
	if (sub <= 17)
		xri(c, 0x66, 0x0f70, dst, dst, 0);
	else
		xr(c, 0x66, 0x0f6c, dst, dst);
	jc_push_reg(c, V128, dst);
	return 0;
}

static int seq_extract(struct jc *c, uint32_t sub, uint32_t L)
{
	struct jv a = jc_pop(c);
	uint32_t pa = c->nvs;
	int t, r = jc_reg(c, &a, pa, &t);
	int dst;
	if (sub == 31 || sub == 33) {
		dst = jc_alloc(c, 1);
		if (sub == 31)
			xri(c, 0x66, 0x0f70, dst, r, (uint8_t)L); /* pshufd */
		else if (L)
			xri(c, 0x66, 0x0f70, dst, r, 0xee);
		else
			movx(c, dst, r);
	} else {
		dst = jc_alloc(c, 0);
		if (sub <= 25) {
			xri(c, 0x66, 0x0fc5, dst, r, (uint8_t)(sub <= 22 ? L / 2 : L)); /* pextrw */
			if (sub <= 22 && (L & 1))
				x_shift_ri(c->b, 0, 5, dst, 8);
			if (sub == 21)
				x_rr(c->b, 0, 0, 0x0fbe, dst, dst, 1); /* movsx r32, r8 */
			else if (sub == 22)
				x_rr(c->b, 0, 0, 0x0fb6, dst, dst, 1);
			else if (sub == 24)
				x_rr(c->b, 0, 0, 0x0fbf, dst, dst, 0);
		} else {
			int w = sub == 29, src = r;
			if (L) {
				xri(c, 0x66, 0x0f70, T15, r, (uint8_t)(w ? 0xee : L));
				src = XMM(T15);
			}
			x_rr(c->b, 0x66, w, 0x0f7e, src & 15, dst, 0); /* movd/movq r, xmm */
		}
	}
	if (t)
		jc_free_reg(c, r);
	jc_free(c, &a);
	uint8_t rt = sub == 29   ? I64
	             : sub == 31 ? CAPSA_WASM_F32
	             : sub == 33 ? CAPSA_WASM_F64
	                         : I32;
	jc_push_reg(c, rt, dst);
	return 0;
}

static int seq_replace(struct jc *c, uint32_t sub, uint32_t L, int level)
{
	if ((sub == 23 || sub == 28 || (sub == 32 && L)) && level < JS_SSE41)
		return -1;
	struct jv s = jc_pop(c);
	uint32_t ps = c->nvs;
	struct jv a = jc_pop(c);
	uint32_t pa = c->nvs;
	int dst = jc_take(c, &a, pa);
	int t, r = jc_reg(c, &s, ps, &t);
	switch (sub) {
	case 23:
		x_rr(c->b, 0x66, 0, 0x0f3a20, dst & 15, r, 0); /* pinsrb */
		xb_u8(c->b, (uint8_t)L);
		break;
	case 26:
		xri(c, 0x66, 0x0fc4, dst, r, (uint8_t)L); /* pinsrw */
		break;
	case 28:
		x_rr(c->b, 0x66, 0, 0x0f3a22, dst & 15, r, 0); /* pinsrd */
		xb_u8(c->b, (uint8_t)L);
		break;
	case 30:
		x_rr(c->b, 0x66, 1, 0x0f6e, T15, r, 0); /* movq */
		if (L)
			xr(c, 0x66, 0x0f6c, dst, T15); /* punpcklqdq */
		else
			xr(c, 0xf2, 0x0f10, dst, T15); /* movsd */
		break;
	case 32:
		if (L)
			xri(c, 0x66, 0x0f3a21, dst, r, (uint8_t)(L << 4)); /* insertps */
		else
			xr(c, 0xf3, 0x0f10, dst, r); /* movss */
		break;
	default:
		if (L)
			xr(c, 0x66, 0x0f14, dst, r); /* unpcklpd */
		else
			xr(c, 0xf2, 0x0f10, dst, r);
	}
	if (t)
		jc_free_reg(c, r);
	jc_free(c, &s);
	jc_push_reg(c, V128, dst);
	return 0;
}

/* any_true, all_true, bitmask: an i32 from one v128. */
static int seq_test(struct jc *c, uint32_t sub)
{
	struct jv a = jc_pop(c);
	uint32_t pa = c->nvs;
	int t, r = jc_reg(c, &a, pa, &t);
	int dst = jc_alloc(c, 0);
	static const uint32_t eq[] = {0x0f74, 0x0f75, 0x0f76, 0x0f76};
	switch (sub) {
	case 100:
		xr(c, 0x66, 0x0fd7, dst, r); /* pmovmskb */
		break;
	case 132:
		movx(c, T15, r);
		xr(c, 0x66, 0x0f63, T15, T15); /* packsswb */
		xr(c, 0x66, 0x0fd7, dst, T15);
		x_rr(c->b, 0, 0, 0x0fb6, dst, dst, 1);
		break;
	case 164:
		xr(c, 0, 0x0f50, dst, r); /* movmskps */
		break;
	case 196:
		xr(c, 0x66, 0x0f50, dst, r); /* movmskpd */
		break;
	default: {
		/* lanes equal to zero; any_true: not all bytes zero */
		int k = sub == 83 || sub == 99 ? 0 : sub == 131 ? 1 : sub == 163 ? 2 : 3;
		zero(c, T15);
		xr(c, 0x66, eq[k], T15, r);
		if (k == 3) {
			xri(c, 0x66, 0x0f70, T14, T15, 0xb1); /* swap dwords */
			xr(c, 0x66, 0x0fdb, T15, T14);
		}
		xr(c, 0x66, 0x0fd7, dst, T15);
		if (sub == 83) {
			x_alu_ri(c->b, 0, OP_CMP, dst, 0xffff);
			x_setcc(c->b, CC_NE, dst);
		} else {
			x_rr(c->b, 0, 0, 0x85, dst, dst, 0);
			x_setcc(c->b, CC_E, dst);
		}
	}
	}
	if (t)
		jc_free_reg(c, r);
	jc_free(c, &a);
	jc_push_reg(c, I32, dst);
	return 0;
}

/* Unsigned compares: a <= b is min(a, b) == a, a >= b is max(a, b) == a. */
static int seq_ucmp(struct jc *c, uint32_t sub, int level)
{
	int w = sub <= 44 ? 0 : sub <= 54 ? 1 : 2;
	int k = (int)(sub - (w == 0 ? 38 : w == 1 ? 48 : 58)); /* 0 lt 2 gt 4 le 6 ge */
	static const uint32_t mn[] = {0x0fda, 0x0f383a, 0x0f383b},
	                      mx[] = {0x0fde, 0x0f383e, 0x0f383f}, eq[] = {0x0f74, 0x0f75, 0x0f76};
	if (w && level < JS_SSE41)
		return -1;
	struct opnds o;
	pop_n(c, &o, 2);
	int dst = o.r[0];
	int use_min = k == 4 || k == 2; /* gt = not le */
	movx(c, T14, dst);
	xr(c, 0x66, use_min ? mn[w] : mx[w], T14, o.r[1]);
	xr(c, 0x66, eq[w], dst, T14);
	if (k == 0 || k == 2)
		vnot(c, dst);
	done(c, &o, V128, dst);
	return 0;
}

static int seq_unary(struct jc *c, uint32_t sub)
{
	struct opnds o;
	pop_n(c, &o, 1);
	int dst = o.r[0];
	switch (sub) {
	case 77:
		vnot(c, dst);
		break;
	case 97:
	case 129:
	case 161:
	case 193: {
		static const uint32_t sb[] = {0x0ff8, 0x0ff9, 0x0ffa, 0x0ffb};
		zero(c, T15);
		xr(c, 0x66, sb[sub == 97 ? 0 : sub == 129 ? 1 : sub == 161 ? 2 : 3], T15, dst);
		movx(c, dst, T15);
		break;
	}
	case 192: /* i64x2.abs: (a ^ m) - m, m the lanes' signs */
		movx(c, T15, dst);
		xsh(c, 0x0f72, 4, T15, 31);
		xri(c, 0x66, 0x0f70, T15, T15, 0xf5);
		xr(c, 0x66, 0x0fef, dst, T15);
		xr(c, 0x66, 0x0ffb, dst, T15);
		break;
	case 224:
	case 236: /* abs: clear the sign bits */
		ones(c, T15);
		xsh(c, sub == 224 ? 0x0f72 : 0x0f73, 2, T15, 1);
		xr(c, 0x66, 0x0fdb, dst, T15);
		break;
	case 225:
	case 237: /* neg: flip them */
		ones(c, T15);
		xsh(c, sub == 225 ? 0x0f72 : 0x0f73, 6, T15, sub == 225 ? 31 : 63);
		xr(c, 0x66, 0x0fef, dst, T15);
		break;
	case 124:
	case 125: /* pmaddubsw: unsigned bytes of the first, signed of the second */
		splat32(c, T15, 0x01010101);
		if (sub == 124) {
			xr(c, 0x66, 0x0f3804, T15, dst);
			movx(c, dst, T15);
		} else {
			xr(c, 0x66, 0x0f3804, dst, T15);
		}
		break;
	case 126:
	case 127: /* pmaddwd with ones; unsigned: bias by 0x8000 first */
		if (sub == 127) {
			splat32(c, T15, 0x80008000);
			xr(c, 0x66, 0x0fef, dst, T15);
		}
		splat32(c, T15, 0x00010001);
		xr(c, 0x66, 0x0ff5, dst, T15);
		if (sub == 127) {
			splat32(c, T15, 0x00010000);
			xr(c, 0x66, 0x0ffe, dst, T15);
		}
		break;
	case 251: /* f32x4.convert_i32x4_u: high and low 16 bits apart */
		movx(c, T15, dst);
		xsh(c, 0x0f72, 2, T15, 16);
		xsh(c, 0x0f72, 6, T15, 16);
		xr(c, 0x66, 0x0ffa, dst, T15); /* low halves */
		xr(c, 0, 0x0f5b, dst, dst);
		xsh(c, 0x0f72, 2, T15, 1);
		xr(c, 0, 0x0f5b, T15, T15);
		xr(c, 0, 0x0f58, T15, T15);
		xr(c, 0, 0x0f58, dst, T15);
		break;
	case 249: { /* i32x4.trunc_sat_f32x4_u: below 2^31 directly, above from
		     * x - 2^31, from 2^32 all ones; NaN and negatives 0 */
		int r = jc_alloc(c, 1);
		zero(c, T15);
		xr(c, 0, 0x0f5f, dst, T15); /* maxps */
		splat32(c, T15, 0x4f000000);
		movx(c, T14, dst);
		xr(c, 0, 0x0f5c, T14, T15);
		xr(c, 0xf3, 0x0f5b, T14, T14);
		xri(c, 0, 0x0fc2, T15, dst, 2); /* 2^31 <= x */
		movx(c, r, T15);
		xsh(c, 0x0f72, 6, r, 31);
		xr(c, 0x66, 0x0fef, T14, r);
		xr(c, 0x66, 0x0fdb, T14, T15);
		movx(c, r, dst);
		xr(c, 0xf3, 0x0f5b, r, r);
		xr(c, 0x66, 0x0fdf, T15, r); /* pandn */
		xr(c, 0x66, 0x0feb, T14, T15);
		splat32(c, T15, 0x4f800000);
		xri(c, 0, 0x0fc2, T15, dst, 2); /* 2^32 <= x */
		xr(c, 0x66, 0x0feb, T14, T15);
		movx(c, dst, T14);
		jc_free_reg(c, r);
		break;
	}
	case 248: /* i32x4.trunc_sat_f32x4_s */
		movx(c, T15, dst);
		xri(c, 0, 0x0fc2, T15, dst, 0); /* ordered lanes */
		xr(c, 0, 0x0f54, dst, T15);     /* NaN -> 0 */
		movx(c, T15, dst);
		xr(c, 0xf3, 0x0f5b, dst, dst); /* cvttps2dq */
		xr(c, 0x66, 0x0fef, T15, dst); /* positive input, 0x80000000 out */
		xr(c, 0x66, 0x0fdb, T15, dst);
		xsh(c, 0x0f72, 4, T15, 31);
		xr(c, 0x66, 0x0fef, dst, T15);
		break;
	default:
		c->fail = 1;
	}
	done(c, &o, V128, dst);
	return 0;
}

/* wasm min/max: NaN in either operand gives NaN, -0 < +0. A NaN lane gets
 * a + b, the NaN the interpreter gives (the first NaN operand, quieted). */
static int seq_minmax(struct jc *c, uint32_t sub)
{
	int d = sub >= 244, max = sub == 233 || sub == 245;
	int pfx = d ? 0x66 : 0;
	uint32_t op = max ? 0x0f5f : 0x0f5d;
	struct opnds o;
	pop_n(c, &o, 2);
	int dst = o.r[0];
	movx(c, T14, dst);
	xr(c, pfx, 0x0f58, T14, o.r[1]); /* a + b */
	movx(c, T15, o.r[1]);
	xr(c, pfx, op, T15, dst);    /* t: b against a */
	xr(c, pfx, op, dst, o.r[1]); /* u: a against b */
	if (max) {
		xr(c, pfx, 0x0f57, T15, dst); /* t ^ u */
		xr(c, pfx, 0x0f56, dst, T15); /* t | u */
		xr(c, pfx, 0x0f5c, dst, T15); /* zeros: +0 */
	} else {
		xr(c, pfx, 0x0f56, dst, T15); /* t | u: -0 wins */
	}
	movx(c, T15, dst);
	xri(c, pfx, 0x0fc2, T15, dst, 3); /* NaN lanes */
	xr(c, pfx, 0x0f54, T14, T15);     /* andps */
	xr(c, pfx, 0x0f55, T15, dst);     /* andnps */
	xr(c, pfx, 0x0f56, T15, T14);
	movx(c, dst, T15);
	done(c, &o, V128, dst);
	return 0;
}

/* i64x2 a > b signed: the sign of b - a, corrected for overflow. */
static void gt64(struct jc *c, int dst, int b)
{
	movx(c, T15, b);
	xr(c, 0x66, 0x0ffb, T15, dst); /* d = b - a */
	xr(c, 0x66, 0x0fef, dst, b);   /* a ^ b */
	movx(c, T14, b);
	xr(c, 0x66, 0x0fef, T14, T15); /* b ^ d */
	xr(c, 0x66, 0x0fdb, dst, T14); /* overflow */
	xr(c, 0x66, 0x0fef, dst, T15);
	xsh(c, 0x0f72, 4, dst, 31);
	xri(c, 0x66, 0x0f70, dst, dst, 0xf5);
}

static int seq_i64(struct jc *c, uint32_t sub)
{
	struct opnds o;
	pop_n(c, &o, 2);
	int dst = o.r[0], b = o.r[1];
	switch (sub) {
	case 213: /* mul: lo*lo + ((hi(a)*lo(b) + lo(a)*hi(b)) << 32) */
		movx(c, T15, dst);
		xsh(c, 0x0f73, 2, T15, 32);
		xr(c, 0x66, 0x0ff4, T15, b); /* pmuludq */
		movx(c, T14, b);
		xsh(c, 0x0f73, 2, T14, 32);
		xr(c, 0x66, 0x0ff4, T14, dst);
		xr(c, 0x66, 0x0fd4, T15, T14);
		xsh(c, 0x0f73, 6, T15, 32);
		xr(c, 0x66, 0x0ff4, dst, b);
		xr(c, 0x66, 0x0fd4, dst, T15);
		break;
	case 214:
	case 215: /* eq: both dwords equal */
		xr(c, 0x66, 0x0f76, dst, b);
		xri(c, 0x66, 0x0f70, T15, dst, 0xb1);
		xr(c, 0x66, 0x0fdb, dst, T15);
		if (sub == 215)
			vnot(c, dst);
		break;
	case 217:
	case 218: /* gt, le = not gt */
		gt64(c, dst, b);
		if (sub == 218)
			vnot(c, dst);
		break;
	default: { /* lt = b > a, ge = not lt */
		int res = jc_alloc(c, 1);
		movx(c, res, b);
		gt64(c, res, dst);
		if (sub == 219)
			vnot(c, res);
		dst = res;
	}
	}
	done(c, &o, V128, dst);
	return 0;
}

/* Two v128 operands (a taken for the result); sequences of SSE2 unless
 * the caller checked the level. */
static int seq_bin(struct jc *c, uint32_t sub, const uint8_t *lanes)
{
	struct opnds o;
	pop_n(c, &o, sub == 82 ? 3 : 2);
	int dst = o.r[0], b = o.r[1];
	switch (sub) {
	case 82: /* bitselect: ((a ^ b) & c) ^ b */
		xr(c, 0x66, 0x0fef, dst, b);
		xr(c, 0x66, 0x0fdb, dst, o.r[2]);
		xr(c, 0x66, 0x0fef, dst, b);
		break;
	case 14: /* swizzle: indexes over 15 saturate into pshufb's zeroing range */
		splat32(c, T15, 0x70707070);
		xr(c, 0x66, 0x0fdc, T15, b);
		xr(c, 0x66, 0x0f3800, dst, T15);
		break;
	case 13: { /* shuffle: lanes of a, lanes of b, merged */
		uint8_t ma[16], mb[16];
		uint64_t q[4];
		int from_b = 0;
		for (int i = 0; i < 16; i++) {
			ma[i] = lanes[i] < 16 ? lanes[i] : 0x80;
			mb[i] = lanes[i] >= 16 ? (uint8_t)(lanes[i] - 16) : 0x80;
			from_b |= lanes[i] >= 16;
		}
		memcpy(q, ma, 16);
		memcpy(q + 2, mb, 16);
		vconst(c, T14, q[0], q[1], T15);
		xr(c, 0x66, 0x0f3800, dst, T14);
		if (from_b) {
			vconst(c, T14, q[2], q[3], T15);
			movx(c, T15, b);
			xr(c, 0x66, 0x0f3800, T15, T14);
			xr(c, 0x66, 0x0feb, dst, T15);
		}
		break;
	}
	case 130: /* q15mulr: pmulhrsw, but -1 * -1 saturates */
		movx(c, T14, dst);
		xr(c, 0x66, 0x0fef, T14, b);
		xsh(c, 0x0f71, 4, T14, 15); /* signs differ */
		xr(c, 0x66, 0x0f380b, dst, b);
		splat32(c, T15, 0x80008000);
		xr(c, 0x66, 0x0f75, T15, dst);
		xr(c, 0x66, 0x0fdf, T14, T15); /* 0x8000 from equal signs */
		xr(c, 0x66, 0x0fef, dst, T14);
		break;
	case 156:
	case 157:
	case 158:
	case 159: { /* i16x8 extmul: widen both, multiply */
		uint32_t ext = sub <= 157 ? 0x0f3820 : 0x0f3830;
		movx(c, T15, b);
		if (sub & 1) {
			xsh(c, 0x0f73, 3, dst, 8);
			xsh(c, 0x0f73, 3, T15, 8);
		}
		xr(c, 0x66, ext, dst, dst);
		xr(c, 0x66, ext, T15, T15);
		xr(c, 0x66, 0x0fd5, dst, T15);
		break;
	}
	case 188:
	case 189:
	case 190:
	case 191: /* i32x4 extmul: low and high halves of the products */
		movx(c, T15, dst);
		xr(c, 0x66, 0x0fd5, T15, b);                        /* pmullw */
		xr(c, 0x66, sub <= 189 ? 0x0fe5 : 0x0fe4, dst, b);  /* pmulhw / pmulhuw */
		xr(c, 0x66, (sub & 1) ? 0x0f69 : 0x0f61, T15, dst); /* punpck(h|l)wd */
		movx(c, dst, T15);
		break;
	default: /* i64x2 extmul: lanes to the even positions, pmul(u)dq */
		xri(c, 0x66, 0x0f70, dst, dst, (sub & 1) ? 0xfa : 0x50);
		xri(c, 0x66, 0x0f70, T15, b, (sub & 1) ? 0xfa : 0x50);
		xr(c, 0x66, sub <= 221 ? 0x0f3828 : 0x0ff4, dst, T15);
	}
	done(c, &o, V128, dst);
	return 0;
}

static int seq_conv(struct jc *c, uint32_t sub)
{
	struct opnds o;
	pop_n(c, &o, 1);
	int dst = o.r[0];
	switch (sub) {
	case 98: { /* popcnt: a 16-entry table looked up per nibble */
		int hi = jc_alloc(c, 1);
		vconst(c, T14, 0x0302020102010100ull, 0x0403030203020201ull, T15);
		movx(c, hi, dst);
		xsh(c, 0x0f71, 2, hi, 4);
		splat32(c, T15, 0x0f0f0f0f);
		xr(c, 0x66, 0x0fdb, dst, T15);
		xr(c, 0x66, 0x0fdb, hi, T15);
		movx(c, T15, T14);
		xr(c, 0x66, 0x0f3800, T14, dst);
		xr(c, 0x66, 0x0f3800, T15, hi);
		xr(c, 0x66, 0x0ffc, T14, T15);
		movx(c, dst, T14);
		jc_free_reg(c, hi);
		break;
	}
	case 252: /* trunc_sat_f64x2_s_zero: NaN -> 0, clamp above, convert */
		movx(c, T15, dst);
		xri(c, 0x66, 0x0fc2, T15, dst, 0);
		xr(c, 0x66, 0x0f54, dst, T15);
		vconst(c, T15, 0x41dfffffffc00000ull, 0x41dfffffffc00000ull, T14);
		xr(c, 0x66, 0x0f5d, dst, T15);
		xr(c, 0x66, 0x0fe6, dst, dst); /* cvttpd2dq */
		break;
	case 253: /* u_zero: clamp to [0, 2^32-1], truncate, add 2^52 */
		zero(c, T15);
		xr(c, 0x66, 0x0f5f, dst, T15); /* NaN -> 0 too */
		vconst(c, T15, 0x41efffffffe00000ull, 0x41efffffffe00000ull, T14);
		xr(c, 0x66, 0x0f5d, dst, T15);
		xri(c, 0x66, 0x0f3a09, dst, dst, 11);
		vconst(c, T15, 0x4330000000000000ull, 0x4330000000000000ull, T14);
		xr(c, 0x66, 0x0f58, dst, T15);
		zero(c, T15);
		xri(c, 0, 0x0fc6, dst, T15, 0x88); /* shufps: low dwords, zeros */
		break;
	default: /* 255 convert_low_i32x4_u: 2^52 + x as doubles, minus 2^52 */
		splat32(c, T15, 0x43300000);
		xr(c, 0x66, 0x0f62, dst, T15); /* punpckldq */
		vconst(c, T15, 0x4330000000000000ull, 0x4330000000000000ull, T14);
		xr(c, 0x66, 0x0f5c, dst, T15);
	}
	done(c, &o, V128, dst);
	return 0;
}

/* The level a sequence needs. */
static int seq_level(uint32_t sub)
{
	switch (sub) {
	case 13:
	case 14:
	case 98:
	case 124:
	case 125:
	case 130:
		return JS_SSSE3;
	case 156:
	case 157:
	case 158:
	case 159:
	case 220:
	case 221:
	case 253:
		return JS_SSE41;
	}
	return JS_SSE2;
}

int jc_simd_seq(struct jc *c, uint32_t sub, uint32_t lane, const uint8_t *lanes, int level)
{
	if (seq_level(sub) > level)
		return -1;
	if (sub >= 15 && sub <= 20)
		return seq_splat(c, sub);
	if (sub == 23 || sub == 26 || sub == 28 || sub == 30 || sub == 32 || sub == 34)
		return seq_replace(c, sub, lane, level);
	if (sub >= 21 && sub <= 34)
		return seq_extract(c, sub, lane);
	if ((sub >= 38 && sub <= 64) && ((sub - 38) % 10 % 2 == 0))
		return seq_ucmp(c, sub, level);
	if (sub == 83 || sub == 99 || sub == 100 || sub == 131 || sub == 132 || sub == 163 ||
	    sub == 164 || sub == 195 || sub == 196)
		return seq_test(c, sub);
	if ((sub >= 107 && sub <= 109) || (sub >= 139 && sub <= 141) ||
	    (sub >= 171 && sub <= 173) || (sub >= 203 && sub <= 205))
		return seq_shift(c, sub);
	if (sub == 232 || sub == 233 || sub == 244 || sub == 245)
		return seq_minmax(c, sub);
	if (sub == 213 || (sub >= 214 && sub <= 219))
		return seq_i64(c, sub);
	if (sub == 13 || sub == 14 || sub == 82 || sub == 130 || (sub >= 156 && sub <= 159) ||
	    (sub >= 188 && sub <= 191) || (sub >= 220 && sub <= 223))
		return seq_bin(c, sub, lanes);
	if (sub == 98 || sub == 252 || sub == 253 || sub == 255)
		return seq_conv(c, sub);
	return seq_unary(c, sub);
}
