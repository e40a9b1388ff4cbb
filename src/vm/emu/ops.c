/* SPDX-License-Identifier: Apache-2.0 */
/* emu_pick: the handler for a decoded integer/system instruction, asked of
 * each handler file in turn (every opcode belongs to exactly one). */
#include "vm/emu/decode.h"
#include "vm/emu/ops.h"
#include "vm/emu/sse.h"

emu_fn emu_pick(struct emu_cpu *c, struct emu_insn *i)
{
	(void)c;
	/* 0F AE /0-/3 with a memory operand: FXSAVE, FXRSTOR, LDMXCSR, STMXCSR */
	if (i->map == 1 && i->op == 0xae && i->mem && i->ext < 4)
		return (i->pfx & EMU_PFX_LOCK) ? NULL : emu_sse_pick(i);
	static emu_fn (*const pickers[])(struct emu_insn *) = {
	    emu_alu_pick, emu_mov_pick, emu_ctl_pick, emu_bits_pick, emu_str_pick, emu_sys_pick,
	};
	for (size_t k = 0; k < sizeof(pickers) / sizeof(pickers[0]); k++) {
		emu_fn f = pickers[k](i);
		if (f)
			return f;
	}
	return NULL;
}
