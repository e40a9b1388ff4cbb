/* SPDX-License-Identifier: Apache-2.0 */
/* Loading a kernel (ELF vmlinux with or without a PVH note, or bzImage), its
 * initrd and command line into guest memory, and writing what the chosen
 * entry expects: hvm_start_info for PVH, boot_params for the 64-bit entry. */
#ifndef CAPSA_VM_X86_BOOT_H
#define CAPSA_VM_X86_BOOT_H

#include "lib/err.h"
#include "mem/guest_mem.h"

#include <stdint.h>

enum boot_mode {
	BOOT_PVH,     /* 32-bit protected mode, %ebx = hvm_start_info */
	BOOT_LINUX64, /* 64-bit long mode, %rsi = boot_params */
};

struct boot_config {
	const char *kernel; /* path */
	const char *initrd; /* path or NULL */
	const char *cmdline;
	uint64_t ram_size;
	/* Guest RAM is still all zeros (a fresh mapping): zero-filling ELF
	 * .bss would only make the host allocate those pages. */
	int ram_is_zero;
};

struct boot_entry {
	enum boot_mode mode;
	const char *format; /* "elf+pvh", "elf", "bzimage" */
	uint64_t rip;
	uint64_t arg; /* start_info or boot_params address */
	uint64_t kernel_start, kernel_end;
	uint64_t initrd_addr, initrd_size;
};

int x86_boot_load(const struct guest_mem *gm, const struct boot_config *cfg, struct boot_entry *out,
                  struct err *e);

/* Where an initrd of `size` bytes goes: as high as possible below
 * min(limit, lowmem_end), page aligned, above `kernel_end`. 0 if it does not fit. */
uint64_t boot_initrd_place(uint64_t size, uint64_t kernel_end, uint64_t lowmem_end, uint64_t limit);

#endif
