/* SPDX-License-Identifier: Apache-2.0 */
/* SSE dispatch (emu_sse_pick asks each group file in turn), the MXCSR
 * (LDMXCSR/STMXCSR, exception delivery) and FXSAVE/FXRSTOR. */
#include "vm/emu/sse_impl.h"

void sse_fp_flags(struct emu_cpu *c, uint32_t flags)
{
	uint32_t m = sse_mxcsr(c);
	if (!flags)
		return;
	/* an unmasked invalid, denormal or divide-by-zero exception is taken
	 * before the result is computed: no overflow/underflow/precision */
	if (flags & ~(m >> 7) & 0x7)
		flags &= 0x7;
	sse_set_mxcsr(c, m | flags);
	if (flags & ~(m >> 7) & 0x3f)
		emu_raise(c, (c->s.cr4 & EMU_CR4_OSXMMEXCPT) ? EMU_XM : EMU_UD, EMU_NOERR, 0);
}

/* 0F AE /0-/3 */
static int op_fxsave(struct emu_cpu *c, struct emu_insn *i)
{
	emu_fp_check(c, 1);
	uint64_t la = emu_ea(c, i);
	if (la & 15)
		emu_gp0(c);
	/* the legacy and XMM state; bytes 416-511 (reserved, and available to
	 * software from 464) are not written */
	emu_wrn(c, la, c->s.fx.bytes, 416);
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
	memcpy(&m, &buf[SSE_MXCSR_OFF], 4);
	if (m & ~SSE_MXCSR_MASK)
		emu_gp0(c);
	/* MXCSR_MASK and the reserved/available area are not loaded */
	memcpy(c->s.fx.bytes, buf, 28);
	memcpy(c->s.fx.bytes + 32, buf + 32, 416 - 32);
	return 0;
}
static int op_ldmxcsr(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	uint32_t m = emu_rd32(c, emu_ea(c, i));
	if (m & ~SSE_MXCSR_MASK)
		emu_gp0(c);
	sse_set_mxcsr(c, m);
	return 0;
}
static int op_stmxcsr(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	emu_wr32(c, emu_ea(c, i), sse_mxcsr(c));
	return 0;
}

static emu_fn pick_ae(const struct emu_insn *i)
{
	if (!i->mem || (i->pfx & (EMU_PFX_66 | EMU_PFX_F2 | EMU_PFX_F3)))
		return NULL;
	static const emu_fn fns[4] = {op_fxsave, op_fxrstor, op_ldmxcsr, op_stmxcsr};
	return i->ext < 4 ? fns[i->ext] : NULL;
}

emu_fn emu_sse_pick(const struct emu_insn *i)
{
	if (i->pfx & EMU_PFX_LOCK)
		return NULL;
	if (i->map == 1 && i->op == 0xae)
		return pick_ae(i);
	static emu_fn (*const pickers[])(const struct emu_insn *) = {
	    sse_move_pick,  sse_int_pick,     sse_fp_pick,    sse_cvt_pick, sse_ssse3_pick,
	    sse_sse41_pick, sse_sse41fp_pick, sse_sse42_pick, sse_mmx_pick,
	};
	for (size_t k = 0; k < sizeof(pickers) / sizeof(pickers[0]); k++) {
		emu_fn f = pickers[k](i);
		if (f)
			return f;
	}
	return NULL;
}
