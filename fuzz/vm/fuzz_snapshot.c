/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: a hostile snapshot file through capsa's loader
 * (snap_verify: header checks, section table bounds, section reads and
 * checksums, memory checksum). The header's own CRC and file size are fixed
 * up so that inputs get past the first check and the section table is
 * explored. Any crash or sanitizer report is a finding. */
#include "vm/snapshot/load.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	if (fd < 0 && (fd = memfd_create("snapshot", 0)) < 0)
		abort();
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	if (size >= sizeof(struct snap_header)) {
		struct snap_header *h = (struct snap_header *)copy;
		h->file_size = size;
		h->header_crc = snap_header_crc(h);
	}
	if (ftruncate(fd, 0) || pwrite(fd, copy, size, 0) != (ssize_t)size)
		abort();
	free(copy);
	struct snap_loaded *l = calloc(1, sizeof(*l));
	if (!l)
		abort();
	struct err e = {0};
	snap_verify(fd, l, &e);
	snap_loaded_free(l);
	return 0;
}
