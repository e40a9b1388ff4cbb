/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: a hostile snapshot file through capsa's loader
 * (snap_load: header checks, section table bounds, section reads and
 * checksums, the device and disk sections' parser). The input is the file
 * up to its memory image: the harness fixes up the header's own CRC, every
 * section's CRC, and puts a sparse 16 MiB memory image after the input, so
 * that inputs get past the checksums and the sections' contents are
 * explored. A seed is a real snapshot's bytes before its memory section
 * (`head -c OFFSET`). Any crash or sanitizer report is a finding. */
#include "vm/snapshot/load.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#define FUZZ_MEMORY (16ULL << 20)

static void fix_up(uint8_t *copy, size_t size)
{
	struct snap_header *h = (struct snap_header *)copy;
	uint64_t mem_off = (size + SNAP_PAGE - 1) & ~(uint64_t)(SNAP_PAGE - 1);
	h->memory = FUZZ_MEMORY;
	h->file_size = mem_off + FUZZ_MEMORY;
	for (uint32_t i = 0; i < h->nsections && i < SNAP_MAX_SECTIONS; i++) {
		struct snap_section *s = &h->sec[i];
		if (s->type == SNAP_SEC_MEMORY) {
			s->offset = mem_off;
			s->size = FUZZ_MEMORY;
		} else if (s->offset <= size && s->size <= size - s->offset) {
			s->crc = (uint32_t)crc32(0, copy + s->offset, (uInt)s->size);
		}
	}
	h->header_crc = snap_header_crc(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	if (fd < 0 && (fd = memfd_create("snapshot", 0)) < 0)
		abort();
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	uint64_t file_size = size;
	if (size >= sizeof(struct snap_header)) {
		fix_up(copy, size);
		file_size = ((struct snap_header *)copy)->file_size;
	}
	if (ftruncate(fd, 0) || pwrite(fd, copy, size, 0) != (ssize_t)size ||
	    ftruncate(fd, (off_t)file_size))
		abort();
	free(copy);
	struct snap_loaded *l = calloc(1, sizeof(*l));
	if (!l)
		abort();
	struct err e = {0};
	snap_load(fd, l, &e);
	snap_loaded_free(l);
	return 0;
}
