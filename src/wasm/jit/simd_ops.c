/* SPDX-License-Identifier: Apache-2.0 */
/* SSE code for the v128 instructions. Most map to one SSE instruction
 * with two register operands (the table: opcode bytes, operand order, the
 * extension needed); the rest are short sequences (simd_seq.c). An instruction
 * whose extension the host lacks (or that has no sequence) returns -1 and
 * takes the portable path. */
#include "wasm/jit/simd.h"

#define V128 CAPSA_WASM_V128

enum {
	F_NONE,
	F_BIN,   /* dst = a; op dst, b */
	F_BINR,  /* dst = b; op dst, a */
	F_BINN,  /* F_BIN, then not */
	F_BINRN, /* F_BINR, then not */
	F_UN,    /* op dst, a */
	F_UNH,   /* op dst, (the high half of a) */
	F_SEQ,   /* a sequence (seq()) */
};

struct sop {
	uint8_t form, level, pfx, imm; /* imm: 0xff none */
	uint32_t op;
};

#define B(pfx, op)                                                                                 \
	{                                                                                          \
		F_BIN, JS_SSE2, pfx, 0xff, op                                                      \
	}
#define B4(op)                                                                                     \
	{                                                                                          \
		F_BIN, JS_SSE41, 0x66, 0xff, op                                                    \
	}
#define BR(pfx, op)                                                                                \
	{                                                                                          \
		F_BINR, JS_SSE2, pfx, 0xff, op                                                     \
	}
#define BN(pfx, op)                                                                                \
	{                                                                                          \
		F_BINN, JS_SSE2, pfx, 0xff, op                                                     \
	}
#define BRN(pfx, op)                                                                               \
	{                                                                                          \
		F_BINRN, JS_SSE2, pfx, 0xff, op                                                    \
	}
#define BI(form, pfx, i)                                                                           \
	{                                                                                          \
		form, JS_SSE2, pfx, i, 0x0fc2                                                      \
	} /* cmpps/cmppd */
#define U(lv, pfx, op)                                                                             \
	{                                                                                          \
		F_UN, lv, pfx, 0xff, op                                                            \
	}
#define UH(op)                                                                                     \
	{                                                                                          \
		F_UNH, JS_SSE41, 0x66, 0xff, op                                                    \
	}
#define UI(pfx, op, i)                                                                             \
	{                                                                                          \
		F_UN, JS_SSE41, pfx, i, op                                                         \
	}
#define SEQ                                                                                        \
	{                                                                                          \
		F_SEQ, 0, 0, 0, 0                                                                  \
	}

static const struct sop ops[256] = {
    [14] = SEQ, /* swizzle */
    [13] = SEQ, /* shuffle */
    [15] = SEQ,
    [16] = SEQ,
    [17] = SEQ,
    [18] = SEQ,
    [19] = SEQ,
    [20] = SEQ,
    [21] = SEQ,
    [22] = SEQ,
    [23] = SEQ,
    [24] = SEQ,
    [25] = SEQ,
    [26] = SEQ,
    [27] = SEQ,
    [28] = SEQ,
    [29] = SEQ,
    [30] = SEQ,
    [31] = SEQ,
    [32] = SEQ,
    [33] = SEQ,
    [34] = SEQ,
    /* i8x16 compares */
    [35] = B(0x66, 0x0f74),
    [36] = BN(0x66, 0x0f74),
    [37] = BR(0x66, 0x0f64),
    [38] = SEQ,
    [39] = B(0x66, 0x0f64),
    [40] = SEQ,
    [41] = BN(0x66, 0x0f64),
    [42] = SEQ,
    [43] = BRN(0x66, 0x0f64),
    [44] = SEQ,
    /* i16x8 compares */
    [45] = B(0x66, 0x0f75),
    [46] = BN(0x66, 0x0f75),
    [47] = BR(0x66, 0x0f65),
    [48] = SEQ,
    [49] = B(0x66, 0x0f65),
    [50] = SEQ,
    [51] = BN(0x66, 0x0f65),
    [52] = SEQ,
    [53] = BRN(0x66, 0x0f65),
    [54] = SEQ,
    /* i32x4 compares */
    [55] = B(0x66, 0x0f76),
    [56] = BN(0x66, 0x0f76),
    [57] = BR(0x66, 0x0f66),
    [58] = SEQ,
    [59] = B(0x66, 0x0f66),
    [60] = SEQ,
    [61] = BN(0x66, 0x0f66),
    [62] = SEQ,
    [63] = BRN(0x66, 0x0f66),
    [64] = SEQ,
    /* float compares: cmpps/cmppd predicates eq 0, lt 1, le 2, neq 4 */
    [65] = BI(F_BIN, 0, 0),
    [66] = BI(F_BIN, 0, 4),
    [67] = BI(F_BIN, 0, 1),
    [68] = BI(F_BINR, 0, 1),
    [69] = BI(F_BIN, 0, 2),
    [70] = BI(F_BINR, 0, 2),
    [71] = BI(F_BIN, 0x66, 0),
    [72] = BI(F_BIN, 0x66, 4),
    [73] = BI(F_BIN, 0x66, 1),
    [74] = BI(F_BINR, 0x66, 1),
    [75] = BI(F_BIN, 0x66, 2),
    [76] = BI(F_BINR, 0x66, 2),
    /* bitwise */
    [77] = SEQ,
    [78] = B(0x66, 0x0fdb),
    [79] = BR(0x66, 0x0fdf),
    [80] = B(0x66, 0x0feb),
    [81] = B(0x66, 0x0fef),
    [82] = SEQ,
    [83] = SEQ,
    [94] = U(JS_SSE2, 0x66, 0x0f5a), /* cvtpd2ps */
    [95] = U(JS_SSE2, 0, 0x0f5a),    /* cvtps2pd */
    /* i8x16 */
    [96] = U(JS_SSSE3, 0x66, 0x0f381c),
    [97] = SEQ,
    [98] = SEQ,
    [99] = SEQ,
    [100] = SEQ,
    [101] = B(0x66, 0x0f63),
    [102] = B(0x66, 0x0f67),
    [103] = UI(0x66, 0x0f3a08, 10),
    [104] = UI(0x66, 0x0f3a08, 9),
    [105] = UI(0x66, 0x0f3a08, 11),
    [106] = UI(0x66, 0x0f3a08, 8),
    [107] = SEQ,
    [108] = SEQ,
    [109] = SEQ,
    [110] = B(0x66, 0x0ffc),
    [111] = B(0x66, 0x0fec),
    [112] = B(0x66, 0x0fdc),
    [113] = B(0x66, 0x0ff8),
    [114] = B(0x66, 0x0fe8),
    [115] = B(0x66, 0x0fd8),
    [116] = UI(0x66, 0x0f3a09, 10),
    [117] = UI(0x66, 0x0f3a09, 9),
    [118] = B4(0x0f3838),
    [119] = B(0x66, 0x0fda),
    [120] = B4(0x0f383c),
    [121] = B(0x66, 0x0fde),
    [122] = UI(0x66, 0x0f3a09, 11),
    [123] = B(0x66, 0x0fe0),
    [124] = SEQ,
    [125] = SEQ,
    [126] = SEQ,
    [127] = SEQ,
    /* i16x8 */
    [128] = U(JS_SSSE3, 0x66, 0x0f381d),
    [129] = SEQ,
    [130] = SEQ,
    [131] = SEQ,
    [132] = SEQ,
    [133] = B(0x66, 0x0f6b),
    [134] = B4(0x0f382b),
    [135] = U(JS_SSE41, 0x66, 0x0f3820),
    [136] = UH(0x0f3820),
    [137] = U(JS_SSE41, 0x66, 0x0f3830),
    [138] = UH(0x0f3830),
    [139] = SEQ,
    [140] = SEQ,
    [141] = SEQ,
    [142] = B(0x66, 0x0ffd),
    [143] = B(0x66, 0x0fed),
    [144] = B(0x66, 0x0fdd),
    [145] = B(0x66, 0x0ff9),
    [146] = B(0x66, 0x0fe9),
    [147] = B(0x66, 0x0fd9),
    [148] = UI(0x66, 0x0f3a09, 8),
    [149] = B(0x66, 0x0fd5),
    [150] = B(0x66, 0x0fea),
    [151] = B4(0x0f383a),
    [152] = B(0x66, 0x0fee),
    [153] = B4(0x0f383e),
    [155] = B(0x66, 0x0fe3),
    [156] = SEQ,
    [157] = SEQ,
    [158] = SEQ,
    [159] = SEQ,
    /* i32x4 */
    [160] = U(JS_SSSE3, 0x66, 0x0f381e),
    [161] = SEQ,
    [163] = SEQ,
    [164] = SEQ,
    [167] = U(JS_SSE41, 0x66, 0x0f3823),
    [168] = UH(0x0f3823),
    [169] = U(JS_SSE41, 0x66, 0x0f3833),
    [170] = UH(0x0f3833),
    [171] = SEQ,
    [172] = SEQ,
    [173] = SEQ,
    [174] = B(0x66, 0x0ffe),
    [177] = B(0x66, 0x0ffa),
    [181] = B4(0x0f3840),
    [182] = B4(0x0f3839),
    [183] = B4(0x0f383b),
    [184] = B4(0x0f383d),
    [185] = B4(0x0f383f),
    [186] = B(0x66, 0x0ff5),
    [188] = SEQ,
    [189] = SEQ,
    [190] = SEQ,
    [191] = SEQ,
    /* i64x2 */
    [192] = SEQ,
    [193] = SEQ,
    [195] = SEQ,
    [196] = SEQ,
    [199] = U(JS_SSE41, 0x66, 0x0f3825),
    [200] = UH(0x0f3825),
    [201] = U(JS_SSE41, 0x66, 0x0f3835),
    [202] = UH(0x0f3835),
    [203] = SEQ,
    [204] = SEQ,
    [205] = SEQ,
    [206] = B(0x66, 0x0fd4),
    [209] = B(0x66, 0x0ffb),
    [213] = SEQ,
    [214] = SEQ,
    [215] = SEQ,
    [216] = SEQ,
    [217] = SEQ,
    [218] = SEQ,
    [219] = SEQ,
    [220] = SEQ,
    [221] = SEQ,
    [222] = SEQ,
    [223] = SEQ,
    /* f32x4 */
    [224] = SEQ,
    [225] = SEQ,
    [227] = U(JS_SSE2, 0, 0x0f51),
    [228] = B(0, 0x0f58),
    [229] = B(0, 0x0f5c),
    [230] = B(0, 0x0f59),
    [231] = B(0, 0x0f5e),
    [232] = SEQ,
    [233] = SEQ,
    [234] = BR(0, 0x0f5d),
    [235] = BR(0, 0x0f5f),
    /* f64x2 */
    [236] = SEQ,
    [237] = SEQ,
    [239] = U(JS_SSE2, 0x66, 0x0f51),
    [240] = B(0x66, 0x0f58),
    [241] = B(0x66, 0x0f5c),
    [242] = B(0x66, 0x0f59),
    [243] = B(0x66, 0x0f5e),
    [244] = SEQ,
    [245] = SEQ,
    [246] = BR(0x66, 0x0f5d),
    [247] = BR(0x66, 0x0f5f),
    /* conversions */
    [248] = SEQ,
    [249] = SEQ,
    [250] = U(JS_SSE2, 0, 0x0f5b),
    [251] = SEQ,
    [252] = SEQ,
    [253] = SEQ,
    [255] = SEQ,
    [254] = U(JS_SSE2, 0xf3, 0x0fe6),
};

static int table_op(struct jc *c, const struct sop *s)
{
	struct opnds o;
	int un = s->form == F_UN || s->form == F_UNH;
	pop_n(c, &o, un ? 1 : 2);
	int rev = s->form == F_BINR || s->form == F_BINRN;
	int dst = o.r[0], src = un ? o.r[0] : o.r[1];
	if (rev) {
		movx(c, T14, o.r[0]); /* the first operand, read after dst is written */
		movx(c, dst, o.r[1]);
		src = T14;
	}
	if (s->form == F_UNH) {
		xsh(c, 0x0f73, 3, dst, 8); /* psrldq 8 */
		src = dst;
	}
	xr(c, s->pfx, s->op, dst, src);
	if (s->imm != 0xff)
		xb_u8(c->b, s->imm);
	if (s->form == F_BINN || s->form == F_BINRN)
		vnot(c, dst);
	done(c, &o, V128, dst);
	return 0;
}

int jc_simd_fast(struct jc *c, uint32_t sub, uint32_t lane, const uint8_t *lanes, int level)
{
	if (sub >= 256)
		return -1;
	const struct sop *s = &ops[sub];
	if (s->form == F_NONE || s->level > level)
		return -1;
	if (s->form == F_SEQ)
		return jc_simd_seq(c, sub, lane, lanes, level);
	return table_op(c, s);
}
