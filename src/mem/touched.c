/* SPDX-License-Identifier: Apache-2.0 */
/* See touched.h: the kernel's page table, as /proc/self/pagemap shows it. */
#include "mem/touched.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define TOUCHED_PAGE 4096ULL

int mem_pages_touched(const uint8_t *base, uint64_t size, uint8_t *map, struct err *e)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "opening /proc/self/pagemap");
	enum { BATCH = 4096 };
	uint64_t ent[BATCH];
	uint64_t npages = size / TOUCHED_PAGE, first = (uintptr_t)base / TOUCHED_PAGE;
	int rc = 0;
	for (uint64_t p = 0; p < npages && rc == 0;) {
		uint64_t want = npages - p < BATCH ? npages - p : BATCH;
		ssize_t n = pread(fd, ent, want * 8, (off_t)((first + p) * 8));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || n % 8) {
			rc = n < 0 ? err_sys(e, "reading /proc/self/pagemap")
			           : err_set(e, ERR_SYSTEM, "/proc/self/pagemap ended early");
			break;
		}
		for (uint64_t k = 0; k < (uint64_t)n / 8; k++)
			map[p + k] = (ent[k] >> 62) != 0; /* bit 63 present, 62 swapped */
		p += (uint64_t)n / 8;
	}
	close(fd);
	return rc;
}
