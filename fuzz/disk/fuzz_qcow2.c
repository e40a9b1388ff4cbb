/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: a hostile qcow2 image through capsa's driver, opened
 * read-write: header, extensions, L1/L2 and refcount tables are parsed, then
 * reads, a write (allocation, copy-on-write, refcount updates), write-zeroes,
 * discard, a flush and the close (reserved clusters returned). Any crash,
 * sanitizer report or hang is a finding; errors are fine. The image lives in
 * a private directory, so relative backing names resolve inside it. */
#include "disk/disk.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint8_t buf[3 * 65536];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[4200];
	if (!path[0]) {
		const char *tmp = getenv("TMPDIR");
		char tmpl[4096];
		snprintf(tmpl, sizeof(tmpl), "%s/capsa-fuzz-qcow2.XXXXXX", tmp ? tmp : "/tmp");
		if (!mkdtemp(tmpl) || chdir(tmpl))
			abort();
		snprintf(path, sizeof(path), "%s/img.qcow2", tmpl);
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd))
		abort();
	struct disk_options o = {path, DISK_FMT_QCOW2, 0, DISK_CACHE_WRITEBACK};
	struct disk *d;
	struct err e = {0};
	if (disk_open(&d, &o, &e))
		return 0;
	/* offsets picked from the input so the fuzzer can steer them */
	uint64_t pick =
	    size >= 8 ? (uint64_t)data[size - 1] << 16 | data[size - 2] << 8 | data[size - 3] : 0;
	uint64_t sz = d->size & ~511ULL;
	uint64_t at[3] = {0, sz / 2, sz > sizeof(buf) ? sz - sizeof(buf) : 0};
	for (int i = 0; i < 3; i++) {
		struct iovec v = {buf, sz < sizeof(buf) ? sz : sizeof(buf)};
		d->ops->preadv(d, &v, 1, at[i]);
	}
	if (sz >= 4096) {
		uint64_t off = (pick * 512) % (sz - 4095) & ~511ULL;
		memset(buf, 0xa5, 4096);
		struct iovec v = {buf, 4096};
		d->ops->pwritev(d, &v, 1, off);
		d->ops->write_zeroes(d, off / 2 & ~511ULL, 65536 < sz - off / 2 ? 65536 : 512);
		d->ops->discard(d, 0, sz < 131072 ? sz : 131072);
		d->ops->flush(d);
		d->ops->preadv(d, &v, 1, off);
	}
	disk_close(d);
	return 0;
}
