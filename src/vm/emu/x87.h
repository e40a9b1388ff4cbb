/* SPDX-License-Identifier: Apache-2.0 */
/* x87 instructions of the software CPU: the escape opcodes D8-DF and FWAIT
 * (9B). The decoder hands over ModRM and the memory operand decoded; the
 * x87 state lives in the FXSAVE image c->s.fx (FCW at 0, FSW at 2, the
 * abridged tag at 4, ST(i) at 32 + 16*i relative to TOP). */
#ifndef CAPSA_VM_EMU_X87_H
#define CAPSA_VM_EMU_X87_H

#include "vm/emu/internal.h"

/* The handler for the decoded instruction `i` (i->op D8..DF or 9B,
 * i->modrm), or NULL for #UD. Called once per decode. */
emu_fn emu_x87_pick(const struct emu_insn *i);

#endif
