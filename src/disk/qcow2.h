/* SPDX-License-Identifier: Apache-2.0 */
/* qcow2 images: create and describe (opening is disk_open in disk.h). */
#ifndef CAPSA_DISK_QCOW2_H
#define CAPSA_DISK_QCOW2_H

#include "lib/err.h"

#include <stdint.h>

#define QCOW2_MAX_CHAIN 16 /* backing files followed at most */

struct qcow2_create_opts {
	uint64_t size;         /* 0: the backing file's size */
	const char *backing;   /* may be NULL; stored as given */
	unsigned cluster_bits; /* 0: 16 (64 KiB) */
};

int qcow2_create(const char *path, const struct qcow2_create_opts *o, struct err *e);

struct qcow2_info {
	unsigned version, cluster_bits, refcount_bits, compression; /* 0 deflate, 1 zstd */
	uint64_t size, file_size, allocated_clusters, l1_size;
	uint64_t incompatible, compatible;
	unsigned snapshots;
	char backing[1024];
	char backing_format[32];
};

/* Header and a count of allocated clusters; fails cleanly on malformed images. */
int qcow2_info(const char *path, struct qcow2_info *info, struct err *e);

#endif
