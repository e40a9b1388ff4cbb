/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: a hostile kernel image through capsa's real loader
 * (x86_boot_load: format detection, ELF/PVH note or bzImage setup header
 * parsing, segment loading, initrd placement, start info / boot_params)
 * into a small guest memory. Any crash or sanitizer report is a finding. */
#include "mem/guest_mem.h"
#include "vm/x86/boot.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define RAM (32ULL << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static int fd = -1;
	if (!ram) {
		ram = calloc(1, RAM);
		fd = memfd_create("kernel", 0);
		if (!ram || fd < 0)
			abort();
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct guest_mem gm = {.r = {{0, RAM, ram}}, .n = 1, .total = RAM};
	/* Use the image as its own initrd too: placement and copying get fuzzed. */
	/* Reused memory: the loader must zero .bss itself (ram_is_zero 0). */
	struct boot_config cfg = {path, size & 1 ? path : NULL, "console=ttyS0", RAM, 0};
	struct boot_entry be;
	struct err e = {0};
	if (x86_boot_load(&gm, &cfg, &be, &e) == 0) {
		/* Whatever was accepted must lie inside guest memory. */
		if (be.kernel_end > RAM || be.rip >= RAM ||
		    (be.initrd_size && be.initrd_addr + be.initrd_size > RAM))
			abort();
	}
	return 0;
}
