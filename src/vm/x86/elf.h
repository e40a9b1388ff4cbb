/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing an ELF64 x86-64 kernel image (vmlinux or a PVH test guest). Pure
 * functions over an in-memory file: every offset and size is checked. */
#ifndef CAPSA_VM_X86_ELF_H
#define CAPSA_VM_X86_ELF_H

#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_LOAD 16

struct elf_segment {
	uint64_t offset, filesz; /* in the file */
	uint64_t paddr, memsz;   /* in guest physical memory */
};

struct elf_kernel {
	uint64_t entry;     /* e_entry: the 64-bit Linux boot protocol entry */
	uint64_t pvh_entry; /* XEN_ELFNOTE_PHYS32_ENTRY, 0 if absent */
	struct elf_segment seg[ELF_MAX_LOAD];
	unsigned nseg;
	uint64_t lowest, highest; /* physical extent of all PT_LOAD segments */
};

int elf_is_elf(const uint8_t *buf, size_t len);
/* Parse and validate; `name` is used in messages. */
int elf_parse(const uint8_t *buf, size_t len, const char *name, struct elf_kernel *k,
              struct err *e);

#endif
