/* The decoded-block cache (block.c). */
#ifndef CAPSA_VM_EMU_BLOCK_H
#define CAPSA_VM_EMU_BLOCK_H

#include "vm/emu/internal.h"

int emu_blocks_init(struct emu_cpu *c);
void emu_blocks_free(struct emu_cpu *c);
/* The block starting at virtual `rip` for decode mode `key` (code size in
 * the low 4 bits, CPL 3 in bit 4); decodes it if needed. May raise #PF. */
struct emu_block *emu_block_find(struct emu_cpu *c, uint64_t rip, uint32_t key);

#endif
