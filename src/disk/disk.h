/* SPDX-License-Identifier: Apache-2.0 */
/* Disk images behind virtio-blk: raw files and qcow2 (with backing chains).
 * All I/O is positional; a disk may be used by one thread at a time. */
#ifndef CAPSA_DISK_DISK_H
#define CAPSA_DISK_DISK_H

#include "lib/err.h"

#include <stdint.h>
#include <sys/uio.h>

#define DISK_IOV_MAX 1024 /* most iovec entries one request may have */

enum disk_format { DISK_FMT_AUTO = 0, DISK_FMT_RAW, DISK_FMT_QCOW2 };
enum disk_cache { DISK_CACHE_WRITEBACK = 0, DISK_CACHE_NONE };

struct disk_options {
	const char *path;
	enum disk_format format; /* AUTO: raw, but refuse a file that looks like qcow2 */
	int readonly;
	enum disk_cache cache; /* NONE: O_DIRECT where the buffers allow it */
};

struct disk;

struct disk_ops {
	/* 0 or -errno; reads past the end are an error (the device checks first) */
	int (*preadv)(struct disk *d, const struct iovec *iov, int n, uint64_t off);
	int (*pwritev)(struct disk *d, const struct iovec *iov, int n, uint64_t off);
	int (*flush)(struct disk *d);
	int (*discard)(struct disk *d, uint64_t off, uint64_t len);
	int (*write_zeroes)(struct disk *d, uint64_t off, uint64_t len);
	void (*close)(struct disk *d);
	/* Optional: the files holding the sectors one to one (raw images), for
	 * asynchronous I/O: 0 with *fd (buffered) and *direct_fd (O_DIRECT or -1). */
	int (*fds)(struct disk *d, int *fd, int *direct_fd);
};

struct disk {
	const struct disk_ops *ops;
	uint64_t size; /* bytes the guest sees */
	int readonly;
	enum disk_format format;
	void *priv;
};

int disk_open(struct disk **out, const struct disk_options *o, struct err *e);
void disk_close(struct disk *d);
const char *disk_format_name(enum disk_format f);
/* Total bytes of an iovec array (saturating). */
uint64_t iov_total(const struct iovec *iov, int n);

/* Internal: raw and qcow2 openers (qcow2.c may open raw backing files). */
int disk_open_raw(struct disk **out, const char *path, int readonly, enum disk_cache cache,
                  struct err *e);
int disk_open_qcow2(struct disk **out, const char *path, int readonly, enum disk_cache cache,
                    int depth, struct err *e);
int disk_is_qcow2_fd(int fd);
/* open(2) for image files: never blocks (a FIFO), and refuses anything but a
 * regular file or block device (errno ENODEV). O_CLOEXEC is added. */
int disk_open_file(const char *path, int flags);
/* Describe a failed disk_open_file (errno) as ERR_INPUT: "opening WHAT PATH: ...". */
int disk_open_error(struct err *e, const char *what, const char *path);

#endif
