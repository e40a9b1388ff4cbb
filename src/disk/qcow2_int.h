/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the qcow2 driver: shared by qcow2.c (I/O) and qcow2_meta.c
 * (refcounts, allocation, creation). */
#ifndef CAPSA_DISK_QCOW2_INT_H
#define CAPSA_DISK_QCOW2_INT_H

#include "disk/disk.h"
#include "disk/qcow2.h"

#include <stdint.h>

#define QCOW2_MAGIC 0x514649fbu

#define L1E_OFFSET    0x00fffffffffffe00ULL
#define L2E_OFFSET    0x00fffffffffffe00ULL
#define QE_COPIED     (1ULL << 63)
#define QE_COMPRESSED (1ULL << 62)
#define L2E_ZERO      1ULL

#define INCOMPAT_DIRTY       (1ULL << 0)
#define INCOMPAT_CORRUPT     (1ULL << 1)
#define INCOMPAT_DATA_FILE   (1ULL << 2)
#define INCOMPAT_COMPRESSION (1ULL << 3)
#define INCOMPAT_EXTL2       (1ULL << 4)

#define EXT_END            0
#define EXT_BACKING_FORMAT 0xe2792acau

#define L2_CACHE     16
#define MAX_L1_BYTES (32u << 20)
#define MAX_RT_BYTES (8u << 20)

struct qcow2_hdr {
	uint32_t version, cluster_bits, crypt, l1_size, rt_clusters, nb_snapshots;
	uint32_t refcount_order, header_length, backing_size;
	uint64_t backing_offset, size, l1_offset, rt_offset, snapshots_offset;
	uint64_t incompatible, compatible, autoclear;
	uint8_t compression;
	char backing[1024];
	char backing_format[32];
};

struct l2_slot {
	uint64_t off; /* host offset of the table, 0 if empty */
	uint64_t *t;
	uint64_t used;
};

struct qcow2 {
	struct disk d;
	int fd;
	struct qcow2_hdr h;
	uint64_t cs; /* cluster size */
	unsigned l2_bits;
	uint64_t *l1;
	uint64_t *rt;
	uint64_t rt_entries;
	unsigned rb_bits; /* log2 of refcount entries per block */
	struct disk *backing;
	uint64_t file_size;

	struct l2_slot l2[L2_CACHE];
	uint64_t tick;
	uint8_t *cbuf;     /* one cluster, for copy-on-write */
	uint8_t *zin;      /* compressed input (2 clusters) */
	uint8_t *dc;       /* last decompressed cluster */
	uint64_t dc_entry; /* its L2 entry, 0 if none */

	/* refcount block being edited */
	uint8_t *rb;
	uint64_t rb_off;
	int rb_dirty;
	/* clusters whose refcounts are already 1 on disk, handed out in order */
	uint64_t next_free, pre_next, pre_end; /* cluster indexes */
	/* refcount decrements that must wait for the next flush */
	uint64_t *pending;
	size_t npending, cap_pending;
};

/* qcow2.c */
int qcow2_read_header(int fd, struct qcow2_hdr *h, struct err *e);
uint64_t be64(const void *p);
uint32_t be32(const void *p);
void put_be64(void *p, uint64_t v);
void put_be32(void *p, uint32_t v);
int pread_full(int fd, void *buf, size_t len, uint64_t off);
int pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

/* qcow2_meta.c */
int qcow2_refcounts_load(struct qcow2 *q, struct err *e);
/* A fresh cluster (host offset) whose refcount is 1 on disk; 0 on error (*rc = -errno). */
uint64_t qcow2_alloc(struct qcow2 *q, int *rc);
/* Refcount -1 for [off, off+len) host bytes, applied after the next flush. */
int qcow2_defer_free(struct qcow2 *q, uint64_t off, uint64_t len);
/* After fdatasync: apply deferred decrements. */
int qcow2_apply_frees(struct qcow2 *q);
/* On close: give back reserved clusters nobody used. */
void qcow2_release_reserved(struct qcow2 *q);
int qcow2_get_refcount(struct qcow2 *q, uint64_t cluster, uint64_t *val);

#endif
