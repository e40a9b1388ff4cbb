/* SPDX-License-Identifier: Apache-2.0 */
/* The decoder's interface to the block builder and the opcode tables. */
#ifndef CAPSA_VM_EMU_DECODE_H
#define CAPSA_VM_EMU_DECODE_H

#include "vm/emu/internal.h"

/* Decode one instruction of code size csz (2, 4, 8) from `avail` bytes.
 * Returns its length, or -1 if more bytes are needed (the instruction
 * crosses into the next page). *ends: the instruction ends the block.
 * Undefined opcodes get a handler that raises #UD. */
int emu_decode(struct emu_cpu *c, const uint8_t *bytes, unsigned avail, unsigned csz,
               struct emu_insn *i, int *ends);

/* The handler for an integer or system instruction (ops.c), or NULL (#UD). */
emu_fn emu_pick(struct emu_cpu *c, struct emu_insn *i);

#endif
