/* SPDX-License-Identifier: Apache-2.0 */
/* qcow2 refcounts and cluster allocation, image creation and inspection.
 *
 * New clusters are taken from the end of the image in batches: the batch's
 * refcounts are written and synced first, so an L2 entry can never point at a
 * cluster whose refcount is 0 on disk. A crash leaks at most the unused part
 * of a batch (qemu-img check reports leaks, not corruption); a clean close
 * gives it back. Refcount decrements wait until the L2 update that made them
 * possible has been flushed. When the clusters outgrow the refcount table, a
 * larger table is built past the end of the image and the header switched to
 * it with one write (grow_table). */
#include "disk/qcow2_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH_BYTES (16u << 20)

static uint64_t rc_get_raw(const struct qcow2 *q, const uint8_t *blk, uint64_t i)
{
	switch (q->h.refcount_order) {
	case 3:
		return blk[i];
	case 4:
		return (uint64_t)blk[2 * i] << 8 | blk[2 * i + 1];
	case 5:
		return be32(blk + 4 * i);
	default:
		return be64(blk + 8 * i);
	}
}

static void rc_set_raw(const struct qcow2 *q, uint8_t *blk, uint64_t i, uint64_t v)
{
	switch (q->h.refcount_order) {
	case 3:
		blk[i] = (uint8_t)v;
		break;
	case 4:
		blk[2 * i] = (uint8_t)(v >> 8);
		blk[2 * i + 1] = (uint8_t)v;
		break;
	case 5:
		put_be32(blk + 4 * i, (uint32_t)v);
		break;
	default:
		put_be64(blk + 8 * i, v);
		break;
	}
}

static int rb_flush(struct qcow2 *q)
{
	if (!q->rb_dirty)
		return 0;
	int rc = pwrite_full(q->fd, q->rb, q->cs, q->rb_off);
	if (rc)
		return rc;
	if (q->rb_off + q->cs > q->file_size)
		q->file_size = q->rb_off + q->cs;
	q->rb_dirty = 0;
	return 0;
}

static int rb_load(struct qcow2 *q, uint64_t off)
{
	if (q->rb_off == off)
		return 0;
	int rc = rb_flush(q);
	if (rc)
		return rc;
	if (off & (q->cs - 1))
		return -EIO;
	q->rb_off = 0;
	if ((rc = pread_full(q->fd, q->rb, q->cs, off)))
		return rc;
	q->rb_off = off;
	return 0;
}

int qcow2_get_refcount(struct qcow2 *q, uint64_t cluster, uint64_t *val)
{
	uint64_t rti = cluster >> q->rb_bits;
	*val = 0;
	if (rti >= q->rt_entries || !q->rt[rti])
		return 0;
	int rc = rb_load(q, q->rt[rti]);
	if (rc)
		return rc;
	*val = rc_get_raw(q, q->rb, cluster & ((1ULL << q->rb_bits) - 1));
	return 0;
}

static int set_refcount(struct qcow2 *q, uint64_t cluster, uint64_t v)
{
	uint64_t rti = cluster >> q->rb_bits;
	if (rti >= q->rt_entries || !q->rt[rti])
		return -EIO;
	int rc = rb_load(q, q->rt[rti]);
	if (rc)
		return rc;
	rc_set_raw(q, q->rb, cluster & ((1ULL << q->rb_bits) - 1), v);
	q->rb_dirty = 1;
	return 0;
}

static int is_refblock(const struct qcow2 *q, uint64_t cluster)
{
	uint64_t rti = cluster >> q->rb_bits;
	return rti < q->rt_entries && q->rt[rti] == cluster * q->cs;
}

int qcow2_refcounts_load(struct qcow2 *q, struct err *e)
{
	if (q->h.refcount_order < 3)
		return err_set(e, ERR_INPUT, "refcount width %u bits: only 8..64 are writable",
		               1u << q->h.refcount_order);
	q->rt_entries = (uint64_t)q->h.rt_clusters * q->cs / 8;
	q->rt = malloc(q->rt_entries * 8);
	q->rb = malloc(q->cs);
	if (!q->rt || !q->rb)
		return err_sys(e, "allocating the refcount table");
	if (q->h.rt_offset + q->rt_entries * 8 > q->file_size)
		return err_set(e, ERR_INPUT, "refcount table beyond the end of the file");
	if (pread_full(q->fd, q->rt, q->rt_entries * 8, q->h.rt_offset))
		return err_sys(e, "reading the refcount table");
	q->rb_bits = q->h.cluster_bits + 3 - q->h.refcount_order;
	for (uint64_t i = 0; i < q->rt_entries; i++) {
		q->rt[i] = be64(&q->rt[i]);
		if ((q->rt[i] & (q->cs - 1)) || q->rt[i] > (1ULL << 56))
			return err_set(e, ERR_INPUT, "refcount table entry %llu is corrupt",
			               (unsigned long long)i);
	}
	/* first free cluster: past the end of the file and past every counted cluster */
	q->next_free = (q->file_size + q->cs - 1) / q->cs;
	for (uint64_t i = q->next_free >> q->rb_bits; i < q->rt_entries; i++) {
		if (!q->rt[i])
			continue;
		if (rb_load(q, q->rt[i]))
			return err_set(e, ERR_INPUT, "refcount block %llu unreadable",
			               (unsigned long long)i);
		for (uint64_t j = 0; j < (1ULL << q->rb_bits); j++)
			if (rc_get_raw(q, q->rb, j)) {
				uint64_t c = (i << q->rb_bits) + j + 1;
				if (c > q->next_free)
					q->next_free = c;
			}
	}
	q->pre_next = q->pre_end = q->next_free;
	return 0;
}

/* Refcount-table entries whose blocks are missing among indexes [first, last]. */
static uint64_t missing_blocks(const struct qcow2 *q, uint64_t first, uint64_t last)
{
	uint64_t n = 0;
	for (uint64_t i = first; i <= last; i++)
		n += i >= q->rt_entries || !q->rt[i];
	return n;
}

/* Replace the refcount table with one of at least `need` entries. The new
 * table goes at the first free cluster, after the refcount blocks that the
 * new clusters themselves need; everything is written and synced before the
 * header points at it, so a crash leaves either table in force (the new
 * clusters are then unreferenced: a leak, not corruption). */
static int grow_table(struct qcow2 *q, uint64_t need)
{
	uint64_t per_cluster = q->cs / 8, old_clusters = q->h.rt_clusters;
	uint64_t tc = old_clusters * 2;
	if (tc * per_cluster < need)
		tc = (need + per_cluster - 1) / per_cluster;
	if (tc * q->cs > MAX_RT_BYTES)
		return -ENOSPC;
	/* layout: [start, start + nb) new refcount blocks, then tc table clusters;
	 * nb must cover every block-less range that the layout itself spans */
	uint64_t start = q->next_free, nb = 0;
	for (;;) {
		uint64_t end = start + nb + tc;
		uint64_t want = missing_blocks(q, start >> q->rb_bits, (end - 1) >> q->rb_bits);
		if (want <= nb)
			break;
		nb = want;
	}
	uint64_t end = start + nb + tc, entries = tc * per_cluster;
	if (((end - 1) >> q->rb_bits) >= entries)
		return -ENOSPC; /* cannot happen with doubling; refuse rather than loop */
	uint64_t *nt = calloc(entries, 8);
	uint8_t *blk = calloc(1, q->cs);
	if (!nt || !blk) {
		free(nt);
		free(blk);
		return -ENOMEM;
	}
	memcpy(nt, q->rt, q->rt_entries * 8);
	int rc = 0;
	/* refcount blocks: new ones written whole, existing ones edited */
	uint64_t next_block = start;
	for (uint64_t i = start >> q->rb_bits; i <= (end - 1) >> q->rb_bits && !rc; i++) {
		uint64_t lo = i << q->rb_bits, hi = lo + (1ULL << q->rb_bits);
		if (lo < start)
			lo = start;
		if (hi > end)
			hi = end;
		if (nt[i]) {
			for (uint64_t c = lo; c < hi && !rc; c++)
				rc = set_refcount(q, c, 1);
			continue;
		}
		memset(blk, 0, q->cs);
		for (uint64_t c = lo; c < hi; c++)
			rc_set_raw(q, blk, c & ((1ULL << q->rb_bits) - 1), 1);
		nt[i] = next_block++ * q->cs;
		rc = pwrite_full(q->fd, blk, q->cs, nt[i]);
	}
	if (!rc)
		rc = rb_flush(q);
	/* the table, big-endian on disk */
	uint64_t toff = (start + nb) * q->cs;
	for (uint64_t i = 0; i < entries && !rc; i++)
		put_be64(&nt[i], nt[i]);
	if (!rc)
		rc = pwrite_full(q->fd, nt, entries * 8, toff);
	if (!rc && fdatasync(q->fd))
		rc = -errno;
	/* switch: rt_offset and rt_clusters are adjacent in the header */
	uint8_t h[12];
	put_be64(h, toff);
	put_be32(h + 8, (uint32_t)tc);
	if (!rc)
		rc = pwrite_full(q->fd, h, sizeof(h), 48);
	if (!rc && fdatasync(q->fd))
		rc = -errno;
	free(blk);
	if (rc) {
		free(nt);
		return rc;
	}
	for (uint64_t i = 0; i < entries; i++)
		nt[i] = be64(&nt[i]);
	uint64_t old_off = q->h.rt_offset;
	free(q->rt);
	q->rt = nt;
	q->rt_entries = entries;
	q->h.rt_offset = toff;
	q->h.rt_clusters = (uint32_t)tc;
	if (end * q->cs > q->file_size)
		q->file_size = end * q->cs;
	q->next_free = end;
	/* the old table is free once the new one is in force */
	for (uint64_t c = old_off / q->cs; c < old_off / q->cs + old_clusters && !rc; c++)
		rc = set_refcount(q, c, 0);
	return rc ? rc : rb_flush(q);
}

/* Give refcount 1 to the next n free clusters (new refcount blocks are placed
 * among them and cover themselves), then sync. */
static int reserve(struct qcow2 *q, uint64_t n)
{
	uint64_t start = q->next_free, got = 0;
	int rc;
	while (got < n) {
		uint64_t idx = q->next_free;
		uint64_t rti = idx >> q->rb_bits;
		if (rti >= q->rt_entries) {
			if (got)
				break; /* hand out what we have; the next batch grows the table */
			if ((rc = grow_table(q, rti + 1)))
				return rc;
			start = q->next_free; /* past the new table and its blocks */
			continue;
		}
		if (!q->rt[rti]) {
			if ((rc = rb_flush(q)))
				return rc;
			memset(q->rb, 0, q->cs);
			q->rb_off = idx * q->cs;
			rc_set_raw(q, q->rb, idx & ((1ULL << q->rb_bits) - 1), 1);
			q->rb_dirty = 1;
			if ((rc = rb_flush(q)))
				return rc;
			uint8_t be[8];
			put_be64(be, idx * q->cs);
			if ((rc = pwrite_full(q->fd, be, 8, q->h.rt_offset + 8 * rti)))
				return rc;
			q->rt[rti] = idx * q->cs;
			q->next_free++;
			continue;
		}
		if ((rc = set_refcount(q, idx, 1)))
			return rc;
		q->next_free++;
		got++;
	}
	if ((rc = rb_flush(q)))
		return rc;
	if (fdatasync(q->fd))
		return -errno;
	q->pre_next = start;
	q->pre_end = q->next_free;
	return 0;
}

uint64_t qcow2_alloc(struct qcow2 *q, int *rc)
{
	for (;;) {
		while (q->pre_next < q->pre_end && is_refblock(q, q->pre_next))
			q->pre_next++;
		if (q->pre_next < q->pre_end)
			return q->pre_next++ * q->cs;
		uint64_t n = BATCH_BYTES / q->cs;
		if ((*rc = reserve(q, n > 1024 ? 1024 : n < 16 ? 16 : n)))
			return 0;
	}
}

int qcow2_defer_free(struct qcow2 *q, uint64_t off, uint64_t len)
{
	for (uint64_t c = off / q->cs; c * q->cs < off + len; c++) {
		if (q->npending == q->cap_pending) {
			size_t cap = q->cap_pending ? 2 * q->cap_pending : 64;
			uint64_t *p = realloc(q->pending, cap * sizeof(*p));
			if (!p)
				return 0; /* a leak, not corruption */
			q->pending = p;
			q->cap_pending = cap;
		}
		q->pending[q->npending++] = c;
	}
	return 0;
}

int qcow2_apply_frees(struct qcow2 *q)
{
	int rc = 0;
	for (size_t i = 0; i < q->npending && !rc; i++) {
		uint64_t v;
		rc = qcow2_get_refcount(q, q->pending[i], &v);
		if (!rc && v)
			rc = set_refcount(q, q->pending[i], v - 1);
		/* a cluster nobody uses any more gives its space back to the host */
		if (!rc && v == 1)
			(void)fallocate(q->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			                (off_t)(q->pending[i] * q->cs), (off_t)q->cs);
	}
	q->npending = 0;
	int r2 = rb_flush(q);
	return rc ? rc : r2;
}

void qcow2_release_reserved(struct qcow2 *q)
{
	for (uint64_t c = q->pre_next; c < q->pre_end; c++)
		if (!is_refblock(q, c) && set_refcount(q, c, 0))
			break;
	q->pre_next = q->pre_end;
	rb_flush(q);
}

/* ---- creation ---- */

static int probe_size(const char *backing, const char *out, uint64_t *size, char *fmt,
                      struct err *e)
{
	char full[PATH_MAX], tmp[PATH_MAX];
	const char *b = backing;
	if (b[0] != '/') {
		snprintf(tmp, sizeof(tmp), "%s", out);
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", dirname(tmp), b) >= sizeof(full))
			return err_set(e, ERR_INPUT, "backing path too long");
		b = full;
	}
	int fd = disk_open_file(b, O_RDONLY);
	if (fd < 0)
		return disk_open_error(e, "backing file", b);
	int q = disk_is_qcow2_fd(fd);
	close(fd);
	struct disk *d;
	int rc = q ? disk_open_qcow2(&d, b, 1, DISK_CACHE_WRITEBACK, 1, e)
	           : disk_open_raw(&d, b, 1, DISK_CACHE_WRITEBACK, e);
	if (rc)
		return -1;
	*size = d->size;
	strcpy(fmt, q ? "qcow2" : "raw");
	disk_close(d);
	return 0;
}

int qcow2_create(const char *path, const struct qcow2_create_opts *o, struct err *e)
{
	unsigned cb = o->cluster_bits ? o->cluster_bits : 16;
	if (cb < 9 || cb > 21)
		return err_set(e, ERR_INPUT, "cluster size 2^%u out of range", cb);
	uint64_t cs = 1ULL << cb, size = o->size;
	char fmt[8] = "";
	if (o->backing) {
		if (strlen(o->backing) >= 1000)
			return err_set(e, ERR_INPUT, "backing file name too long");
		uint64_t bsize;
		if (probe_size(o->backing, path, &bsize, fmt, e))
			return -1;
		if (!size)
			size = bsize;
	}
	if (!size)
		return err_set(e, ERR_INPUT, "--size is required without --backing");
	size = (size + 511) & ~511ULL;
	if (size > (1ULL << 50))
		return err_set(e, ERR_INPUT, "size %llu too large (at most 1 PiB)",
		               (unsigned long long)size);
	uint64_t l2_cover = cs * (cs / 8);
	uint64_t l1_size = (size + l2_cover - 1) / l2_cover;
	uint64_t l1_clusters = (l1_size * 8 + cs - 1) / cs;
	uint64_t nclusters = 3 + l1_clusters;
	if (l1_size * 8 > MAX_L1_BYTES || nclusters > (cs * 8 / 16))
		return err_set(e, ERR_INPUT, "size too large for %llu-byte clusters",
		               (unsigned long long)cs);

	uint8_t *buf = calloc(3, cs);
	if (!buf)
		return err_sys(e, "allocating");
	uint8_t *h = buf, *rt = buf + cs, *rb = buf + 2 * cs;
	put_be32(h, QCOW2_MAGIC);
	put_be32(h + 4, 3);
	put_be32(h + 20, cb);
	put_be64(h + 24, size);
	put_be32(h + 36, (uint32_t)l1_size);
	put_be64(h + 40, 3 * cs);
	put_be64(h + 48, cs);
	put_be32(h + 56, 1);
	put_be32(h + 96, 4);    /* 16-bit refcounts */
	put_be32(h + 100, 112); /* header length, with the compression type byte */
	uint64_t off = 112;
	if (o->backing) {
		size_t fl = strlen(fmt);
		put_be32(h + off, EXT_BACKING_FORMAT);
		put_be32(h + off + 4, (uint32_t)fl);
		memcpy(h + off + 8, fmt, fl);
		off += 8 + ((fl + 7) & ~7ULL);
	}
	off += 8; /* end-of-extensions marker: type 0, length 0 */
	if (o->backing) {
		size_t bl = strlen(o->backing);
		put_be64(h + 8, off);
		put_be32(h + 16, (uint32_t)bl);
		memcpy(h + off, o->backing, bl);
	}
	put_be64(rt, 2 * cs);
	for (uint64_t i = 0; i < nclusters; i++) {
		rb[2 * i] = 0;
		rb[2 * i + 1] = 1;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		free(buf);
		err_sys(e, "creating %s", path);
		e->kind = errno == EEXIST ? ERR_INPUT : ERR_SYSTEM;
		return -1;
	}
	int rc = pwrite_full(fd, buf, 3 * cs, 0);
	if (!rc && ftruncate(fd, (off_t)(nclusters * cs)))
		rc = -errno;
	if (!rc && fsync(fd))
		rc = -errno;
	close(fd);
	free(buf);
	if (rc) {
		unlink(path);
		return err_errno(e, -rc, "writing %s", path);
	}
	return 0;
}

int qcow2_info(const char *path, struct qcow2_info *in, struct err *e)
{
	memset(in, 0, sizeof(*in));
	int fd = disk_open_file(path, O_RDONLY);
	if (fd < 0)
		return disk_open_error(e, "image", path);
	struct qcow2_hdr h;
	struct stat st;
	uint64_t *l1 = NULL, *l2 = NULL;
	int rc = -1;
	if (fstat(fd, &st)) {
		err_sys(e, "stat %s", path);
		goto out;
	}
	if (qcow2_read_header(fd, &h, e))
		goto out;
	uint64_t cs = 1ULL << h.cluster_bits;
	in->version = h.version;
	in->cluster_bits = h.cluster_bits;
	in->refcount_bits = 1u << h.refcount_order;
	in->compression = h.compression;
	in->size = h.size;
	in->file_size = (uint64_t)st.st_size;
	in->l1_size = h.l1_size;
	in->incompatible = h.incompatible;
	in->compatible = h.compatible;
	in->snapshots = h.nb_snapshots;
	snprintf(in->backing, sizeof(in->backing), "%s", h.backing);
	snprintf(in->backing_format, sizeof(in->backing_format), "%s", h.backing_format);
	l1 = calloc(h.l1_size ? h.l1_size : 1, 8);
	l2 = malloc(cs);
	if (!l1 || !l2) {
		err_sys(e, "allocating");
		goto out;
	}
	if (h.l1_offset + (uint64_t)h.l1_size * 8 > in->file_size ||
	    pread_full(fd, l1, (size_t)h.l1_size * 8, h.l1_offset)) {
		err_set(e, ERR_INPUT, "L1 table unreadable");
		goto out;
	}
	for (uint32_t i = 0; i < h.l1_size; i++) {
		uint64_t o = be64(&l1[i]) & L1E_OFFSET;
		if (!o)
			continue;
		if ((o & (cs - 1)) || o + cs > in->file_size || pread_full(fd, l2, cs, o)) {
			err_set(e, ERR_INPUT, "L2 table %u at %#llx is corrupt", i,
			        (unsigned long long)o);
			goto out;
		}
		for (uint64_t j = 0; j < cs / 8; j++) {
			uint64_t v = be64(&l2[j]);
			if ((v & QE_COMPRESSED) || (v & L2E_OFFSET))
				in->allocated_clusters++;
		}
	}
	rc = 0;
out:
	free(l1);
	free(l2);
	close(fd);
	if (rc)
		err_prefix(e, "%s", path);
	return rc;
}
