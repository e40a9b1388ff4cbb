/* x87: the control instructions the kernel and the C runtime use early
 * (FNINIT, FNCLEX, FNSTCW/FLDCW, FNSTSW, FWAIT). */
#include "vm/emu/x87.h"

static uint16_t rd16(const struct emu_cpu *c, unsigned off)
{
	return (uint16_t)(c->s.fx.bytes[off] | c->s.fx.bytes[off + 1] << 8);
}
static void wr16(struct emu_cpu *c, unsigned off, uint16_t v)
{
	c->s.fx.bytes[off] = (uint8_t)v;
	c->s.fx.bytes[off + 1] = (uint8_t)(v >> 8);
}

static int op_fninit(struct emu_cpu *c, struct emu_insn *i)
{
	(void)i;
	emu_fp_check(c, 1);
	wr16(c, 0, 0x37f);                /* FCW */
	wr16(c, 2, 0);                    /* FSW */
	c->s.fx.bytes[4] = 0;             /* abridged tags: all empty */
	memset(&c->s.fx.bytes[6], 0, 18); /* FOP, FIP, FDP */
	return 0;
}
static int op_fnclex(struct emu_cpu *c, struct emu_insn *i)
{
	(void)i;
	emu_fp_check(c, 1);
	wr16(c, 2, rd16(c, 2) & 0x7f00);
	return 0;
}
static int op_fnstcw(struct emu_cpu *c, struct emu_insn *i)
{
	emu_fp_check(c, 1);
	emu_wr16(c, emu_ea(c, i), rd16(c, 0));
	return 0;
}
static int op_fldcw(struct emu_cpu *c, struct emu_insn *i)
{
	emu_fp_check(c, 1);
	wr16(c, 0, emu_rd16(c, emu_ea(c, i)) | 0x40);
	return 0;
}
static int op_fnstsw(struct emu_cpu *c, struct emu_insn *i)
{
	emu_fp_check(c, 1);
	if (i->mem)
		emu_wr16(c, emu_ea(c, i), rd16(c, 2));
	else
		emu_setreg(c, X86_RAX, 2, rd16(c, 2));
	return 0;
}
static int op_fwait(struct emu_cpu *c, struct emu_insn *i)
{
	(void)i;
	if ((c->s.cr0 & (EMU_CR0_TS | EMU_CR0_MP)) == (EMU_CR0_TS | EMU_CR0_MP))
		emu_raise(c, EMU_NM, EMU_NOERR, 0);
	return 0;
}

emu_fn emu_x87_pick(const struct emu_insn *i)
{
	if (i->pfx & EMU_PFX_LOCK)
		return NULL;
	if (i->op == 0x9b)
		return op_fwait;
	if (i->op == 0xdb && i->modrm == 0xe3)
		return op_fninit;
	if (i->op == 0xdb && i->modrm == 0xe2)
		return op_fnclex;
	if (i->op == 0xd9 && i->mem && i->ext == 7)
		return op_fnstcw;
	if (i->op == 0xd9 && i->mem && i->ext == 5)
		return op_fldcw;
	if ((i->op == 0xdd && i->mem && i->ext == 7) || (i->op == 0xdf && i->modrm == 0xe0))
		return op_fnstsw;
	return NULL;
}
