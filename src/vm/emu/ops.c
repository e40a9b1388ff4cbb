/* SPDX-License-Identifier: Apache-2.0 */
/* emu_pick: the handler for a decoded integer/system instruction, asked of
 * each handler file in turn (every opcode belongs to exactly one). */
#include "vm/emu/decode.h"
#include "vm/emu/ops.h"
#include "vm/emu/sse.h"

static emu_fn (*const pickers[])(struct emu_insn *) = {
    emu_alu_pick, emu_mov_pick, emu_ctl_pick, emu_bits_pick, emu_str_pick, emu_sys_pick,
};

/* The file that implements the most frequent one-byte opcodes (1 + its
 * index in pickers[]), asked first: the files before it return NULL for
 * them and leave the instruction as it is, so the answer is the same, and
 * decoding new code takes fewer branches. */
static const uint8_t first0[256] = {
    [0x50 ... 0x5f] = 2, [0x68] = 2,          [0x6a] = 2,          [0x88 ... 0x8b] = 2,
    [0x8d] = 2,          [0xb0 ... 0xbf] = 2, [0xc6 ... 0xc7] = 2, [0x70 ... 0x7f] = 3,
    [0xc2 ... 0xc3] = 3, [0xe8 ... 0xe9] = 3, [0xeb] = 3,
};

emu_fn emu_pick(struct emu_cpu *c, struct emu_insn *i)
{
	(void)c;
	unsigned first = i->map == 0 ? first0[i->op] : (i->map == 1 && (i->op & 0xf0) == 0x80) * 3u;
	if (first) {
		emu_fn f = pickers[first - 1](i);
		if (f)
			return f;
	}
	/* 0F AE /0-/3 with a memory operand: FXSAVE, FXRSTOR, LDMXCSR, STMXCSR */
	if (i->map == 1 && i->op == 0xae && i->mem && i->ext < 4)
		return (i->pfx & EMU_PFX_LOCK) ? NULL : emu_sse_pick(i);
	for (size_t k = 0; k < sizeof(pickers) / sizeof(pickers[0]); k++) {
		emu_fn f = pickers[k](i);
		if (f)
			return f;
	}
	return NULL;
}
