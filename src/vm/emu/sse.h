/* SPDX-License-Identifier: Apache-2.0 */
/* SSE/SSE2 (and MMX) instructions of the software CPU. The decoder
 * (decode.c) sends every opcode of the 0F map that belongs to SSE/MMX
 * (0F 10-17, 28-2F, 50-7F, C2-C6, D0-FF, the memory forms of 0F AE /0-/3)
 * and all of the 0F 38 / 0F 3A maps here, with ModRM, the memory operand
 * and the immediate already decoded (imm8 for 0F 70-73, C2, C4-C6 and all
 * of 0F 3A). See the comment at the top of internal.h for operand access. */
#ifndef CAPSA_VM_EMU_SSE_H
#define CAPSA_VM_EMU_SSE_H

#include "vm/emu/internal.h"

/* The handler for the decoded instruction `i` (i->map 1..3, i->op, i->pfx
 * for 66/F2/F3, i->ext, i->mem), or NULL for #UD. Called once per decode. */
emu_fn emu_sse_pick(const struct emu_insn *i);

#endif
