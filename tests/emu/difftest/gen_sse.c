/* SPDX-License-Identifier: Apache-2.0 */
/* SSE/SSE2 instruction generators: one table of (prefix, opcode, operand
 * form) and one function that fills in registers and memory. */
#include "gen_ops.h"

enum sse_form {
	F_X,    /* xmm, xmm/m128 (aligned) */
	F_XU,   /* xmm, xmm/m128 (unaligned allowed) */
	F_XS,   /* xmm, xmm/m32|m64 scalar */
	F_XI,   /* xmm, xmm/m128, imm8 */
	F_SHI,  /* xmm, imm8 with /digit (reg only) */
	F_XG,   /* xmm, r/m32|64 */
	F_GX,   /* r32|64, xmm/m32|64 */
	F_GXR,  /* r32, xmm (reg only) */
	F_ST,   /* m128|xmm, xmm (aligned) */
	F_STU,  /* m128|xmm, xmm (unaligned) or scalar store */
	F_STG,  /* r/m32|64, xmm */
	F_COMI, /* xmm, xmm/m: sets ZF PF CF, clears OF SF AF */
	F_XM,   /* xmm, m64 (memory only) */
	F_XMU,  /* xmm, m128 (memory only, unaligned) */
	F_STM,  /* m64, xmm (memory only) */
	F_STMA, /* m128, xmm (memory only, aligned) */
	F_XR,   /* xmm, xmm (registers only) */
	F_XGI,  /* xmm, r32/m16, imm8 */
	F_GXRI, /* r32, xmm, imm8 (registers only) */
	F_XSI,  /* xmm, xmm/m32|m64, imm8 */
	F_MASK, /* maskmovdqu xmm, xmm: stores to [rdi] */
};

struct sse_op {
	const char *name;
	uint8_t mand, op, form, digit, cls;
	uint8_t map; /* 0: 0F xx, 0x38: 0F 38 xx, 0x3a: 0F 3A xx */
};

/* class, then opcode map */
#define I   DT_C_SSE_INT, 0
#define P   DT_C_SSE_FP, 0
#define I38 DT_C_SSE_INT, 0x38
#define I3A DT_C_SSE_INT, 0x3a
static const struct sse_op ops[] = {
    {"paddb", 0x66, 0xfc, F_X, 0, I},
    {"paddw", 0x66, 0xfd, F_X, 0, I},
    {"paddd", 0x66, 0xfe, F_X, 0, I},
    {"paddq", 0x66, 0xd4, F_X, 0, I},
    {"psubb", 0x66, 0xf8, F_X, 0, I},
    {"psubw", 0x66, 0xf9, F_X, 0, I},
    {"psubd", 0x66, 0xfa, F_X, 0, I},
    {"psubq", 0x66, 0xfb, F_X, 0, I},
    {"paddusb", 0x66, 0xdc, F_X, 0, I},
    {"psubusb", 0x66, 0xd8, F_X, 0, I},
    {"pmullw", 0x66, 0xd5, F_X, 0, I},
    {"pmuludq", 0x66, 0xf4, F_X, 0, I},
    {"pand", 0x66, 0xdb, F_X, 0, I},
    {"pandn", 0x66, 0xdf, F_X, 0, I},
    {"por", 0x66, 0xeb, F_X, 0, I},
    {"pxor", 0x66, 0xef, F_X, 0, I},
    {"pcmpeqb", 0x66, 0x74, F_X, 0, I},
    {"pcmpeqw", 0x66, 0x75, F_X, 0, I},
    {"pcmpeqd", 0x66, 0x76, F_X, 0, I},
    {"pcmpgtb", 0x66, 0x64, F_X, 0, I},
    {"pcmpgtw", 0x66, 0x65, F_X, 0, I},
    {"pcmpgtd", 0x66, 0x66, F_X, 0, I},
    {"punpcklbw", 0x66, 0x60, F_X, 0, I},
    {"punpcklwd", 0x66, 0x61, F_X, 0, I},
    {"punpckldq", 0x66, 0x62, F_X, 0, I},
    {"punpcklqdq", 0x66, 0x6c, F_X, 0, I},
    {"punpckhbw", 0x66, 0x68, F_X, 0, I},
    {"punpckhwd", 0x66, 0x69, F_X, 0, I},
    {"punpckhdq", 0x66, 0x6a, F_X, 0, I},
    {"punpckhqdq", 0x66, 0x6d, F_X, 0, I},
    {"pminub", 0x66, 0xda, F_X, 0, I},
    {"pmaxub", 0x66, 0xde, F_X, 0, I},
    {"psllw", 0x66, 0xf1, F_X, 0, I},
    {"pslld", 0x66, 0xf2, F_X, 0, I},
    {"psllq", 0x66, 0xf3, F_X, 0, I},
    {"psrlw", 0x66, 0xd1, F_X, 0, I},
    {"psrld", 0x66, 0xd2, F_X, 0, I},
    {"psrlq", 0x66, 0xd3, F_X, 0, I},
    {"psraw", 0x66, 0xe1, F_X, 0, I},
    {"psrad", 0x66, 0xe2, F_X, 0, I},
    {"psllw-i", 0x66, 0x71, F_SHI, 6, I},
    {"psrlw-i", 0x66, 0x71, F_SHI, 2, I},
    {"psraw-i", 0x66, 0x71, F_SHI, 4, I},
    {"pslld-i", 0x66, 0x72, F_SHI, 6, I},
    {"psrld-i", 0x66, 0x72, F_SHI, 2, I},
    {"psrad-i", 0x66, 0x72, F_SHI, 4, I},
    {"psllq-i", 0x66, 0x73, F_SHI, 6, I},
    {"psrlq-i", 0x66, 0x73, F_SHI, 2, I},
    {"pslldq", 0x66, 0x73, F_SHI, 7, I},
    {"psrldq", 0x66, 0x73, F_SHI, 3, I},
    {"pshufd", 0x66, 0x70, F_XI, 0, I},
    {"pshuflw", 0xf2, 0x70, F_XI, 0, I},
    {"pshufhw", 0xf3, 0x70, F_XI, 0, I},
    {"pmovmskb", 0x66, 0xd7, F_GXR, 0, I},
    {"movd/q x,r", 0x66, 0x6e, F_XG, 0, I},
    {"movd/q r,x", 0x66, 0x7e, F_STG, 0, I},
    {"movq x,xm", 0xf3, 0x7e, F_XS, 0, I},
    {"movq xm,x", 0x66, 0xd6, F_STU, 0, I},
    {"movdqa", 0x66, 0x6f, F_X, 0, I},
    {"movdqa st", 0x66, 0x7f, F_ST, 0, I},
    {"movdqu", 0xf3, 0x6f, F_XU, 0, I},
    {"movdqu st", 0xf3, 0x7f, F_STU, 0, I},
    {"movaps", 0, 0x28, F_X, 0, I},
    {"movaps st", 0, 0x29, F_ST, 0, I},
    {"movups", 0, 0x10, F_XU, 0, I},
    {"movups st", 0, 0x11, F_STU, 0, I},
    {"movsd", 0xf2, 0x10, F_XS, 0, I},
    {"movsd st", 0xf2, 0x11, F_STU, 0, I},
    {"movss", 0xf3, 0x10, F_XS, 0, I},
    {"movss st", 0xf3, 0x11, F_STU, 0, I},
    {"andps", 0, 0x54, F_X, 0, I},
    {"andnps", 0, 0x55, F_X, 0, I},
    {"orps", 0, 0x56, F_X, 0, I},
    {"xorps", 0, 0x57, F_X, 0, I},
    {"andpd", 0x66, 0x54, F_X, 0, I},
    {"xorpd", 0x66, 0x57, F_X, 0, I},
    {"shufps", 0, 0xc6, F_XI, 0, I},
    {"shufpd", 0x66, 0xc6, F_XI, 0, I},
    {"unpcklps", 0, 0x14, F_X, 0, I},
    {"unpckhpd", 0x66, 0x15, F_X, 0, I},
    {"movmskps", 0, 0x50, F_GXR, 0, I},
    {"movmskpd", 0x66, 0x50, F_GXR, 0, I},
    {"addsd", 0xf2, 0x58, F_XS, 0, P},
    {"mulsd", 0xf2, 0x59, F_XS, 0, P},
    {"subsd", 0xf2, 0x5c, F_XS, 0, P},
    {"divsd", 0xf2, 0x5e, F_XS, 0, P},
    {"minsd", 0xf2, 0x5d, F_XS, 0, P},
    {"maxsd", 0xf2, 0x5f, F_XS, 0, P},
    {"sqrtsd", 0xf2, 0x51, F_XS, 0, P},
    {"addss", 0xf3, 0x58, F_XS, 0, P},
    {"mulss", 0xf3, 0x59, F_XS, 0, P},
    {"subss", 0xf3, 0x5c, F_XS, 0, P},
    {"divss", 0xf3, 0x5e, F_XS, 0, P},
    {"sqrtss", 0xf3, 0x51, F_XS, 0, P},
    {"minss", 0xf3, 0x5d, F_XS, 0, P},
    {"maxss", 0xf3, 0x5f, F_XS, 0, P},
    {"addpd", 0x66, 0x58, F_X, 0, P},
    {"mulpd", 0x66, 0x59, F_X, 0, P},
    {"subpd", 0x66, 0x5c, F_X, 0, P},
    {"divpd", 0x66, 0x5e, F_X, 0, P},
    {"sqrtpd", 0x66, 0x51, F_X, 0, P},
    {"addps", 0, 0x58, F_X, 0, P},
    {"mulps", 0, 0x59, F_X, 0, P},
    {"subps", 0, 0x5c, F_X, 0, P},
    {"divps", 0, 0x5e, F_X, 0, P},
    {"sqrtps", 0, 0x51, F_X, 0, P},
    {"minps", 0, 0x5d, F_X, 0, P},
    {"maxpd", 0x66, 0x5f, F_X, 0, P},
    {"cmpsd", 0xf2, 0xc2, F_XSI, 0, P},
    {"cmpps", 0, 0xc2, F_XI, 0, P},
    {"cvtsi2sd", 0xf2, 0x2a, F_XG, 0, P},
    {"cvtsi2ss", 0xf3, 0x2a, F_XG, 0, P},
    {"cvttsd2si", 0xf2, 0x2c, F_GX, 0, P},
    {"cvttss2si", 0xf3, 0x2c, F_GX, 0, P},
    {"cvtsd2si", 0xf2, 0x2d, F_GX, 0, P},
    {"cvtss2si", 0xf3, 0x2d, F_GX, 0, P},
    {"cvtss2sd", 0xf3, 0x5a, F_XS, 0, P},
    {"cvtsd2ss", 0xf2, 0x5a, F_XS, 0, P},
    {"cvtdq2pd", 0xf3, 0xe6, F_XS, 0, P},
    {"cvttpd2dq", 0x66, 0xe6, F_X, 0, P},
    {"cvtdq2ps", 0, 0x5b, F_X, 0, P},
    {"cvttps2dq", 0xf3, 0x5b, F_X, 0, P},
    {"ucomisd", 0x66, 0x2e, F_COMI, 0, P},
    {"comisd", 0x66, 0x2f, F_COMI, 0, P},
    {"ucomiss", 0, 0x2e, F_COMI, 0, P},
    {"comiss", 0, 0x2f, F_COMI, 0, P},
    {"pmulhw", 0x66, 0xe5, F_X, 0, I},
    {"pmulhuw", 0x66, 0xe4, F_X, 0, I},
    {"pmaddwd", 0x66, 0xf5, F_X, 0, I},
    {"psadbw", 0x66, 0xf6, F_X, 0, I},
    {"pavgb", 0x66, 0xe0, F_X, 0, I},
    {"pavgw", 0x66, 0xe3, F_X, 0, I},
    {"packsswb", 0x66, 0x63, F_X, 0, I},
    {"packuswb", 0x66, 0x67, F_X, 0, I},
    {"packssdw", 0x66, 0x6b, F_X, 0, I},
    {"paddsb", 0x66, 0xec, F_X, 0, I},
    {"paddsw", 0x66, 0xed, F_X, 0, I},
    {"psubsb", 0x66, 0xe8, F_X, 0, I},
    {"psubsw", 0x66, 0xe9, F_X, 0, I},
    {"paddusw", 0x66, 0xdd, F_X, 0, I},
    {"psubusw", 0x66, 0xd9, F_X, 0, I},
    {"pminsw", 0x66, 0xea, F_X, 0, I},
    {"pmaxsw", 0x66, 0xee, F_X, 0, I},
    {"pinsrw", 0x66, 0xc4, F_XGI, 0, I},
    {"pextrw", 0x66, 0xc5, F_GXRI, 0, I},
    {"movhpd", 0x66, 0x16, F_XM, 0, I},
    {"movhpd st", 0x66, 0x17, F_STM, 0, I},
    {"movlpd", 0x66, 0x12, F_XM, 0, I},
    {"movlpd st", 0x66, 0x13, F_STM, 0, I},
    {"movhps", 0, 0x16, F_XM, 0, I},
    {"movhps st", 0, 0x17, F_STM, 0, I},
    {"movlps", 0, 0x12, F_XM, 0, I},
    {"movlps st", 0, 0x13, F_STM, 0, I},
    {"movhlps", 0, 0x12, F_XR, 0, I},
    {"movlhps", 0, 0x16, F_XR, 0, I},
    {"unpckhps", 0, 0x15, F_X, 0, I},
    {"unpcklpd", 0x66, 0x14, F_X, 0, I},
    {"andnpd", 0x66, 0x55, F_X, 0, I},
    {"orpd", 0x66, 0x56, F_X, 0, I},
    {"movntdq", 0x66, 0xe7, F_STMA, 0, I},
    {"movntps", 0, 0x2b, F_STMA, 0, I},
    {"movntpd", 0x66, 0x2b, F_STMA, 0, I},
    {"maskmovdqu", 0x66, 0xf7, F_MASK, 0, I},
    {"movapd", 0x66, 0x28, F_X, 0, I},
    {"cvtps2pd", 0, 0x5a, F_XS, 0, P},
    {"cvtpd2ps", 0x66, 0x5a, F_X, 0, P},
    {"cvtps2dq", 0x66, 0x5b, F_X, 0, P},
    {"cvtpd2dq", 0xf2, 0xe6, F_X, 0, P},
    {"minpd", 0x66, 0x5d, F_X, 0, P},
    {"maxps", 0, 0x5f, F_X, 0, P},
    {"cmpss", 0xf3, 0xc2, F_XSI, 0, P},
    {"cmppd", 0x66, 0xc2, F_XI, 0, P},
    {"addsubpd", 0x66, 0xd0, F_X, 0, P},
    {"addsubps", 0xf2, 0xd0, F_X, 0, P},
    {"haddpd", 0x66, 0x7c, F_X, 0, P},
    {"haddps", 0xf2, 0x7c, F_X, 0, P},
    {"hsubpd", 0x66, 0x7d, F_X, 0, P},
    {"hsubps", 0xf2, 0x7d, F_X, 0, P},
    {"movddup", 0xf2, 0x12, F_XS, 0, I},
    {"movshdup", 0xf3, 0x16, F_X, 0, I},
    {"movsldup", 0xf3, 0x12, F_X, 0, I},
    {"lddqu", 0xf2, 0xf0, F_XMU, 0, I},
    {"pshufb", 0x66, 0x00, F_X, 0, I38},
    {"phaddw", 0x66, 0x01, F_X, 0, I38},
    {"phaddd", 0x66, 0x02, F_X, 0, I38},
    {"phaddsw", 0x66, 0x03, F_X, 0, I38},
    {"pmaddubsw", 0x66, 0x04, F_X, 0, I38},
    {"phsubw", 0x66, 0x05, F_X, 0, I38},
    {"phsubd", 0x66, 0x06, F_X, 0, I38},
    {"phsubsw", 0x66, 0x07, F_X, 0, I38},
    {"psignb", 0x66, 0x08, F_X, 0, I38},
    {"psignw", 0x66, 0x09, F_X, 0, I38},
    {"psignd", 0x66, 0x0a, F_X, 0, I38},
    {"pmulhrsw", 0x66, 0x0b, F_X, 0, I38},
    {"pabsb", 0x66, 0x1c, F_X, 0, I38},
    {"pabsw", 0x66, 0x1d, F_X, 0, I38},
    {"pabsd", 0x66, 0x1e, F_X, 0, I38},
    {"palignr", 0x66, 0x0f, F_XI, 0, I3A},
};
#undef I
#undef P
#undef I38
#undef I3A

const unsigned dt_nsse = sizeof(ops) / sizeof(ops[0]);

void dt_gen_sse(struct dt_gen *g, const struct dt_tmpl *t)
{
	const struct sse_op *o = &ops[(unsigned)t->a % dt_nsse];
	struct dt_enc e = {.mand = o->mand, .op = {0x0f, o->op}, .nop = 2, .has_modrm = 1};
	if (o->map) {
		e.op[1] = o->map;
		e.op[2] = o->op;
		e.nop = 3;
	}
	int f = o->form;
	int reg_only = f == F_SHI || f == F_GXR || f == F_XR || f == F_GXRI || f == F_MASK;
	int mem_only = f == F_XM || f == F_XMU || f == F_STM || f == F_STMA;
	int align = f == F_X || f == F_XI || f == F_ST || f == F_STMA;
	g->hi = 0;
	if (f == F_MASK) /* mov edi, somewhere in the data buffer */
		dt_mov_imm(g, 7, 4, DT_DATA + 0x800 + dt_rn(g, 0x3000));
	if (mem_only || (!reg_only && dt_chance(g, 35))) {
		dt_pick_mem(g, &e.rm, align);
		/* now and then a misaligned 16-byte operand: #GP(0) */
		if (align && dt_rn(g, 1000) < 4) {
			e.rm.mk = DT_MK_ABS;
			e.rm.disp = (int32_t)(DT_DATA + DT_BASE_OFF + 1 + dt_rn(g, 15));
		}
	}
	e.reg = (int)dt_rn(g, 16);
	if (!e.rm.is_mem)
		e.rm.reg = (int)dt_rn(g, 16);
	switch (f) {
	case F_SHI:
		e.reg = o->digit;
		e.imm_size = 1;
		e.imm = dt_chance(g, 70) ? dt_rn(g, 20) : dt_rn(g, 256);
		break;
	case F_XG:
		e.w = dt_chance(g, 50);
		break;
	case F_GX:
	case F_GXR:
	case F_GXRI:
		e.w = f == F_GX && dt_chance(g, 50);
		e.reg = dt_wreg(g, 8);
		break;
	case F_STG:
		e.w = dt_chance(g, 50);
		if (!e.rm.is_mem)
			e.rm.reg = dt_wreg(g, 8);
		break;
	default:
		break;
	}
	if (f == F_XI || f == F_XSI || f == F_XGI || f == F_GXRI) {
		e.imm_size = 1;
		e.imm = o->op == 0xc2 ? dt_rn(g, 8) : dt_rn(g, 256);
	}
	int cls = o->cls;
	if (cls == DT_C_SSE_FP && (g->s->init.mxcsr & 0x1f80) != 0x1f80)
		cls = DT_C_SSE_XM;
	dt_emit(g, &e, o->name, cls, 16);
	if (f == F_COMI)
		dt_flags(g, DT_ARITH, 0);
}
