/* SSE/SSE2: the subset the kernel needs early (FXSAVE/FXRSTOR, LDMXCSR/
 * STMXCSR, the 128-bit moves, MOVD/MOVQ, PXOR/XORPS). */
#include "vm/emu/sse.h"

#define MXCSR_OFF  24
#define MXCSR_MASK 0xffffu

static uint32_t mxcsr(struct emu_cpu *c)
{
	uint32_t v;
	memcpy(&v, &c->s.fx.bytes[MXCSR_OFF], 4);
	return v;
}

static void sse_check(struct emu_cpu *c)
{
	if (!(c->s.cr4 & EMU_CR4_OSFXSR))
		emu_ud(c);
	emu_fp_check(c, 0);
}

static void xmm_rm_read(struct emu_cpu *c, struct emu_insn *i, uint8_t dst[16], int aligned)
{
	if (!i->mem) {
		memcpy(dst, emu_xmm(c, i->rm), 16);
		return;
	}
	uint64_t la = emu_ea(c, i);
	if (aligned && (la & 15))
		emu_gp0(c);
	emu_rdn(c, la, dst, 16);
}

static void xmm_rm_write(struct emu_cpu *c, struct emu_insn *i, const uint8_t src[16], int aligned)
{
	if (!i->mem) {
		memcpy(emu_xmm(c, i->rm), src, 16);
		return;
	}
	uint64_t la = emu_ea(c, i);
	if (aligned && (la & 15))
		emu_gp0(c);
	emu_wrn(c, la, src, 16);
}

/* MOVUPS/MOVUPD/MOVAPS/MOVAPD/MOVDQA/MOVDQU loads (0F 10, 28, 6F) */
static int op_mov_load(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	uint8_t v[16];
	xmm_rm_read(c, i, v, i->op == 0x28 || (i->op == 0x6f && (i->pfx & EMU_PFX_66)));
	memcpy(emu_xmm(c, i->reg), v, 16);
	return 0;
}
/* stores (0F 11, 29, 7F) */
static int op_mov_store(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	uint8_t v[16];
	memcpy(v, emu_xmm(c, i->reg), 16);
	xmm_rm_write(c, i, v, i->op == 0x29 || (i->op == 0x7f && (i->pfx & EMU_PFX_66)));
	return 0;
}
/* MOVSS/MOVSD (F3/F2 0F 10/11) */
static int op_movs(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	unsigned n = (i->pfx & EMU_PFX_F3) ? 4 : 8;
	if (i->op == 0x10) {
		if (i->mem) {
			uint8_t v[16] = {0};
			emu_rdn(c, emu_ea(c, i), v, n);
			memcpy(emu_xmm(c, i->reg), v, 16);
		} else {
			memcpy(emu_xmm(c, i->reg), emu_xmm(c, i->rm), n);
		}
	} else if (i->mem) {
		emu_wrn(c, emu_ea(c, i), emu_xmm(c, i->reg), n);
	} else {
		memcpy(emu_xmm(c, i->rm), emu_xmm(c, i->reg), n);
	}
	return 0;
}
/* 66 0F 6E: MOVD/MOVQ xmm, r/m32/64 */
static int op_movd_to(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	unsigned n = (i->pfx & EMU_PFX_REXW) ? 8 : 4;
	uint64_t v = i->mem ? emu_rd(c, emu_ea(c, i), n) : emu_getreg(c, i->rm, n);
	uint8_t *x = emu_xmm(c, i->reg);
	memset(x, 0, 16);
	memcpy(x, &v, 8);
	return 0;
}
/* 66 0F 7E: MOVD/MOVQ r/m32/64, xmm */
static int op_movd_from(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	unsigned n = (i->pfx & EMU_PFX_REXW) ? 8 : 4;
	uint64_t v;
	memcpy(&v, emu_xmm(c, i->reg), 8);
	if (i->mem)
		emu_wr(c, emu_ea(c, i), n, v);
	else
		emu_setreg(c, i->rm, n, v);
	return 0;
}
/* F3 0F 7E: MOVQ xmm, xmm/m64 (upper half zeroed) */
static int op_movq_load(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	uint8_t v[16] = {0};
	if (i->mem)
		emu_rdn(c, emu_ea(c, i), v, 8);
	else
		memcpy(v, emu_xmm(c, i->rm), 8);
	memcpy(emu_xmm(c, i->reg), v, 16);
	return 0;
}
/* 66 0F D6: MOVQ xmm/m64, xmm */
static int op_movq_store(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	if (i->mem) {
		emu_wrn(c, emu_ea(c, i), emu_xmm(c, i->reg), 8);
	} else {
		uint8_t v[16] = {0};
		memcpy(v, emu_xmm(c, i->reg), 8);
		memcpy(emu_xmm(c, i->rm), v, 16);
	}
	return 0;
}
/* PXOR, XORPS, XORPD */
static int op_xor(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	uint8_t v[16];
	xmm_rm_read(c, i, v, 1);
	uint8_t *d = emu_xmm(c, i->reg);
	for (int k = 0; k < 16; k++)
		d[k] ^= v[k];
	return 0;
}

/* MOVNTI m32/m64, r (0F C3): a plain store here */
static int op_movnti(struct emu_cpu *c, struct emu_insn *i)
{
	unsigned n = (i->pfx & EMU_PFX_REXW) ? 8 : 4;
	emu_wr(c, emu_ea(c, i), n, c->s.gpr[i->reg]);
	return 0;
}

/* 0F AE /0-/3 */
static int op_fxsave(struct emu_cpu *c, struct emu_insn *i)
{
	emu_fp_check(c, 1);
	uint64_t la = emu_ea(c, i);
	if (la & 15)
		emu_gp0(c);
	emu_wrn(c, la, c->s.fx.bytes, 512);
	return 0;
}
static int op_fxrstor(struct emu_cpu *c, struct emu_insn *i)
{
	emu_fp_check(c, 1);
	uint64_t la = emu_ea(c, i);
	if (la & 15)
		emu_gp0(c);
	uint8_t buf[512];
	emu_rdn(c, la, buf, 512);
	uint32_t m;
	memcpy(&m, &buf[MXCSR_OFF], 4);
	if (m & ~MXCSR_MASK)
		emu_gp0(c);
	memcpy(buf + 28, c->s.fx.bytes + 28, 4); /* MXCSR_MASK is read-only */
	memcpy(c->s.fx.bytes, buf, 512);
	return 0;
}
static int op_ldmxcsr(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	uint32_t m = emu_rd32(c, emu_ea(c, i));
	if (m & ~MXCSR_MASK)
		emu_gp0(c);
	memcpy(&c->s.fx.bytes[MXCSR_OFF], &m, 4);
	return 0;
}
static int op_stmxcsr(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	emu_wr32(c, emu_ea(c, i), mxcsr(c));
	return 0;
}

static int op_emms(struct emu_cpu *c, struct emu_insn *i)
{
	(void)i;
	emu_fp_check(c, 1);
	c->s.fx.bytes[4] = 0; /* all tags empty */
	return 0;
}

emu_fn emu_sse_pick(const struct emu_insn *i)
{
	unsigned p = i->pfx & (EMU_PFX_66 | EMU_PFX_F2 | EMU_PFX_F3);
	if (i->pfx & EMU_PFX_LOCK)
		return NULL;
	if (i->map != 1)
		return NULL;
	if (p & (EMU_PFX_F2 | EMU_PFX_F3))
		p &= ~EMU_PFX_66;
	switch (i->op) {
	case 0x10:
	case 0x11:
		if (p & (EMU_PFX_F2 | EMU_PFX_F3))
			return op_movs;
		return i->op == 0x10 ? op_mov_load : op_mov_store;
	case 0x28:
		return p & ~EMU_PFX_66 ? NULL : op_mov_load;
	case 0x29:
		return p & ~EMU_PFX_66 ? NULL : op_mov_store;
	case 0x57:
		return p & ~EMU_PFX_66 ? NULL : op_xor;
	case 0xef:
		return p == EMU_PFX_66 ? op_xor : NULL;
	case 0x6f:
		return p == EMU_PFX_66 || p == EMU_PFX_F3 ? op_mov_load : NULL;
	case 0x7f:
		return p == EMU_PFX_66 || p == EMU_PFX_F3 ? op_mov_store : NULL;
	case 0x6e:
		return p == EMU_PFX_66 ? op_movd_to : NULL;
	case 0x7e:
		return p == EMU_PFX_66 ? op_movd_from : p == EMU_PFX_F3 ? op_movq_load : NULL;
	case 0xd6:
		return p == EMU_PFX_66 ? op_movq_store : NULL;
	case 0x77:
		return p == 0 ? op_emms : NULL;
	case 0xc3:
		return p == 0 && i->mem ? op_movnti : NULL;
	case 0xae:
		if (!i->mem || p)
			return NULL;
		switch (i->ext) {
		case 0:
			return op_fxsave;
		case 1:
			return op_fxrstor;
		case 2:
			return op_ldmxcsr;
		case 3:
			return op_stmxcsr;
		}
		return NULL;
	}
	return NULL;
}
