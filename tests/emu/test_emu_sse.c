/* SPDX-License-Identifier: Apache-2.0 */
/* SSE/SSE2/SSE3/SSSE3 instructions of the software CPU against the host
 * CPU: each instruction form runs natively and emulated on the same random
 * inputs (special floating-point values, denormals, NaNs, infinities,
 * integer edge values, every MXCSR rounding mode with FTZ/DAZ), and the
 * results (registers, memory, MXCSR, flags) must be identical. Plus the
 * exceptions: #XM/#UD for unmasked MXCSR exceptions, #GP for misaligned
 * operands and reserved MXCSR bits, and RCPPS/RSQRTPS within their bound. */
#include "emu_diff.h"

#include <math.h>
#include <stdio.h>

/* data block (offsets from RDI) */
enum {
	D_X1 = 0x00,   /* xmm1 in */
	D_X2 = 0x10,   /* xmm2 in */
	D_RAX = 0x20,  /* rax in */
	D_RDX = 0x28,  /* rdx in */
	D_MEM = 0x30,  /* memory operand */
	D_MXIN = 0x40, /* mxcsr in */
	D_X1O = 0x50,  /* xmm1 out */
	D_RAXO = 0x60,
	D_MXO = 0x68,
	D_FLO = 0x70,
	D_MEMO = 0x80,
	D_X2O = 0x90,
	D_X0 = 0xa0,   /* xmm0 in (BLENDV*) */
	D_M1O = 0xb0,  /* mm1 out */
	D_M2O = 0xb8,  /* mm2 out */
	D_RCXO = 0xc0, /* rcx out */
	D_FX = 0x100,  /* FXSAVE image after an MMX instruction */
	D_SIZE = 0x300,
};

enum form {
	F_XX,  /* xmm1, xmm2/m */
	F_XI,  /* xmm1, xmm2/m, imm8 */
	F_GX,  /* rax, xmm2/m */
	F_GXR, /* rax, xmm2 (register only), imm8 if `imm` */
	F_XG,  /* xmm1, rax/m, imm8 if `imm` */
	F_ST,  /* xmm2/m <- xmm1 */
	F_STG, /* rax/m <- xmm1 */
	F_SHI, /* shift xmm1 by imm8, /digit */
	F_MEM, /* xmm1, m (memory only) */
	F_MST, /* m <- xmm1 (memory only) */
	F_MSG, /* m <- rax (memory only) */
	F_REG, /* xmm1, xmm2 (register only) */
};

struct sop {
	const char *name;
	uint8_t pfx, map, op, form, w, imm, digit;
	uint8_t sse41; /* needs SSE4.1 (1) or SSE4.2 (2) on the host */
	uint8_t o16;   /* a 66 prefix before the mandatory one */
	uint8_t mmx;   /* operands in MMX registers */
};

/* clang-format off */
#define SOP(n_, p_, m_, o_, f_, w_, i_, d_, x_) \
	{.name = n_, .pfx = p_, .map = m_, .op = o_, .form = f_, .w = w_, .imm = i_, .digit = d_, .sse41 = x_}
#define I(n, p, o, f)       SOP(n, p, 1, o, f, 0, 0, 0, 0)
#define IW(n, p, o, f)      SOP(n, p, 1, o, f, 1, 0, 0, 0)
#define II(n, p, o, f, imm) SOP(n, p, 1, o, f, 0, imm, 0, 0)
#define IS(n, o, d)         SOP(n, 0x66, 1, o, F_SHI, 0, 0xff, d, 0)
#define I38(n, o)           SOP(n, 0x66, 2, o, F_XX, 0, 0, 0, 0)
#define X38(n, o)           SOP(n, 0x66, 2, o, F_XX, 0, 0, 0, 1)
#define X3A(n, o, f, w)     SOP(n, 0x66, 3, o, f, w, 0xff, 0, 1)
/* clang-format on */

static const struct sop ops[] = {
    I("movups", 0, 0x10, F_XX),
    I("movupd", 0x66, 0x10, F_XX),
    I("movss", 0xf3, 0x10, F_XX),
    I("movsd", 0xf2, 0x10, F_XX),
    I("movups st", 0, 0x11, F_ST),
    I("movupd st", 0x66, 0x11, F_ST),
    I("movss st", 0xf3, 0x11, F_ST),
    I("movsd st", 0xf2, 0x11, F_ST),
    I("movlps", 0, 0x12, F_MEM),
    I("movhlps", 0, 0x12, F_REG),
    I("movlpd", 0x66, 0x12, F_MEM),
    I("movddup", 0xf2, 0x12, F_XX),
    I("movsldup", 0xf3, 0x12, F_XX),
    I("movlps st", 0, 0x13, F_MST),
    I("movlpd st", 0x66, 0x13, F_MST),
    I("unpcklps", 0, 0x14, F_XX),
    I("unpcklpd", 0x66, 0x14, F_XX),
    I("unpckhps", 0, 0x15, F_XX),
    I("unpckhpd", 0x66, 0x15, F_XX),
    I("movhps", 0, 0x16, F_MEM),
    I("movlhps", 0, 0x16, F_REG),
    I("movhpd", 0x66, 0x16, F_MEM),
    I("movshdup", 0xf3, 0x16, F_XX),
    I("movhps st", 0, 0x17, F_MST),
    I("movhpd st", 0x66, 0x17, F_MST),
    I("movaps", 0, 0x28, F_XX),
    I("movapd", 0x66, 0x28, F_XX),
    I("movaps st", 0, 0x29, F_ST),
    I("movapd st", 0x66, 0x29, F_ST),
    I("movntps", 0, 0x2b, F_MST),
    I("movntpd", 0x66, 0x2b, F_MST),
    I("movmskps", 0, 0x50, F_GXR),
    I("movmskpd", 0x66, 0x50, F_GXR),
    I("andps", 0, 0x54, F_XX),
    I("andpd", 0x66, 0x54, F_XX),
    I("andnps", 0, 0x55, F_XX),
    I("andnpd", 0x66, 0x55, F_XX),
    I("orps", 0, 0x56, F_XX),
    I("orpd", 0x66, 0x56, F_XX),
    I("xorps", 0, 0x57, F_XX),
    I("xorpd", 0x66, 0x57, F_XX),
    I("punpcklbw", 0x66, 0x60, F_XX),
    I("punpcklwd", 0x66, 0x61, F_XX),
    I("punpckldq", 0x66, 0x62, F_XX),
    I("packsswb", 0x66, 0x63, F_XX),
    I("pcmpgtb", 0x66, 0x64, F_XX),
    I("pcmpgtw", 0x66, 0x65, F_XX),
    I("pcmpgtd", 0x66, 0x66, F_XX),
    I("packuswb", 0x66, 0x67, F_XX),
    I("punpckhbw", 0x66, 0x68, F_XX),
    I("punpckhwd", 0x66, 0x69, F_XX),
    I("punpckhdq", 0x66, 0x6a, F_XX),
    I("packssdw", 0x66, 0x6b, F_XX),
    I("punpcklqdq", 0x66, 0x6c, F_XX),
    I("punpckhqdq", 0x66, 0x6d, F_XX),
    I("movd x,r", 0x66, 0x6e, F_XG),
    IW("movq x,r", 0x66, 0x6e, F_XG),
    I("movdqa", 0x66, 0x6f, F_XX),
    I("movdqu", 0xf3, 0x6f, F_XX),
    II("pshufd", 0x66, 0x70, F_XI, 0xff),
    II("pshufhw", 0xf3, 0x70, F_XI, 0xff),
    II("pshuflw", 0xf2, 0x70, F_XI, 0xff),
    IS("psrlw i", 0x71, 2),
    IS("psraw i", 0x71, 4),
    IS("psllw i", 0x71, 6),
    IS("psrld i", 0x72, 2),
    IS("psrad i", 0x72, 4),
    IS("pslld i", 0x72, 6),
    IS("psrlq i", 0x73, 2),
    IS("psrldq", 0x73, 3),
    IS("psllq i", 0x73, 6),
    IS("pslldq", 0x73, 7),
    I("pcmpeqb", 0x66, 0x74, F_XX),
    I("pcmpeqw", 0x66, 0x75, F_XX),
    I("pcmpeqd", 0x66, 0x76, F_XX),
    I("movd r,x", 0x66, 0x7e, F_STG),
    IW("movq r,x", 0x66, 0x7e, F_STG),
    I("movq x,xm", 0xf3, 0x7e, F_XX),
    I("movdqa st", 0x66, 0x7f, F_ST),
    I("movdqu st", 0xf3, 0x7f, F_ST),
    I("movnti", 0, 0xc3, F_MSG),
    IW("movnti q", 0, 0xc3, F_MSG),
    II("pinsrw", 0x66, 0xc4, F_XG, 0xff),
    II("pextrw", 0x66, 0xc5, F_GXR, 0xff),
    II("shufps", 0, 0xc6, F_XI, 0xff),
    II("shufpd", 0x66, 0xc6, F_XI, 0xff),
    I("psrlw", 0x66, 0xd1, F_XX),
    I("psrld", 0x66, 0xd2, F_XX),
    I("psrlq", 0x66, 0xd3, F_XX),
    I("paddq", 0x66, 0xd4, F_XX),
    I("pmullw", 0x66, 0xd5, F_XX),
    I("movq st", 0x66, 0xd6, F_ST),
    I("pmovmskb", 0x66, 0xd7, F_GXR),
    I("psubusb", 0x66, 0xd8, F_XX),
    I("psubusw", 0x66, 0xd9, F_XX),
    I("pminub", 0x66, 0xda, F_XX),
    I("pand", 0x66, 0xdb, F_XX),
    I("paddusb", 0x66, 0xdc, F_XX),
    I("paddusw", 0x66, 0xdd, F_XX),
    I("pmaxub", 0x66, 0xde, F_XX),
    I("pandn", 0x66, 0xdf, F_XX),
    I("pavgb", 0x66, 0xe0, F_XX),
    I("psraw", 0x66, 0xe1, F_XX),
    I("psrad", 0x66, 0xe2, F_XX),
    I("pavgw", 0x66, 0xe3, F_XX),
    I("pmulhuw", 0x66, 0xe4, F_XX),
    I("pmulhw", 0x66, 0xe5, F_XX),
    I("movntdq", 0x66, 0xe7, F_MST),
    I("psubsb", 0x66, 0xe8, F_XX),
    I("psubsw", 0x66, 0xe9, F_XX),
    I("pminsw", 0x66, 0xea, F_XX),
    I("por", 0x66, 0xeb, F_XX),
    I("paddsb", 0x66, 0xec, F_XX),
    I("paddsw", 0x66, 0xed, F_XX),
    I("pmaxsw", 0x66, 0xee, F_XX),
    I("pxor", 0x66, 0xef, F_XX),
    I("lddqu", 0xf2, 0xf0, F_MEM),
    I("psllw", 0x66, 0xf1, F_XX),
    I("pslld", 0x66, 0xf2, F_XX),
    I("psllq", 0x66, 0xf3, F_XX),
    I("pmuludq", 0x66, 0xf4, F_XX),
    I("pmaddwd", 0x66, 0xf5, F_XX),
    I("psadbw", 0x66, 0xf6, F_XX),
    I("maskmovdqu", 0x66, 0xf7, F_REG),
    I("psubb", 0x66, 0xf8, F_XX),
    I("psubw", 0x66, 0xf9, F_XX),
    I("psubd", 0x66, 0xfa, F_XX),
    I("psubq", 0x66, 0xfb, F_XX),
    I("paddb", 0x66, 0xfc, F_XX),
    I("paddw", 0x66, 0xfd, F_XX),
    I("paddd", 0x66, 0xfe, F_XX),
    /* SSSE3 */
    I38("pshufb", 0x00),
    I38("phaddw", 0x01),
    I38("phaddd", 0x02),
    I38("phaddsw", 0x03),
    I38("pmaddubsw", 0x04),
    I38("phsubw", 0x05),
    I38("phsubd", 0x06),
    I38("phsubsw", 0x07),
    I38("psignb", 0x08),
    I38("psignw", 0x09),
    I38("psignd", 0x0a),
    I38("pmulhrsw", 0x0b),
    I38("pabsb", 0x1c),
    I38("pabsw", 0x1d),
    I38("pabsd", 0x1e),
    SOP("palignr", 0x66, 3, 0x0f, F_XI, 0, 0xff, 0, 0),
    /* SSE4.1 */
    X38("pblendvb", 0x10),
    X38("blendvps", 0x14),
    X38("blendvpd", 0x15),
    X38("ptest", 0x17),
    X38("pmovsxbw", 0x20),
    X38("pmovsxbd", 0x21),
    X38("pmovsxbq", 0x22),
    X38("pmovsxwd", 0x23),
    X38("pmovsxwq", 0x24),
    X38("pmovsxdq", 0x25),
    X38("pmuldq", 0x28),
    X38("pcmpeqq", 0x29),
    SOP("movntdqa", 0x66, 2, 0x2a, F_MEM, 0, 0, 0, 1),
    X38("packusdw", 0x2b),
    X38("pmovzxbw", 0x30),
    X38("pmovzxbd", 0x31),
    X38("pmovzxbq", 0x32),
    X38("pmovzxwd", 0x33),
    X38("pmovzxwq", 0x34),
    X38("pmovzxdq", 0x35),
    X38("pminsb", 0x38),
    X38("pminsd", 0x39),
    X38("pminuw", 0x3a),
    X38("pminud", 0x3b),
    X38("pmaxsb", 0x3c),
    X38("pmaxsd", 0x3d),
    X38("pmaxuw", 0x3e),
    X38("pmaxud", 0x3f),
    X38("pmulld", 0x40),
    X38("phminposuw", 0x41),
    X3A("blendps", 0x0c, F_XI, 0),
    X3A("blendpd", 0x0d, F_XI, 0),
    X3A("pblendw", 0x0e, F_XI, 0),
    X3A("pextrb", 0x14, F_STG, 0),
    X3A("pextrw", 0x15, F_STG, 0),
    X3A("pextrd", 0x16, F_STG, 0),
    X3A("pextrq", 0x16, F_STG, 1),
    X3A("extractps", 0x17, F_STG, 0),
    X3A("pinsrb", 0x20, F_XG, 0),
    X3A("insertps", 0x21, F_XI, 0),
    X3A("pinsrd", 0x22, F_XG, 0),
    X3A("pinsrq", 0x22, F_XG, 1),
    X3A("mpsadbw", 0x42, F_XI, 0),
    /* SSE4.2 */
    {.name = "pcmpgtq", .pfx = 0x66, .map = 2, .op = 0x37, .form = F_XX, .sse41 = 2},
    {.name = "pcmpestrm", .pfx = 0x66, .map = 3, .op = 0x60, .form = F_XI, .imm = 0x7f, .sse41 = 2},
    {.name = "pcmpestri", .pfx = 0x66, .map = 3, .op = 0x61, .form = F_XI, .imm = 0x7f, .sse41 = 2},
    {.name = "pcmpestrm q",
     .pfx = 0x66,
     .map = 3,
     .op = 0x60,
     .form = F_XI,
     .w = 1,
     .imm = 0x7f,
     .sse41 = 2},
    {.name = "pcmpestri q",
     .pfx = 0x66,
     .map = 3,
     .op = 0x61,
     .form = F_XI,
     .w = 1,
     .imm = 0x7f,
     .sse41 = 2},
    {.name = "pcmpistrm", .pfx = 0x66, .map = 3, .op = 0x62, .form = F_XI, .imm = 0x7f, .sse41 = 2},
    {.name = "pcmpistri", .pfx = 0x66, .map = 3, .op = 0x63, .form = F_XI, .imm = 0x7f, .sse41 = 2},
    {.name = "crc32b", .pfx = 0xf2, .map = 2, .op = 0xf0, .form = F_GX, .sse41 = 2},
    {.name = "crc32b q", .pfx = 0xf2, .map = 2, .op = 0xf0, .form = F_GX, .w = 1, .sse41 = 2},
    {.name = "crc32w", .pfx = 0xf2, .map = 2, .op = 0xf1, .form = F_GX, .o16 = 1, .sse41 = 2},
    {.name = "crc32l", .pfx = 0xf2, .map = 2, .op = 0xf1, .form = F_GX, .sse41 = 2},
    {.name = "crc32q", .pfx = 0xf2, .map = 2, .op = 0xf1, .form = F_GX, .w = 1, .sse41 = 2},
};

#define FP4(n, o)                                                                                  \
	I(n "ps", 0, o, F_XX), I(n "pd", 0x66, o, F_XX), I(n "ss", 0xf3, o, F_XX),                 \
	    I(n "sd", 0xf2, o, F_XX)
static const struct sop fops[] = {
    FP4("sqrt", 0x51),
    FP4("add", 0x58),
    FP4("mul", 0x59),
    FP4("sub", 0x5c),
    FP4("min", 0x5d),
    FP4("div", 0x5e),
    FP4("max", 0x5f),
    II("cmpps", 0, 0xc2, F_XI, 7),
    II("cmppd", 0x66, 0xc2, F_XI, 7),
    II("cmpss", 0xf3, 0xc2, F_XI, 7),
    II("cmpsd", 0xf2, 0xc2, F_XI, 7),
    I("cvtps2pd", 0, 0x5a, F_XX),
    I("cvtpd2ps", 0x66, 0x5a, F_XX),
    I("cvtss2sd", 0xf3, 0x5a, F_XX),
    I("cvtsd2ss", 0xf2, 0x5a, F_XX),
    I("cvtdq2ps", 0, 0x5b, F_XX),
    I("cvtps2dq", 0x66, 0x5b, F_XX),
    I("cvttps2dq", 0xf3, 0x5b, F_XX),
    I("cvttpd2dq", 0x66, 0xe6, F_XX),
    I("cvtdq2pd", 0xf3, 0xe6, F_XX),
    I("cvtpd2dq", 0xf2, 0xe6, F_XX),
    I("cvtsi2ss", 0xf3, 0x2a, F_XG),
    IW("cvtsi2ss q", 0xf3, 0x2a, F_XG),
    I("cvtsi2sd", 0xf2, 0x2a, F_XG),
    IW("cvtsi2sd q", 0xf2, 0x2a, F_XG),
    I("cvttss2si", 0xf3, 0x2c, F_GX),
    IW("cvttss2si q", 0xf3, 0x2c, F_GX),
    I("cvttsd2si", 0xf2, 0x2c, F_GX),
    IW("cvttsd2si q", 0xf2, 0x2c, F_GX),
    I("cvtss2si", 0xf3, 0x2d, F_GX),
    IW("cvtss2si q", 0xf3, 0x2d, F_GX),
    I("cvtsd2si", 0xf2, 0x2d, F_GX),
    IW("cvtsd2si q", 0xf2, 0x2d, F_GX),
    I("ucomiss", 0, 0x2e, F_XX),
    I("ucomisd", 0x66, 0x2e, F_XX),
    I("comiss", 0, 0x2f, F_XX),
    I("comisd", 0x66, 0x2f, F_XX),
    I("addsubpd", 0x66, 0xd0, F_XX),
    I("addsubps", 0xf2, 0xd0, F_XX),
    I("haddpd", 0x66, 0x7c, F_XX),
    I("haddps", 0xf2, 0x7c, F_XX),
    I("hsubpd", 0x66, 0x7d, F_XX),
    I("hsubps", 0xf2, 0x7d, F_XX),
    /* SSE4.1 */
    SOP("roundps", 0x66, 3, 0x08, F_XI, 0, 0x0f, 0, 1),
    SOP("roundpd", 0x66, 3, 0x09, F_XI, 0, 0x0f, 0, 1),
    SOP("roundss", 0x66, 3, 0x0a, F_XI, 0, 0x0f, 0, 1),
    SOP("roundsd", 0x66, 3, 0x0b, F_XI, 0, 0x0f, 0, 1),
    X3A("dpps", 0x40, F_XI, 0),
    X3A("dppd", 0x41, F_XI, 0),
};

/* ---- inputs ---- */
static void rnd_vec(uint64_t *r, uint8_t *v)
{
	uint64_t k = dr_next(r) % 5;
	if (k == 4) { /* text from a small alphabet with NULs: string compares match */
		static const uint8_t abc[5] = {0, 'a', 'b', 'c', 'a'};
		unsigned nul = (dr_next(r) & 1) ? 0 : 1;
		for (int j = 0; j < 16; j++)
			v[j] = abc[dr_next(r) % 4 + nul];
		return;
	}
	for (int j = 0; j < 4; j++) {
		if (k == 0) {
			uint32_t x = rnd_f32(r);
			memcpy(v + 4 * j, &x, 4);
		} else if (k == 1 && j < 2) {
			uint64_t x = rnd_f64(r);
			memcpy(v + 8 * j, &x, 8);
		} else if (k >= 2) {
			uint32_t x = (uint32_t)dr_next(r);
			if (k == 3) /* small and edge integers */
				x = (uint32_t)((int32_t)(x % 0x300) - 0x180) ^
				    ((x & 0x100000) ? 0x80000000u : 0);
			memcpy(v + 4 * j, &x, 4);
		}
	}
}
static uint64_t rnd_gpr(uint64_t *r)
{
	static const uint64_t edge[] = {0,
	                                1,
	                                (uint64_t)-1,
	                                0x7fffffff,
	                                0x80000000,
	                                0x7fffffffffffffffULL,
	                                0x8000000000000000ULL,
	                                0xffff,
	                                0x1000001,
	                                0x20000000000001ULL};
	uint64_t x = dr_next(r);
	if (x % 3 == 0)
		return edge[(x >> 8) % 10];
	return x % 3 == 1 ? (uint64_t)(int64_t)(int32_t)(x >> 32) : dr_next(r);
}
static void rnd_data(uint64_t *r, uint8_t *d, int fp)
{
	memset(d, 0, D_SIZE);
	rnd_vec(r, d + D_X1);
	rnd_vec(r, d + D_X2);
	rnd_vec(r, d + D_MEM);
	rnd_vec(r, d + D_X0);
	uint64_t g = rnd_gpr(r);
	if (dr_next(r) & 1) /* string lengths */
		g = (uint64_t)((int64_t)(dr_next(r) % 41) - 20);
	memcpy(d + D_RAX, &g, 8);
	g = (dr_next(r) & 1) ? (uint64_t)((int64_t)(dr_next(r) % 41) - 20) : rnd_gpr(r);
	memcpy(d + D_RDX, &g, 8);
	uint64_t x = dr_next(r);
	uint32_t mx = 0x1f80;
	if (fp)
		mx |= (uint32_t)((x & 3) << 13) | ((x & 4) ? 0x8000 : 0) | ((x & 8) ? 0x40 : 0) |
		      ((x & 0x10) ? (uint32_t)(x >> 8) & 0x3f : 0);
	memcpy(d + D_MXIN, &mx, 4);
}

/* ---- code ---- */
/* the instruction under test; `mem`: the r/m operand is D_MEM(%rdi) */
static void emit_op(struct dcode *c, const struct sop *o, int mem, uint8_t imm)
{
	unsigned reg, rm;
	switch (o->form) {
	case F_GX:
	case F_GXR:
		reg = 0, rm = 2;
		break;
	case F_XG:
	case F_STG:
		reg = 1, rm = 0;
		break;
	case F_MSG:
		reg = 0, rm = 0;
		break;
	case F_SHI:
		reg = o->digit, rm = 1;
		break;
	default:
		reg = 1, rm = 2;
		break;
	}
	if (o->o16)
		DC(c, 0x66);
	if (o->pfx)
		dc_put(c, &o->pfx, 1);
	if (o->w)
		DC(c, 0x48);
	DC(c, 0x0f);
	if (o->map == 2)
		DC(c, 0x38);
	if (o->map == 3)
		DC(c, 0x3a);
	dc_put(c, &o->op, 1);
	uint8_t m[2] = {(uint8_t)(0x47 | reg << 3), D_MEM};
	if (mem)
		dc_put(c, m, 2);
	else
		m[0] = (uint8_t)(0xc0 | reg << 3 | rm), dc_put(c, m, 1);
	if (o->imm)
		dc_put(c, &imm, 1);
}

static void build(struct dcode *c, const struct sop *o, int mem, uint8_t imm)
{
	c->n = 0;
	DC(c, 0x0f, 0xae, 0x57, D_MXIN);              /* ldmxcsr */
	DC(c, 0xf3, 0x0f, 0x6f, 0x0f);                /* movdqu (%rdi), %xmm1 */
	DC(c, 0xf3, 0x0f, 0x6f, 0x57, D_X2);          /* movdqu 0x10(%rdi), %xmm2 */
	DC(c, 0xf3, 0x0f, 0x6f, 0x87, D_X0, 0, 0, 0); /* movdqu D_X0(%rdi), %xmm0 */
	DC(c, 0x48, 0x8b, 0x47, D_RAX);               /* mov 0x20(%rdi), %rax */
	DC(c, 0x48, 0x8b, 0x57, D_RDX);               /* mov 0x28(%rdi), %rdx */
	if (o->mmx) {
		DC(c, 0xdb, 0xe3);             /* fninit */
		DC(c, 0x0f, 0x6f, 0x0f);       /* movq (%rdi), %mm1 */
		DC(c, 0x0f, 0x6f, 0x57, D_X2); /* movq 0x10(%rdi), %mm2 */
	}
	DC(c, 0x31, 0xc9); /* xor %ecx, %ecx: known flags */
	emit_op(c, o, mem, imm);
	DC(c, 0x48, 0x89, 0x8f, D_RCXO, 0, 0, 0);   /* mov %rcx, D_RCXO(%rdi) */
	DC(c, 0x9c, 0x59, 0x48, 0x89, 0x4f, D_FLO); /* pushfq; pop %rcx; mov %rcx, FLO */
	DC(c, 0xf3, 0x0f, 0x7f, 0x4f, D_X1O);
	DC(c, 0xf3, 0x0f, 0x7f, 0x97, D_X2O, 0, 0, 0);
	DC(c, 0x48, 0x89, 0x47, D_RAXO);
	DC(c, 0x0f, 0xae, 0x5f, D_MXO); /* stmxcsr */
	DC(c, 0xf3, 0x0f, 0x6f, 0x5f, D_MEM);
	DC(c, 0xf3, 0x0f, 0x7f, 0x9f, D_MEMO, 0, 0, 0);
	if (o->mmx) {
		DC(c, 0x0f, 0x7f, 0x8f, D_M1O, 0, 0, 0); /* movq %mm1, D_M1O(%rdi) */
		DC(c, 0x0f, 0x7f, 0x97, D_M2O, 0, 0, 0);
		DC(c, 0x0f, 0xae, 0x87, 0x00, 0x01, 0, 0); /* fxsave D_FX(%rdi) */
		DC(c, 0x0f, 0x77);                         /* emms */
	}
	DC(c, 0xc3);
}

static void hex(char *out, const uint8_t *p, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		sprintf(out + 2 * k, "%02x", p[n - 1 - k]);
}

/* Keeps what must agree: the arithmetic flags but AF (undefined after the
 * XOR that sets known flags), and of the FXSAVE image after an MMX
 * instruction the control, status and tag words and MM1/MM2 (the other
 * registers hold whatever the host had). */
static void normalize(uint8_t *d)
{
	uint64_t fl;
	memcpy(&fl, d + D_FLO, 8);
	fl &= 0x8c5;
	memcpy(d + D_FLO, &fl, 8);
	uint8_t *fx = d + D_FX;
	memset(fx + 6, 0, 32 - 6);
	memset(fx + 32, 0, 16);
	memset(fx + 32 + 16 + 10, 0, 6);
	memset(fx + 32 + 32 + 10, 0, 512 - 32 - 32 - 10);
}

/* Runs every form of every op on `rounds` random inputs; returns the number of runs. */
static unsigned diff_ops(const struct sop *tab, size_t n, unsigned rounds, int fp, uint64_t seed)
{
	uint8_t *page = dn_page();
	if (!page)
		skip();
	struct tmach t;
	tm_init(&t);
	uint64_t r = seed;
	unsigned runs = 0;
	uint8_t in[D_SIZE] __attribute__((aligned(64)));
	uint8_t nat[D_SIZE] __attribute__((aligned(64)));
	uint8_t emu[D_SIZE];
	for (size_t k = 0; k < n; k++) {
		const struct sop *o = &tab[k];
		if ((o->sse41 == 1 && !__builtin_cpu_supports("sse4.1")) ||
		    (o->sse41 == 2 && !__builtin_cpu_supports("sse4.2")))
			continue; /* no reference on this host */
		for (int mem = 0; mem < 2; mem++) {
			if ((mem && (o->form == F_GXR || o->form == F_REG || o->form == F_SHI)) ||
			    (!mem && (o->form == F_MEM || o->form == F_MST || o->form == F_MSG)))
				continue;
			for (unsigned j = 0; j < rounds; j++) {
				uint8_t imm = (uint8_t)(dr_next(&r) & o->imm);
				if (o->form == F_SHI && (imm & 0x80))
					imm &= 0x1f;
				struct dcode c;
				build(&c, o, mem, imm);
				rnd_data(&r, in, fp);
				memcpy(nat, in, D_SIZE);
				memcpy(emu, in, D_SIZE);
				uint32_t host_mx = __builtin_ia32_stmxcsr();
				dn_run(page, &c, nat);
				__builtin_ia32_ldmxcsr(host_mx);
				de_run(&t, &c, emu, D_SIZE);
				normalize(nat);
				normalize(emu);
				if (memcmp(nat, emu, D_SIZE) != 0) {
					for (unsigned q = 0; q < D_SIZE; q += 16) {
						if (!memcmp(nat + q, emu + q, 16))
							continue;
						char a[33], b[33], x[33];
						hex(x, in + q, 16);
						hex(a, nat + q, 16);
						hex(b, emu + q, 16);
						print_error("offset %#x in %s host %s emu %s\n", q,
						            x, a, b);
					}
					fail_msg("%s %02x (%s, imm %#x)", o->name, o->op,
					         mem ? "mem" : "reg", imm);
				}
				runs++;
			}
		}
	}
	tm_fini(&t);
	munmap(page, 4096);
	return runs;
}

static void test_sse_int_diff(void **st)
{
	(void)st;
	unsigned n = diff_ops(ops, sizeof(ops) / sizeof(ops[0]), 40, 0, 0x1234567);
	print_message("%u runs\n", n);
	assert_true(n > 5000);
}

static void test_sse_fp_diff(void **st)
{
	(void)st;
	unsigned n = diff_ops(fops, sizeof(fops) / sizeof(fops[0]), 300, 1, 0x7654321);
	print_message("%u runs\n", n);
	assert_true(n > 30000);
}

/* ---- MMX ---- */
/* clang-format off */
#define MX(n_, p_, m_, o_, f_, w_, i_, d_) \
	{.name = n_, .pfx = p_, .map = m_, .op = o_, .form = f_, .w = w_, .imm = i_, .digit = d_, .mmx = 1}
/* clang-format on */
static const struct sop mmx_ops[] = {
    MX("movd mm,r", 0, 1, 0x6e, F_XG, 0, 0, 0),   MX("movq mm,r", 0, 1, 0x6e, F_XG, 1, 0, 0),
    MX("movq mm,mm", 0, 1, 0x6f, F_XX, 0, 0, 0),  MX("movd r,mm", 0, 1, 0x7e, F_STG, 0, 0, 0),
    MX("movq r,mm", 0, 1, 0x7e, F_STG, 1, 0, 0),  MX("movq mm/m,mm", 0, 1, 0x7f, F_ST, 0, 0, 0),
    MX("movntq", 0, 1, 0xe7, F_MST, 0, 0, 0),     MX("pshufw", 0, 1, 0x70, F_XI, 0, 0xff, 0),
    MX("psrlw i", 0, 1, 0x71, F_SHI, 0, 0xff, 2), MX("psraw i", 0, 1, 0x71, F_SHI, 0, 0xff, 4),
    MX("psllw i", 0, 1, 0x71, F_SHI, 0, 0xff, 6), MX("psrld i", 0, 1, 0x72, F_SHI, 0, 0xff, 2),
    MX("psrad i", 0, 1, 0x72, F_SHI, 0, 0xff, 4), MX("pslld i", 0, 1, 0x72, F_SHI, 0, 0xff, 6),
    MX("psrlq i", 0, 1, 0x73, F_SHI, 0, 0xff, 2), MX("psllq i", 0, 1, 0x73, F_SHI, 0, 0xff, 6),
    MX("pinsrw", 0, 1, 0xc4, F_XG, 0, 0xff, 0),   MX("pextrw", 0, 1, 0xc5, F_GXR, 0, 0xff, 0),
    MX("pmovmskb", 0, 1, 0xd7, F_GXR, 0, 0, 0),   MX("maskmovq", 0, 1, 0xf7, F_REG, 0, 0, 0),
    MX("movq2dq", 0xf3, 1, 0xd6, F_REG, 0, 0, 0), MX("movdq2q", 0xf2, 1, 0xd6, F_REG, 0, 0, 0),
    MX("palignr", 0, 3, 0x0f, F_XI, 0, 0xff, 0),
};
static const struct sop mmx_fops[] = {
    MX("cvtpi2ps", 0, 1, 0x2a, F_XX, 0, 0, 0),  MX("cvtpi2pd", 0x66, 1, 0x2a, F_XX, 0, 0, 0),
    MX("cvttps2pi", 0, 1, 0x2c, F_XX, 0, 0, 0), MX("cvttpd2pi", 0x66, 1, 0x2c, F_XX, 0, 0, 0),
    MX("cvtps2pi", 0, 1, 0x2d, F_XX, 0, 0, 0),  MX("cvtpd2pi", 0x66, 1, 0x2d, F_XX, 0, 0, 0),
};

/* every MMX form: the two-operand integer ops (0F 60-6B, 74-76, D1-FE
 * and the SSSE3 0F 38 ones) and the table above */
static void test_mmx_diff(void **st)
{
	(void)st;
	static struct sop tab[128];
	size_t n = 0;
	for (unsigned op = 0x60; op <= 0xfe; op++) {
		if ((op >= 0x60 && op <= 0x6b) || (op >= 0x74 && op <= 0x76) ||
		    (op >= 0xd1 && op <= 0xd5) || (op >= 0xd8 && op <= 0xe5) ||
		    (op >= 0xe8 && op <= 0xef) || (op >= 0xf1 && op <= 0xf6) || (op >= 0xf8))
			tab[n++] = (struct sop){.name = "mmx 0f op",
			                        .map = 1,
			                        .op = (uint8_t)op,
			                        .form = F_XX,
			                        .mmx = 1};
	}
	for (unsigned op = 0; op <= 0x1e; op++)
		if (op <= 0x0b || op >= 0x1c)
			tab[n++] = (struct sop){.name = "mmx 0f 38 op",
			                        .map = 2,
			                        .op = (uint8_t)op,
			                        .form = F_XX,
			                        .mmx = 1};
	for (size_t k = 0; k < sizeof(mmx_ops) / sizeof(mmx_ops[0]); k++)
		tab[n++] = mmx_ops[k];
	unsigned runs = diff_ops(tab, n, 40, 0, 0xabc);
	runs += diff_ops(mmx_fops, sizeof(mmx_fops) / sizeof(mmx_fops[0]), 200, 1, 0xabd);
	print_message("%u runs\n", runs);
	assert_true(runs > 7000);
}

/* ---- exceptions ---- */
static uint32_t fx_mxcsr(const struct x86_vcpu_state *s)
{
	uint32_t m;
	memcpy(&m, &s->fx.bytes[24], 4);
	return m;
}

static void test_sse_exceptions(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	float one = 1.0f, zero = 0.0f;
	uint32_t mx_ze = 0x1f80 & ~0x200u; /* divide-by-zero unmasked */
	memcpy(t.ram + TM_DATA, &one, 4);
	memcpy(t.ram + TM_DATA + 4, &zero, 4);
	memcpy(t.ram + TM_DATA + 8, &mx_ze, 4);
	struct dcode c = {.n = 0};
	DC(&c, 0x0f, 0xae, 0x57, 8);          /* ldmxcsr 8(%rdi) */
	DC(&c, 0xf3, 0x0f, 0x10, 0x0f);       /* movss (%rdi), %xmm1 */
	DC(&c, 0xf3, 0x0f, 0x5e, 0x4f, 4);    /* divss 4(%rdi), %xmm1 */
	DC(&c, 0x49, 0xc7, 0xc7, 0, 0, 0, 0); /* mov $0, %r15 */
	DC(&c, 0xf4);
	/* unmasked ZE: #XM, xmm1 unchanged, ZE flag set */
	struct x86_vcpu_state s = run_exc(&t, &c, 0, 0);
	assert_int_equal(s.gpr[X86_R15], 19);
	assert_memory_equal(&s.fx.bytes[160 + 16], &one, 4);
	assert_int_equal(fx_mxcsr(&s) & 0x3f, 0x4);
	/* without CR4.OSXMMEXCPT: #UD */
	s = run_exc(&t, &c, 0x400, 0);
	assert_int_equal(s.gpr[X86_R15], 6);
	/* masked: the result is +inf and the flag is set */
	uint32_t mx = 0x1f80;
	memcpy(t.ram + TM_DATA + 8, &mx, 4);
	s = run_exc(&t, &c, 0, 0);
	assert_int_equal(s.gpr[X86_R15], 0);
	uint32_t r;
	memcpy(&r, &s.fx.bytes[160 + 16], 4);
	assert_int_equal(r, 0x7f800000);
	assert_int_equal(fx_mxcsr(&s), 0x1f84);
	/* underflow unmasked: an exact tiny product (2^-70 * 2^-70 = 2^-140, a
	 * denormal) raises #XM with UE, and the destination keeps its value */
	float tiny = 0x1p-70f;
	uint32_t mx_ue = 0x1f80 & ~0x800u;
	memcpy(t.ram + TM_DATA, &tiny, 4);
	memcpy(t.ram + TM_DATA + 4, &tiny, 4);
	memcpy(t.ram + TM_DATA + 8, &mx_ue, 4);
	c.n = 0;
	DC(&c, 0x0f, 0xae, 0x57, 8);          /* ldmxcsr 8(%rdi) */
	DC(&c, 0xf3, 0x0f, 0x10, 0x0f);       /* movss (%rdi), %xmm1 */
	DC(&c, 0xf3, 0x0f, 0x59, 0x4f, 4);    /* mulss 4(%rdi), %xmm1 */
	DC(&c, 0x49, 0xc7, 0xc7, 0, 0, 0, 0); /* mov $0, %r15 */
	DC(&c, 0xf4);
	s = run_exc(&t, &c, 0, 0);
	assert_int_equal(s.gpr[X86_R15], 19);
	assert_int_equal(fx_mxcsr(&s) & 0x3f, 0x10);
	assert_memory_equal(&s.fx.bytes[160 + 16], &tiny, 4);
	/* masked, the same product is exact: no flag at all */
	mx_ue = 0x1f80;
	memcpy(t.ram + TM_DATA + 8, &mx_ue, 4);
	s = run_exc(&t, &c, 0, 0);
	assert_int_equal(s.gpr[X86_R15], 0);
	assert_int_equal(fx_mxcsr(&s) & 0x3f, 0);
	/* back to the divide-by-zero code */
	c.n = 0;
	DC(&c, 0x0f, 0xae, 0x57, 8);
	DC(&c, 0xf3, 0x0f, 0x10, 0x0f);
	DC(&c, 0xf3, 0x0f, 0x5e, 0x4f, 4);
	DC(&c, 0x49, 0xc7, 0xc7, 0, 0, 0, 0);
	DC(&c, 0xf4);
	memcpy(t.ram + TM_DATA, &one, 4);
	memcpy(t.ram + TM_DATA + 4, &zero, 4);
	/* CR0.TS: #NM; without CR4.OSFXSR: #UD */
	s = run_exc(&t, &c, 0, 8);
	assert_int_equal(s.gpr[X86_R15], 7);
	s = run_exc(&t, &c, 0x200, 0);
	assert_int_equal(s.gpr[X86_R15], 6);
	/* LDMXCSR with a reserved bit: #GP */
	mx = 0x11f80;
	memcpy(t.ram + TM_DATA + 8, &mx, 4);
	s = run_exc(&t, &c, 0, 0);
	assert_int_equal(s.gpr[X86_R15], 13);
	/* MOVAPS from a misaligned address: #GP; MOVUPS is fine */
	c.n = 0;
	DC(&c, 0x0f, 0x28, 0x4f, 4); /* movaps 4(%rdi), %xmm1 */
	DC(&c, 0xf4);
	s = run_exc(&t, &c, 0, 0);
	assert_int_equal(s.gpr[X86_R15], 13);
	c.n = 0;
	DC(&c, 0x0f, 0x10, 0x4f, 4); /* movups 4(%rdi), %xmm1 */
	DC(&c, 0xf4);
	s = run_exc(&t, &c, 0, 0);
	assert_int_equal(s.gpr[X86_R15], (uint64_t)-1);
	/* a 66 0F 38 opcode that does not exist: #UD */
	c.n = 0;
	DC(&c, 0x66, 0x0f, 0x38, 0x0c, 0xca);
	DC(&c, 0xf4);
	s = run_exc(&t, &c, 0, 0);
	assert_int_equal(s.gpr[X86_R15], 6);
	tm_fini(&t);
}

/* RCPPS/RSQRTPS: within 1.5 * 2^-12 of the exact value, the same
 * special-value results as the host, and the same bits on every run */
static void test_sse_rcp(void **st)
{
	(void)st;
	uint8_t *page = dn_page();
	if (!page)
		skip();
	struct tmach t;
	tm_init(&t);
	uint64_t r = 99;
	for (unsigned j = 0; j < 400; j++) {
		for (unsigned q = 0; q < 2; q++) {
			const struct sop o = {.name = q ? "rsqrtps" : "rcpps",
			                      .map = 1,
			                      .op = (uint8_t)(q ? 0x52 : 0x53),
			                      .form = F_XX};
			struct dcode c;
			build(&c, &o, 0, 0);
			uint8_t nat[D_SIZE] __attribute__((aligned(64))), emu[D_SIZE];
			rnd_data(&r, nat, 0);
			for (int k = 0; k < 4; k++) {
				uint32_t x = rnd_f32(&r);
				memcpy(nat + D_X2 + 4 * k, &x, 4);
			}
			memcpy(emu, nat, D_SIZE);
			uint32_t host_mx = __builtin_ia32_stmxcsr();
			dn_run(page, &c, nat);
			__builtin_ia32_ldmxcsr(host_mx);
			de_run(&t, &c, emu, D_SIZE);
			for (int k = 0; k < 4; k++) {
				float x, h, e;
				memcpy(&x, nat + D_X2 + 4 * k, 4);
				memcpy(&h, nat + D_X1O + 4 * k, 4);
				memcpy(&e, emu + D_X1O + 4 * k, 4);
				double exact = q ? 1.0 / sqrt((double)x) : 1.0 / (double)x;
				if (isnan(h) || isinf(h) || h == 0 || !isnormal(x)) {
					assert_memory_equal(&h, &e, 4);
					continue;
				}
				if (fabs(exact) < 1.2e-38) /* host flushes tiny results */
					continue;
				assert_true(fabs((double)e - exact) <= fabs(exact) * 1.5 / 4096);
			}
		}
	}
	tm_fini(&t);
	munmap(page, 4096);
}

/* CPUID leaf 1 advertises MMX, SSE, SSE2, SSE3, SSSE3, SSE4.1 and SSE4.2
 * (all tested above) and nothing beyond: no AVX, XSAVE, FMA */
static void test_sse_cpuid(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	struct dcode c = {.n = 0};
	DC(&c, 0xb8, 1, 0, 0, 0, 0x0f, 0xa2); /* mov $1, %eax; cpuid */
	DC(&c, 0xf4);
	struct x86_vcpu_state s = run_exc(&t, &c, 0, 0);
	uint32_t ecx = (uint32_t)s.gpr[X86_RCX], edx = (uint32_t)s.gpr[X86_RDX];
	assert_int_equal(edx & (1u << 23 | 1u << 24 | 1u << 25 | 1u << 26),
	                 1u << 23 | 1u << 24 | 1u << 25 | 1u << 26);
	assert_int_equal(ecx & (1u << 0 | 1u << 9 | 1u << 19 | 1u << 20),
	                 1u << 0 | 1u << 9 | 1u << 19 | 1u << 20);
	assert_int_equal(ecx & (1u << 12 | 1u << 26 | 1u << 28), 0);
	tm_fini(&t);
}

/* Speed of an SSE2 loop (the shape of glibc's string functions plus a
 * scalar double add), reported; the results are checked */
static void test_sse_perf(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	struct dcode c = {.n = 0};
	uint32_t iters = 300000;
	DC(&c, 0xb9);
	dc_put(&c, &iters, 4);               /* mov $iters, %ecx */
	DC(&c, 0x66, 0x0f, 0xef, 0xc0);      /* pxor %xmm0, %xmm0 */
	DC(&c, 0x66, 0x0f, 0xef, 0xd2);      /* pxor %xmm2, %xmm2 */
	DC(&c, 0x66, 0x0f, 0x6f, 0x0f);      /* 1: movdqa (%rdi), %xmm1 */
	DC(&c, 0x66, 0x0f, 0x74, 0xc8);      /* pcmpeqb %xmm0, %xmm1 */
	DC(&c, 0x66, 0x0f, 0xd7, 0xc1);      /* pmovmskb %xmm1, %eax */
	DC(&c, 0x66, 0x0f, 0xfe, 0xd1);      /* paddd %xmm1, %xmm2 */
	DC(&c, 0xf2, 0x0f, 0x58, 0xe3);      /* addsd %xmm3, %xmm4 */
	DC(&c, 0xff, 0xc9);                  /* dec %ecx */
	DC(&c, 0x75, (uint8_t)(0x100 - 24)); /* jnz 1b */
	DC(&c, 0xf4);
	double one = 1.0;
	memcpy(t.ram + TM_DATA + 64, &one, 8);
	struct x86_vcpu_state s;
	tm_load(&t, TM_CODE, c.b, c.b + c.n);
	tm_long_mode(&t, TM_CODE);
	s = tm_state(&t);
	s.gpr[X86_RDI] = TM_DATA;
	memcpy(&s.fx.bytes[160 + 3 * 16], &one, 8); /* xmm3 = 1.0 */
	struct err e;
	assert_int_equal(emu_cpu_set_state(t.cpu, &s, &e), 0);
	uint64_t n0 = emu_cpu_instructions(t.cpu);
	double t0 = now_secs();
	s = tm_run_halt(&t);
	double secs = now_secs() - t0;
	uint64_t n = emu_cpu_instructions(t.cpu) - n0;
	assert_int_equal(s.gpr[X86_RAX], 0xffff);
	uint32_t sum;
	double acc;
	memcpy(&sum, &s.fx.bytes[160 + 2 * 16], 4);
	memcpy(&acc, &s.fx.bytes[160 + 4 * 16], 8);
	assert_int_equal(sum, (uint32_t)-iters);
	assert_true(acc == (double)iters);
	test_measured("emu sse2 loop: %llu instructions in %.3f s = %.0f MIPS",
	              (unsigned long long)n, secs, (double)n / secs / 1e6);
	tm_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sse_int_diff), cmocka_unit_test(test_sse_fp_diff),
	    cmocka_unit_test(test_mmx_diff),     cmocka_unit_test(test_sse_exceptions),
	    cmocka_unit_test(test_sse_rcp),      cmocka_unit_test(test_sse_cpuid),
	    cmocka_unit_test(test_sse_perf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
