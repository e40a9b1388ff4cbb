/* SPDX-License-Identifier: Apache-2.0 */
/* SSE2 integer operations on XMM registers and the SSE/SSE2 bitwise and
 * unpack operations. The two-operand forms run as the host instruction
 * (see sse_impl.h); the immediate forms (shuffles, shifts by imm8,
 * PINSRW/PEXTRW, SHUFPS/PD) are computed here. */
#include "vm/emu/sse_impl.h"

typedef void (*sse_k2)(sse_v *d, const sse_v *s);

#define K2(name)                                                                                   \
	static void k_##name(sse_v *d, const sse_v *s)                                             \
	{                                                                                          \
		__asm__(#name " %1, %0" : "+x"(d->x) : "x"(s->x));                                 \
	}
/* One name per line (clang-format reflows this table differently each run). */
/* clang-format off */
#define K2_LIST(X) \
	X(punpcklbw) \
	X(punpcklwd) \
	X(punpckldq) \
	X(packsswb) \
	X(pcmpgtb) \
	X(pcmpgtw) \
	X(pcmpgtd) \
	X(packuswb) \
	X(punpckhbw) \
	X(punpckhwd) \
	X(punpckhdq) \
	X(packssdw) \
	X(punpcklqdq) \
	X(punpckhqdq) \
	X(pcmpeqb) \
	X(pcmpeqw) \
	X(pcmpeqd) \
	X(psrlw) \
	X(psrld) \
	X(psrlq) \
	X(paddq) \
	X(pmullw) \
	X(psubusb) \
	X(psubusw) \
	X(pminub) \
	X(pand) \
	X(paddusb) \
	X(paddusw) \
	X(pmaxub) \
	X(pandn) \
	X(pavgb) \
	X(psraw) \
	X(psrad) \
	X(pavgw) \
	X(pmulhuw) \
	X(pmulhw) \
	X(psubsb) \
	X(psubsw) \
	X(pminsw) \
	X(por) \
	X(paddsb) \
	X(paddsw) \
	X(pmaxsw) \
	X(pxor) \
	X(psllw) \
	X(pslld) \
	X(psllq) \
	X(pmuludq) \
	X(pmaddwd) \
	X(psadbw) \
	X(psubb) \
	X(psubw) \
	X(psubd) \
	X(psubq) \
	X(paddb) \
	X(paddw) \
	X(paddd) \
	X(unpcklps) \
	X(unpckhps) \
	X(unpcklpd) \
	X(unpckhpd) \
	X(andps) \
	X(andnps) \
	X(orps) \
	X(xorps)
/* clang-format on */
K2_LIST(K2)

/* 66 0F xx */
static const sse_k2 tab66[256] = {
    [0x60] = k_punpcklbw,  [0x61] = k_punpcklwd,  [0x62] = k_punpckldq, [0x63] = k_packsswb,
    [0x64] = k_pcmpgtb,    [0x65] = k_pcmpgtw,    [0x66] = k_pcmpgtd,   [0x67] = k_packuswb,
    [0x68] = k_punpckhbw,  [0x69] = k_punpckhwd,  [0x6a] = k_punpckhdq, [0x6b] = k_packssdw,
    [0x6c] = k_punpcklqdq, [0x6d] = k_punpckhqdq, [0x74] = k_pcmpeqb,   [0x75] = k_pcmpeqw,
    [0x76] = k_pcmpeqd,    [0xd1] = k_psrlw,      [0xd2] = k_psrld,     [0xd3] = k_psrlq,
    [0xd4] = k_paddq,      [0xd5] = k_pmullw,     [0xd8] = k_psubusb,   [0xd9] = k_psubusw,
    [0xda] = k_pminub,     [0xdb] = k_pand,       [0xdc] = k_paddusb,   [0xdd] = k_paddusw,
    [0xde] = k_pmaxub,     [0xdf] = k_pandn,      [0xe0] = k_pavgb,     [0xe1] = k_psraw,
    [0xe2] = k_psrad,      [0xe3] = k_pavgw,      [0xe4] = k_pmulhuw,   [0xe5] = k_pmulhw,
    [0xe8] = k_psubsb,     [0xe9] = k_psubsw,     [0xea] = k_pminsw,    [0xeb] = k_por,
    [0xec] = k_paddsb,     [0xed] = k_paddsw,     [0xee] = k_pmaxsw,    [0xef] = k_pxor,
    [0xf1] = k_psllw,      [0xf2] = k_pslld,      [0xf3] = k_psllq,     [0xf4] = k_pmuludq,
    [0xf5] = k_pmaddwd,    [0xf6] = k_psadbw,     [0xf8] = k_psubb,     [0xf9] = k_psubw,
    [0xfa] = k_psubd,      [0xfb] = k_psubq,      [0xfc] = k_paddb,     [0xfd] = k_paddw,
    [0xfe] = k_paddd,      [0x14] = k_unpcklpd,   [0x15] = k_unpckhpd,  [0x54] = k_andps,
    [0x55] = k_andnps,     [0x56] = k_orps,       [0x57] = k_xorps,
};
/* 0F xx (no prefix); the bitwise PD forms above are the same operation */
static const sse_k2 tabnp[256] = {
    [0x14] = k_unpcklps, [0x15] = k_unpckhps, [0x54] = k_andps,
    [0x55] = k_andnps,   [0x56] = k_orps,     [0x57] = k_xorps,
};

sse_kern sse_int_kernel(unsigned op)
{
	return tab66[op & 0xff];
}

static int op_k2(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v d, s;
	sse_src(c, i, &s, 16, 1);
	sse_get(c, i->reg, &d);
	((i->pfx & EMU_PFX_66) ? tab66 : tabnp)[i->op](&d, &s);
	sse_put(c, i->reg, &d);
	EMU_NEXT(c, i);
}

/* PSHUFD (66), PSHUFHW (F3), PSHUFLW (F2) 0F 70 /r ib */
static int op_pshuf(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v s, d;
	sse_src(c, i, &s, 16, 1);
	unsigned m = (unsigned)i->imm;
	d = s;
	if (i->pfx & EMU_PFX_F3) {
		for (int k = 0; k < 4; k++)
			d.w[4 + k] = s.w[4 + ((m >> (2 * k)) & 3)];
	} else if (i->pfx & EMU_PFX_F2) {
		for (int k = 0; k < 4; k++)
			d.w[k] = s.w[(m >> (2 * k)) & 3];
	} else {
		for (int k = 0; k < 4; k++)
			d.d[k] = s.d[(m >> (2 * k)) & 3];
	}
	sse_put(c, i->reg, &d);
	EMU_NEXT(c, i);
}

/* 66 0F 71/72/73 /digit ib: shifts by an immediate, done as the register
 * form with the count in a vector; PSRLDQ/PSLLDQ shift bytes. */
static int op_shift_imm(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v d, cnt = {0};
	sse_get(c, i->rm, &d);
	unsigned n = (unsigned)(i->imm & 0xff);
	if (i->op == 0x73 && (i->ext == 3 || i->ext == 7)) {
		sse_v r = {0};
		for (unsigned k = 0; k < 16; k++) {
			if (i->ext == 3 && k + n < 16)
				r.b[k] = d.b[k + n];
			else if (i->ext == 7 && k >= n)
				r.b[k] = d.b[k - n];
		}
		sse_put(c, i->rm, &r);
		return 0;
	}
	cnt.q[0] = n;
	/* opcode 71/72/73 and /2 /4 /6 give the register form's opcode */
	static const uint8_t reg_op[3][8] = {
	    {[2] = 0xd1, [4] = 0xe1, [6] = 0xf1},
	    {[2] = 0xd2, [4] = 0xe2, [6] = 0xf2},
	    {[2] = 0xd3, [6] = 0xf3},
	};
	tab66[reg_op[i->op - 0x71][i->ext]](&d, &cnt);
	sse_put(c, i->rm, &d);
	EMU_NEXT(c, i);
}

/* SHUFPS (0F C6) / SHUFPD (66 0F C6): low half from the destination, high
 * half from the source */
static int op_shufp(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v d, s, r;
	sse_src(c, i, &s, 16, 1);
	sse_get(c, i->reg, &d);
	unsigned m = (unsigned)i->imm;
	if (i->pfx & EMU_PFX_66) {
		r.q[0] = d.q[m & 1];
		r.q[1] = s.q[(m >> 1) & 1];
	} else {
		r.d[0] = d.d[m & 3];
		r.d[1] = d.d[(m >> 2) & 3];
		r.d[2] = s.d[(m >> 4) & 3];
		r.d[3] = s.d[(m >> 6) & 3];
	}
	sse_put(c, i->reg, &r);
	EMU_NEXT(c, i);
}

/* PINSRW xmm, r32/m16, imm8 (66 0F C4) */
static int op_pinsrw(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	uint16_t v = i->mem ? emu_rd16(c, emu_ea(c, i)) : (uint16_t)c->s.gpr[i->rm];
	sse_v d;
	sse_get(c, i->reg, &d);
	d.w[i->imm & 7] = v;
	sse_put(c, i->reg, &d);
	EMU_NEXT(c, i);
}
/* PEXTRW r32, xmm, imm8 (66 0F C5) */
static int op_pextrw(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v s;
	sse_get(c, i->rm, &s);
	c->s.gpr[i->reg] = s.w[i->imm & 7];
	EMU_NEXT(c, i);
}

emu_fn sse_int_pick(const struct emu_insn *i)
{
	if (i->map != 1)
		return NULL;
	unsigned p = sse_pidx(i);
	switch (i->op) {
	case 0x70:
		return p ? op_pshuf : NULL;
	case 0x71:
	case 0x72:
	case 0x73: {
		if (p != 1 || i->mem)
			return NULL;
		static const uint8_t ok[3] = {0x54, 0x54, 0xcc}; /* valid /digits */
		return (ok[i->op - 0x71] >> i->ext) & 1 ? op_shift_imm : NULL;
	}
	case 0xc6:
		return p <= 1 ? op_shufp : NULL;
	case 0xc4:
		return p == 1 ? op_pinsrw : NULL;
	case 0xc5:
		return p == 1 && !i->mem ? op_pextrw : NULL;
	}
	if (p == 1 && tab66[i->op])
		return op_k2;
	if (p == 0 && tabnp[i->op])
		return op_k2;
	return NULL;
}
