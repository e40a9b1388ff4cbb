/* SPDX-License-Identifier: Apache-2.0 */
/* The decoder: guest bytes to struct emu_insn. Prefixes, REX, the opcode
 * maps, ModRM/SIB/displacement and immediates are handled here from one
 * attribute table per map; which handler runs each opcode is chosen by
 * emu_pick (ops.c), emu_sse_pick (sse.c) and emu_x87_pick (x87.c). */
#include "vm/emu/decode.h"

#include "vm/emu/sse.h"
#include "vm/emu/x87.h"

/* The tables below set ranges first and then single opcodes inside them. */
#pragma GCC diagnostic ignored "-Woverride-init"

/* Opcode attributes. */
#define A_M    0x0001u /* ModRM follows */
#define A_B    0x0002u /* byte operands */
#define A_IB   0x0004u /* imm8, sign-extended */
#define A_IZ   0x0008u /* imm16/32 by operand size, sign-extended */
#define A_IV   0x0010u /* imm16/32/64 by operand size */
#define A_IW   0x0020u /* imm16 */
#define A_D64  0x0040u /* operand size 64 by default in 64-bit mode */
#define A_END  0x0080u /* ends the block */
#define A_I64  0x0100u /* invalid in 64-bit mode */
#define A_MOFF 0x0200u /* moffs: address-size immediate */
#define A_FAR  0x0400u /* ptr16:16/32 */
#define A_IBU  0x0800u /* imm8, zero-extended */
#define A_F64  0x1000u /* operand size always 64 in 64-bit mode */
#define A_UD   0x2000u /* undefined */
#define A_PFX  0x4000u /* a prefix byte */
#define A_SSE  0x8000u /* SSE/MMX: emu_sse_pick */

#define ALU(b)                                                                                     \
	[b] = A_M | A_B, [b + 1] = A_M, [b + 2] = A_M | A_B, [b + 3] = A_M, [b + 4] = A_B | A_IB,  \
	[b + 5] = A_IZ
#define R8(b, v)                                                                                   \
	[b] = v, [b + 1] = v, [b + 2] = v, [b + 3] = v, [b + 4] = v, [b + 5] = v, [b + 6] = v,     \
	[b + 7] = v
#define R16(b, v) R8(b, v), R8(b + 8, v)

static const uint16_t attr1[256] = {
    ALU(0x00),
    ALU(0x08),
    ALU(0x10),
    ALU(0x18),
    ALU(0x20),
    ALU(0x28),
    ALU(0x30),
    ALU(0x38),
    [0x06] = A_I64,
    [0x07] = A_I64 | A_END,
    [0x0e] = A_I64,
    [0x16] = A_I64,
    [0x17] = A_I64 | A_END,
    [0x1e] = A_I64,
    [0x1f] = A_I64 | A_END,
    [0x26] = A_PFX,
    [0x2e] = A_PFX,
    [0x36] = A_PFX,
    [0x3e] = A_PFX,
    [0x27] = A_I64,
    [0x2f] = A_I64,
    [0x37] = A_I64,
    [0x3f] = A_I64,
    R16(0x40, 0),
    R16(0x50, A_D64),
    [0x60] = A_I64,
    [0x61] = A_I64,
    [0x62] = A_M | A_I64,
    [0x63] = A_M,
    [0x64] = A_PFX,
    [0x65] = A_PFX,
    [0x66] = A_PFX,
    [0x67] = A_PFX,
    [0x68] = A_IZ | A_D64,
    [0x69] = A_M | A_IZ,
    [0x6a] = A_IB | A_D64,
    [0x6b] = A_M | A_IB,
    [0x6c] = A_B,
    [0x6e] = A_B,
    R16(0x70, A_IB | A_END | A_F64),
    [0x80] = A_M | A_B | A_IB,
    [0x81] = A_M | A_IZ,
    [0x82] = A_M | A_B | A_IB | A_I64,
    [0x83] = A_M | A_IB,
    [0x84] = A_M | A_B,
    [0x85] = A_M,
    [0x86] = A_M | A_B,
    [0x87] = A_M,
    [0x88] = A_M | A_B,
    [0x89] = A_M,
    [0x8a] = A_M | A_B,
    [0x8b] = A_M,
    [0x8c] = A_M,
    [0x8d] = A_M,
    [0x8e] = A_M | A_END,
    [0x8f] = A_M | A_D64,
    [0x9a] = A_FAR | A_I64 | A_END,
    [0x9c] = A_D64,
    [0x9d] = A_D64 | A_END,
    [0xa0] = A_MOFF | A_B,
    [0xa1] = A_MOFF,
    [0xa2] = A_MOFF | A_B,
    [0xa3] = A_MOFF,
    [0xa4] = A_B,
    [0xa6] = A_B,
    [0xa8] = A_B | A_IB,
    [0xa9] = A_IZ,
    [0xaa] = A_B,
    [0xac] = A_B,
    [0xae] = A_B,
    R8(0xb0, A_B | A_IB),
    R8(0xb8, A_IV),
    [0xc0] = A_M | A_B | A_IBU,
    [0xc1] = A_M | A_IBU,
    [0xc2] = A_IW | A_END | A_F64,
    [0xc3] = A_END | A_F64,
    [0xc4] = A_M | A_I64 | A_END,
    [0xc5] = A_M | A_I64 | A_END,
    [0xc6] = A_M | A_B | A_IB,
    [0xc7] = A_M | A_IZ,
    [0xc8] = A_IW | A_D64,
    [0xc9] = A_D64,
    [0xca] = A_IW | A_END,
    [0xcb] = A_END,
    [0xcc] = A_END,
    [0xcd] = A_IBU | A_END,
    [0xce] = A_I64 | A_END,
    [0xcf] = A_END,
    [0xd0] = A_M | A_B,
    [0xd1] = A_M,
    [0xd2] = A_M | A_B,
    [0xd3] = A_M,
    [0xd4] = A_IBU | A_I64,
    [0xd5] = A_IBU | A_I64,
    [0xd6] = A_UD,
    R8(0xd8, A_M),
    [0xe0] = A_IB | A_END | A_F64,
    [0xe1] = A_IB | A_END | A_F64,
    [0xe2] = A_IB | A_END | A_F64,
    [0xe3] = A_IB | A_END | A_F64,
    [0xe4] = A_B | A_IBU,
    [0xe5] = A_IBU,
    [0xe6] = A_B | A_IBU,
    [0xe7] = A_IBU,
    [0xe8] = A_IZ | A_END | A_F64,
    [0xe9] = A_IZ | A_END | A_F64,
    [0xea] = A_FAR | A_I64 | A_END,
    [0xeb] = A_IB | A_END | A_F64,
    [0xec] = A_B,
    [0xee] = A_B,
    [0xf0] = A_PFX,
    [0xf1] = A_END,
    [0xf2] = A_PFX,
    [0xf3] = A_PFX,
    [0xf4] = A_END,
    [0xf6] = A_M | A_B,
    [0xf7] = A_M,
    [0xfb] = A_END,
    [0xfe] = A_M | A_B,
    [0xff] = A_M,
};

static const uint16_t attr2[256] = {
    [0x00] = A_M | A_END,
    [0x01] = A_M | A_END,
    [0x02] = A_M,
    [0x03] = A_M,
    [0x04] = A_UD,
    [0x05] = A_END,
    [0x06] = A_END,
    [0x07] = A_END,
    [0x08] = A_END,
    [0x09] = A_END,
    [0x0a] = A_UD,
    [0x0b] = A_END,
    [0x0c] = A_UD,
    [0x0d] = A_M,
    [0x0e] = A_UD,
    [0x0f] = A_UD,
    R8(0x10, A_M | A_SSE),
    R8(0x18, A_M),
    [0x20] = A_M | A_END,
    [0x21] = A_M | A_END,
    [0x22] = A_M | A_END,
    [0x23] = A_M | A_END,
    [0x24] = A_UD,
    [0x25] = A_UD,
    [0x26] = A_UD,
    [0x27] = A_UD,
    R8(0x28, A_M | A_SSE),
    [0x30] = A_END,
    [0x31] = 0,
    [0x32] = 0,
    [0x33] = 0,
    [0x34] = A_END,
    [0x35] = A_END,
    [0x36] = A_UD,
    [0x37] = A_UD,
    [0x39] = A_UD,
    [0x3b] = A_UD,
    [0x3c] = A_UD,
    [0x3d] = A_UD,
    [0x3e] = A_UD,
    [0x3f] = A_UD,
    R16(0x40, A_M),
    R16(0x50, A_M | A_SSE),
    R16(0x60, A_M | A_SSE),
    R16(0x70, A_M | A_SSE),
    [0x70] = A_M | A_SSE | A_IBU,
    [0x71] = A_M | A_SSE | A_IBU,
    [0x72] = A_M | A_SSE | A_IBU,
    [0x73] = A_M | A_SSE | A_IBU,
    [0x77] = A_SSE,
    R16(0x80, A_IZ | A_END | A_F64),
    R16(0x90, A_M | A_B),
    [0xa0] = A_D64,
    [0xa1] = A_D64,
    [0xa2] = 0,
    [0xa3] = A_M,
    [0xa4] = A_M | A_IBU,
    [0xa5] = A_M,
    [0xa6] = A_UD,
    [0xa7] = A_UD,
    [0xa8] = A_D64,
    [0xa9] = A_D64,
    [0xaa] = A_UD,
    [0xab] = A_M,
    [0xac] = A_M | A_IBU,
    [0xad] = A_M,
    [0xae] = A_M,
    [0xaf] = A_M,
    [0xb0] = A_M | A_B,
    [0xb1] = A_M,
    [0xb2] = A_M,
    [0xb3] = A_M,
    [0xb4] = A_M,
    [0xb5] = A_M,
    [0xb6] = A_M,
    [0xb7] = A_M,
    [0xb8] = A_M,
    [0xb9] = A_M | A_UD,
    [0xba] = A_M | A_IBU,
    [0xbb] = A_M,
    [0xbc] = A_M,
    [0xbd] = A_M,
    [0xbe] = A_M,
    [0xbf] = A_M,
    [0xc0] = A_M | A_B,
    [0xc1] = A_M,
    [0xc2] = A_M | A_SSE | A_IBU,
    [0xc3] = A_M | A_SSE,
    [0xc4] = A_M | A_SSE | A_IBU,
    [0xc5] = A_M | A_SSE | A_IBU,
    [0xc6] = A_M | A_SSE | A_IBU,
    [0xc7] = A_M,
    R16(0xd0, A_M | A_SSE),
    R16(0xe0, A_M | A_SSE),
    R16(0xf0, A_M | A_SSE),
};

/* Byte offset of an 8-bit register in gpr[]: with a REX prefix (or for
 * registers 0-3) the low byte, else AH/CH/DH/BH for 4-7. */
static uint8_t byte_reg(unsigned r, int rex)
{
	if (rex || r < 4 || r > 7)
		return (uint8_t)(r * 8);
	return (uint8_t)((r - 4) * 8 + 1);
}

struct dec {
	const uint8_t *b;
	unsigned n, p; /* bytes available, position */
	int overrun;
};

static unsigned get(struct dec *d, unsigned k)
{
	if (d->p + k > d->n) {
		d->overrun = 1;
		d->p = d->n;
		return 0;
	}
	unsigned v = 0;
	for (unsigned j = 0; j < k; j++)
		v |= (unsigned)d->b[d->p + j] << (8 * j);
	d->p += k;
	return v;
}

static void decode_modrm(struct dec *d, struct emu_insn *i, unsigned rex)
{
	unsigned m = get(d, 1);
	unsigned mod = m >> 6, rm = m & 7;
	if (i->map == 1 && (i->op & 0xfc) == 0x20)
		mod = 3; /* MOV CR/DR: the r/m field always names a register */
	i->modrm = (uint8_t)m;
	i->ext = (m >> 3) & 7;
	i->reg = (uint8_t)(i->ext | ((rex & 4) << 1));
	i->reg8 = byte_reg(i->reg, rex != 0);
	i->base = i->index = EMU_NOREG;
	if (mod == 3) {
		i->rm = (uint8_t)(rm | ((rex & 1) << 3));
		i->rm8 = byte_reg(i->rm, rex != 0);
		i->mem = 0;
		return;
	}
	i->mem = 1;
	if (i->asz == 2) {
		static const uint8_t b16[8] = {X86_RBX, X86_RBX, X86_RBP, X86_RBP,
		                               X86_RSI, X86_RDI, X86_RBP, X86_RBX};
		static const uint8_t x16[8] = {X86_RSI,   X86_RDI,   X86_RSI,   X86_RDI,
		                               EMU_NOREG, EMU_NOREG, EMU_NOREG, EMU_NOREG};
		i->base = b16[rm];
		i->index = x16[rm];
		if (mod == 0 && rm == 6) {
			i->base = EMU_NOREG;
			i->disp = (int16_t)get(d, 2);
		} else if (mod == 1) {
			i->disp = (int8_t)get(d, 1);
		} else if (mod == 2) {
			i->disp = (int16_t)get(d, 2);
		}
		if (i->base == X86_RBP && i->seg == 0xff)
			i->seg = X86_SS;
		return;
	}
	unsigned base = rm;
	if (rm == 4) {
		unsigned sib = get(d, 1);
		unsigned idx = ((sib >> 3) & 7) | ((rex & 2) << 2);
		i->scale = (uint8_t)(sib >> 6);
		if (idx != 4)
			i->index = (uint8_t)idx;
		base = sib & 7;
		if (base == 5 && mod == 0) {
			i->disp = (int32_t)get(d, 4);
			goto seg;
		}
	} else if (rm == 5 && mod == 0) {
		i->disp = (int32_t)get(d, 4);
		if (i->csz == 8)
			i->base = EMU_RIPREL;
		goto seg;
	}
	i->base = (uint8_t)(base | ((rex & 1) << 3));
	if (mod == 1)
		i->disp = (int8_t)get(d, 1);
	else if (mod == 2)
		i->disp = (int32_t)get(d, 4);
seg:
	if (i->seg == 0xff && (i->base == X86_RSP || i->base == X86_RBP))
		i->seg = X86_SS;
}

static void decode_imm(struct dec *d, struct emu_insn *i, unsigned a)
{
	if (a & A_IB)
		i->imm = (uint64_t)(int64_t)(int8_t)get(d, 1);
	else if (a & A_IBU)
		i->imm = get(d, 1);
	else if (a & A_IW)
		i->imm = get(d, 2);
	else if (a & A_IZ)
		i->imm = i->osz == 2 ? (uint64_t)(int64_t)(int16_t)get(d, 2)
		                     : (uint64_t)(int64_t)(int32_t)get(d, 4);
	else if (a & A_IV) {
		if (i->osz == 8) {
			uint64_t lo = get(d, 4);
			i->imm = lo | (uint64_t)get(d, 4) << 32;
		} else {
			i->imm = get(d, i->osz);
		}
	} else if (a & A_MOFF) {
		if (i->asz == 8) {
			uint64_t lo = get(d, 4);
			i->imm = lo | (uint64_t)get(d, 4) << 32;
		} else {
			i->imm = get(d, i->asz);
		}
	} else if (a & A_FAR) {
		i->imm = get(d, i->osz == 2 ? 2 : 4);
		i->imm2 = (uint16_t)get(d, 2);
	}
	if (i->map == 0 && i->op == 0xc8) /* ENTER imm16, imm8 */
		i->imm2 = (uint16_t)get(d, 1);
	if (i->map == 0 && (i->op == 0xf6 || i->op == 0xf7) && i->ext < 2)
		i->imm = i->op == 0xf6 ? get(d, 1)
		                       : (i->osz == 2 ? (uint64_t)(int64_t)(int16_t)get(d, 2)
		                                      : (uint64_t)(int64_t)(int32_t)get(d, 4));
}

/* Decode one instruction from d (code size csz). Returns its attributes
 * (A_END etc.); sets i->fn to the #UD handler for undefined opcodes. */
static unsigned decode_one(struct dec *d, struct emu_insn *i, unsigned csz)
{
	unsigned rex = 0, pfx = 0, a;
	int adsz_pfx = 0;
	memset(i, 0, sizeof(*i));
	i->seg = 0xff;
	unsigned op;
	for (;;) {
		op = get(d, 1);
		if (d->overrun)
			return 0;
		if (d->p > 15) { /* prefixes alone exceed the length limit: #GP(0) */
			d->p = 16;
			return A_UD;
		}
		if (csz == 8 && (op & 0xf0) == 0x40) {
			rex = op; /* only effective if last before the opcode */
			continue;
		}
		if (!(attr1[op] & A_PFX))
			break;
		rex = 0;
		switch (op) {
		case 0x26:
			i->seg = X86_ES;
			break;
		case 0x2e:
			i->seg = X86_CS;
			break;
		case 0x36:
			i->seg = X86_SS;
			break;
		case 0x3e:
			i->seg = X86_DS;
			break;
		case 0x64:
			i->seg = X86_FS;
			break;
		case 0x65:
			i->seg = X86_GS;
			break;
		case 0x66:
			pfx |= EMU_PFX_66;
			break;
		case 0x67:
			adsz_pfx = 1;
			break;
		case 0xf0:
			pfx |= EMU_PFX_LOCK;
			break;
		case 0xf2:
			pfx = (pfx & ~EMU_PFX_F3) | EMU_PFX_F2;
			break;
		case 0xf3:
			pfx = (pfx & ~EMU_PFX_F2) | EMU_PFX_F3;
			break;
		}
	}
	if (csz == 8 && i->seg < X86_FS)
		i->seg = 0xff; /* ES/CS/SS/DS overrides are ignored in 64-bit mode */
	if (rex)
		pfx |= EMU_PFX_REX | ((rex & 8) ? EMU_PFX_REXW : 0);
	i->pfx = (uint8_t)pfx;
	i->asz = (uint8_t)(csz == 8 ? (adsz_pfx ? 4 : 8) : ((csz == 4) ^ adsz_pfx ? 4 : 2));
	i->csz = (uint8_t)csz;
	if (op == 0x0f) {
		op = get(d, 1);
		if (op == 0x38 || op == 0x3a) {
			i->map = op == 0x38 ? 2 : 3;
			op = get(d, 1);
			a = A_M | A_SSE | (i->map == 3 ? A_IBU : 0);
		} else {
			i->map = 1;
			a = attr2[op];
		}
	} else {
		a = attr1[op];
	}
	i->op = (uint8_t)op;
	/* operand size */
	if (a & A_B)
		i->osz = 1;
	else if (csz == 8 && (rex & 8))
		i->osz = 8;
	else if (csz == 8 && (a & A_F64))
		i->osz = 8;
	else if (csz == 8 && (a & A_D64))
		i->osz = (pfx & EMU_PFX_66) ? 2 : 8;
	else
		i->osz = (uint8_t)((csz == 2) ^ !!(pfx & EMU_PFX_66) ? 2 : 4);
	/* register in the opcode (50-5F, 90-97, B0-BF, 0F C8-CF, 40-4F) */
	i->reg = (uint8_t)((op & 7) | ((rex & 1) << 3));
	i->reg8 = byte_reg(i->reg, rex != 0);
	if (a & A_M)
		decode_modrm(d, i, rex);
	if (i->seg == 0xff)
		i->seg = X86_DS;
	decode_imm(d, i, a);
	if (d->overrun)
		return 0;
	if (d->p > 15)
		a |= A_UD; /* #GP(0) really; treated like an undefined opcode */
	if ((a & A_UD) || (csz == 8 && (a & A_I64)))
		return a | A_UD;
	return a;
}

static int op_ud(struct emu_cpu *c, struct emu_insn *i)
{
	(void)i;
	emu_ud(c);
}

static int op_toolong(struct emu_cpu *c, struct emu_insn *i)
{
	(void)i;
	emu_gp0(c);
}

int emu_decode(struct emu_cpu *c, const uint8_t *bytes, unsigned avail, unsigned csz,
               struct emu_insn *i, int *ends)
{
	struct dec d = {.b = bytes, .n = avail};
	unsigned a = decode_one(&d, i, csz);
	if (d.overrun)
		return avail >= 15 ? (i->fn = op_toolong, *ends = 1, 15) : -1;
	*ends = (a & A_END) != 0;
	emu_fn fn = NULL;
	if (!(a & A_UD)) {
		if (a & A_SSE)
			fn = emu_sse_pick(i);
		else if (i->map == 0 && ((i->op >= 0xd8 && i->op <= 0xdf) || i->op == 0x9b))
			fn = emu_x87_pick(i);
		else
			fn = emu_pick(c, i);
	}
	if (!fn) {
		fn = op_ud;
		*ends = 1;
	}
	if (d.p > 15) {
		fn = op_toolong;
		*ends = 1;
	}
	i->fn = fn;
	return (int)d.p;
}
