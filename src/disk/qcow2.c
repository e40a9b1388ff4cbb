/* SPDX-License-Identifier: Apache-2.0 */
/* qcow2 images: header validation, cluster mapping, reads (with backing
 * chains, zero and compressed clusters) and copy-on-write writes. Metadata is
 * written through (no dirty cache): refcounts are on disk and synced before
 * any L2 entry points at a new cluster, a new L2 table before the L1 entry,
 * and a guest flush is an fdatasync of the image. */
#include "disk/qcow2_int.h"

#include "lib/iov.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

uint64_t be64(const void *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

uint32_t be32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return __builtin_bswap32(v);
}

void put_be64(void *p, uint64_t v)
{
	v = __builtin_bswap64(v);
	memcpy(p, &v, 8);
}

void put_be32(void *p, uint32_t v)
{
	v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
}

int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t k = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0) { /* past the end of the file: zeros */
			memset((uint8_t *)buf + done, 0, len - done);
			return 0;
		}
		done += (size_t)k;
	}
	return 0;
}

int pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t k =
		    pwrite(fd, (const uint8_t *)buf + done, len - done, (off_t)(off + done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		done += (size_t)k;
	}
	return 0;
}

int qcow2_read_header(int fd, struct qcow2_hdr *h, struct err *e)
{
	uint8_t b[4096];
	memset(h, 0, sizeof(*h));
	struct stat st;
	if (fstat(fd, &st))
		return err_sys(e, "stat");
	if (st.st_size < 72)
		return err_set(e, ERR_INPUT, "file too short for a qcow2 header");
	if (pread_full(fd, b, sizeof(b), 0))
		return err_sys(e, "reading the qcow2 header");
	if (be32(b) != QCOW2_MAGIC)
		return err_set(e, ERR_INPUT, "not a qcow2 image (bad magic)");
	h->version = be32(b + 4);
	h->backing_offset = be64(b + 8);
	h->backing_size = be32(b + 16);
	h->cluster_bits = be32(b + 20);
	h->size = be64(b + 24);
	h->crypt = be32(b + 32);
	h->l1_size = be32(b + 36);
	h->l1_offset = be64(b + 40);
	h->rt_offset = be64(b + 48);
	h->rt_clusters = be32(b + 56);
	h->nb_snapshots = be32(b + 60);
	h->snapshots_offset = be64(b + 64);
	h->refcount_order = 4;
	h->header_length = 72;
	if (h->version != 2 && h->version != 3)
		return err_set(e, ERR_INPUT, "qcow2 version %u is not supported (2 or 3)",
		               h->version);
	if (h->version == 3) {
		h->incompatible = be64(b + 72);
		h->compatible = be64(b + 80);
		h->autoclear = be64(b + 88);
		h->refcount_order = be32(b + 96);
		h->header_length = be32(b + 100);
		if (h->header_length < 104 || h->header_length > 1024)
			return err_set(e, ERR_INPUT, "qcow2 header length %u out of range",
			               h->header_length);
		if ((h->incompatible & INCOMPAT_COMPRESSION) && h->header_length > 104)
			h->compression = b[104];
	}
	if (h->cluster_bits < 9 || h->cluster_bits > 21)
		return err_set(e, ERR_INPUT, "qcow2 cluster_bits %u out of range (9..21)",
		               h->cluster_bits);
	uint64_t cs = 1ULL << h->cluster_bits;
	if (h->crypt)
		return err_set(e, ERR_INPUT, "encrypted qcow2 images are not supported");
	if (h->incompatible & ~(INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_COMPRESSION))
		return err_set(e, ERR_INPUT, "qcow2 incompatible features %#llx not supported",
		               (unsigned long long)h->incompatible);
	if (h->compression > 1)
		return err_set(e, ERR_INPUT, "qcow2 compression type %u unknown", h->compression);
	if (h->refcount_order > 6)
		return err_set(e, ERR_INPUT, "qcow2 refcount order %u out of range",
		               h->refcount_order);
	if (h->size > (1ULL << 56))
		return err_set(e, ERR_INPUT, "qcow2 virtual size %llu too large",
		               (unsigned long long)h->size);
	uint64_t l2_cover = cs * (cs / 8);
	uint64_t need = (h->size + l2_cover - 1) / l2_cover;
	if (h->l1_size < need || (uint64_t)h->l1_size * 8 > MAX_L1_BYTES)
		return err_set(e, ERR_INPUT, "qcow2 L1 size %u does not fit the virtual size",
		               h->l1_size);
	if ((h->l1_offset & (cs - 1)) || (h->l1_size && !h->l1_offset) ||
	    h->l1_offset > (1ULL << 56))
		return err_set(e, ERR_INPUT, "qcow2 L1 table offset %#llx invalid",
		               (unsigned long long)h->l1_offset);
	if ((h->rt_offset & (cs - 1)) || !h->rt_offset || h->rt_offset > (1ULL << 56) ||
	    h->rt_clusters == 0 || (uint64_t)h->rt_clusters * cs > MAX_RT_BYTES)
		return err_set(e, ERR_INPUT, "qcow2 refcount table (%#llx, %u clusters) invalid",
		               (unsigned long long)h->rt_offset, h->rt_clusters);
	if (h->backing_offset) {
		if (h->backing_size == 0 || h->backing_size >= sizeof(h->backing) ||
		    h->backing_offset > sizeof(b) - h->backing_size || h->backing_offset > cs)
			return err_set(e, ERR_INPUT, "qcow2 backing file name out of range");
		memcpy(h->backing, b + h->backing_offset, h->backing_size);
		h->backing[h->backing_size] = '\0';
		if (strlen(h->backing) != h->backing_size)
			return err_set(e, ERR_INPUT, "qcow2 backing file name contains NUL");
	}
	/* header extensions, within the first cluster (and our 4 KiB buffer) */
	uint64_t off = h->version == 3 ? h->header_length : 72;
	uint64_t limit = cs < sizeof(b) ? cs : sizeof(b);
	while (off + 8 <= limit) {
		uint32_t type = be32(b + off), len = be32(b + off + 4);
		off += 8;
		if (type == EXT_END)
			break;
		if (len > limit - off)
			return err_set(e, ERR_INPUT, "qcow2 header extension %#x overruns", type);
		if (type == EXT_BACKING_FORMAT && len < sizeof(h->backing_format)) {
			memcpy(h->backing_format, b + off, len);
			h->backing_format[len] = '\0';
		}
		off += (len + 7) & ~7ULL;
	}
	return 0;
}

/* ---- L2 tables ---- */

static int bad(void)
{
	return -EIO; /* corrupt metadata: the request fails, the VMM carries on */
}

static int l2_load(struct qcow2 *q, uint64_t off, uint64_t **out)
{
	struct l2_slot *victim = &q->l2[0];
	for (unsigned i = 0; i < L2_CACHE; i++) {
		if (q->l2[i].off == off && q->l2[i].t) {
			q->l2[i].used = ++q->tick;
			*out = q->l2[i].t;
			return 0;
		}
		if (q->l2[i].used < victim->used)
			victim = &q->l2[i];
	}
	if ((off & (q->cs - 1)) || off + q->cs > q->file_size)
		return bad();
	if (!victim->t && !(victim->t = malloc(q->cs)))
		return -ENOMEM;
	victim->off = 0;
	int rc = pread_full(q->fd, victim->t, q->cs, off);
	if (rc)
		return rc;
	victim->off = off;
	victim->used = ++q->tick;
	*out = victim->t;
	return 0;
}

/* L2 entry for guest offset `g` (host byte order), 0 if unallocated. */
static int lookup(struct qcow2 *q, uint64_t g, uint64_t *entry)
{
	uint64_t l1i = g >> (q->h.cluster_bits + q->l2_bits);
	uint64_t l2i = (g >> q->h.cluster_bits) & ((1ULL << q->l2_bits) - 1);
	*entry = 0;
	if (l1i >= q->h.l1_size)
		return bad();
	uint64_t l2off = q->l1[l1i] & L1E_OFFSET;
	if (!l2off)
		return 0;
	uint64_t *t;
	int rc = l2_load(q, l2off, &t);
	if (rc)
		return rc;
	*entry = be64(&t[l2i]);
	/* every entry is checked before anything uses it */
	if (*entry & QE_COMPRESSED)
		return 0; /* checked when decompressed */
	uint64_t host = *entry & L2E_OFFSET;
	if ((*entry & 0x3f000000000001feULL) ||
	    (host && ((host & (q->cs - 1)) || host + q->cs > q->file_size)) ||
	    ((*entry & L2E_ZERO) && q->h.version < 3))
		return bad();
	return 0;
}

/* ---- reads ---- */

static void iov_zero(const struct iovec *iov, int n)
{
	for (int i = 0; i < n; i++)
		memset(iov[i].iov_base, 0, iov[i].iov_len);
}

static void iov_from_buf(const struct iovec *iov, int n, const uint8_t *src)
{
	for (int i = 0; i < n; i++) {
		memcpy(iov[i].iov_base, src, iov[i].iov_len);
		src += iov[i].iov_len;
	}
}

/* Host bytes [*off, *off + *len) holding a compressed cluster's data. */
static void compressed_range(const struct qcow2 *q, uint64_t entry, uint64_t *off, uint64_t *len)
{
	unsigned x = 62 - (q->h.cluster_bits - 8);
	uint64_t sectors = ((entry & ~QE_COPIED & ~QE_COMPRESSED) >> x) + 1;
	*off = entry & ((1ULL << x) - 1);
	*len = sectors * 512 - (*off & 511);
}

static int decompress(struct qcow2 *q, uint64_t entry)
{
	if (q->dc_entry == entry)
		return 0;
	uint64_t off, len;
	compressed_range(q, entry, &off, &len);
	if (len > 2 * q->cs || off + len > q->file_size + 512)
		return bad();
	int rc = pread_full(q->fd, q->zin, len, off);
	if (rc)
		return rc;
	q->dc_entry = 0;
	if (q->h.compression == 0) {
		z_stream z;
		memset(&z, 0, sizeof(z));
		if (inflateInit2(&z, -12) != Z_OK)
			return -ENOMEM;
		z.next_in = q->zin;
		z.avail_in = (uInt)len;
		z.next_out = q->dc;
		z.avail_out = (uInt)q->cs;
		int zr = inflate(&z, Z_FINISH);
		inflateEnd(&z);
		if ((zr != Z_STREAM_END && zr != Z_BUF_ERROR) || z.avail_out != 0)
			return bad();
	} else {
		ZSTD_DCtx *dctx = ZSTD_createDCtx();
		if (!dctx)
			return -ENOMEM;
		ZSTD_inBuffer in = {q->zin, len, 0};
		ZSTD_outBuffer out = {q->dc, q->cs, 0};
		while (out.pos < out.size) {
			size_t r = ZSTD_decompressStream(dctx, &out, &in);
			if (ZSTD_isError(r) || (r == 0 && out.pos < out.size) ||
			    (in.pos == in.size && out.pos < out.size))
				break;
		}
		ZSTD_freeDCtx(dctx);
		if (out.pos != out.size)
			return bad();
	}
	q->dc_entry = entry;
	return 0;
}

/* Read guest bytes [g, g+len) of one cluster into iov (exactly len bytes). */
static int read_piece(struct qcow2 *q, uint64_t g, const struct iovec *iov, int n, uint64_t len)
{
	uint64_t entry;
	int rc = lookup(q, g, &entry);
	if (rc)
		return rc;
	uint64_t in = g & (q->cs - 1);
	if (entry & QE_COMPRESSED) {
		if ((rc = decompress(q, entry)))
			return rc;
		iov_from_buf(iov, n, q->dc + in);
		return 0;
	}
	uint64_t host = entry & L2E_OFFSET;
	if (entry & L2E_ZERO) {
		iov_zero(iov, n);
		return 0;
	}
	if (!host) {
		if (!q->backing) {
			iov_zero(iov, n);
			return 0;
		}
		/* the backing file may be shorter than this image */
		uint64_t have = g < q->backing->size ? q->backing->size - g : 0;
		if (have >= len)
			return q->backing->ops->preadv(q->backing, iov, n, g);
		struct iovec part[DISK_IOV_MAX];
		int k = iov_slice(iov, n, 0, have, part);
		if (have && (rc = q->backing->ops->preadv(q->backing, part, k, g)))
			return rc;
		k = iov_slice(iov, n, have, len - have, part);
		iov_zero(part, k);
		return 0;
	}
	uint64_t off = host + in;
	while (n > 0) {
		ssize_t k = preadv(q->fd, iov, n > IOV_MAX ? IOV_MAX : n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		off += (uint64_t)k;
		while (n > 0 && (uint64_t)k >= iov->iov_len) {
			k -= (ssize_t)iov->iov_len;
			iov++, n--;
		}
		if (n > 0 && k > 0) {
			struct iovec rest = {(uint8_t *)iov->iov_base + k,
			                     iov->iov_len - (size_t)k};
			if ((rc = pread_full(q->fd, rest.iov_base, rest.iov_len, off)))
				return rc;
			off += rest.iov_len;
			iov++, n--;
		}
	}
	return 0;
}

/* Split [off, off+total) into cluster pieces and call fn on each. */
static int each_piece(struct qcow2 *q, const struct iovec *iov, int n, uint64_t off,
                      int (*fn)(struct qcow2 *, uint64_t, const struct iovec *, int, uint64_t))
{
	uint64_t total = iov_total(iov, n);
	if (n < 0 || n > DISK_IOV_MAX || total > q->d.size || off > q->d.size - total)
		return -EINVAL;
	uint64_t done = 0;
	struct iovec *part = malloc(sizeof(struct iovec) * (size_t)(n + 1));
	if (!part)
		return -ENOMEM;
	int rc = 0;
	while (done < total && !rc) {
		uint64_t g = off + done;
		uint64_t len = q->cs - (g & (q->cs - 1));
		if (len > total - done)
			len = total - done;
		int k = iov_slice(iov, n, done, len, part);
		rc = fn(q, g, part, k, len);
		done += len;
	}
	free(part);
	return rc;
}

static int q_preadv(struct disk *d, const struct iovec *iov, int n, uint64_t off)
{
	return each_piece((struct qcow2 *)d, iov, n, off, read_piece);
}

/* ---- writes ---- */

/* A compressed cluster's entry was replaced: its bytes are freed after the next flush. */
static int free_compressed(struct qcow2 *q, uint64_t entry)
{
	uint64_t off, len;
	compressed_range(q, entry, &off, &len);
	q->dc_entry = 0;
	return qcow2_defer_free(q, off, len);
}

static int set_l2(struct qcow2 *q, uint64_t g, uint64_t entry)
{
	uint64_t l1i = g >> (q->h.cluster_bits + q->l2_bits);
	uint64_t l2i = (g >> q->h.cluster_bits) & ((1ULL << q->l2_bits) - 1);
	uint64_t l1e = q->l1[l1i];
	int rc;
	if (l1e && !(l1e & QE_COPIED))
		return -EIO; /* shared L2 table (internal snapshot): refused at open */
	uint64_t l2off = l1e & L1E_OFFSET;
	if (!l2off) {
		/* new L2 table: zeroed on disk before the L1 entry points at it */
		l2off = qcow2_alloc(q, &rc);
		if (!l2off)
			return rc;
		memset(q->cbuf, 0, q->cs);
		if ((rc = pwrite_full(q->fd, q->cbuf, q->cs, l2off)))
			return rc;
		if (l2off + q->cs > q->file_size)
			q->file_size = l2off + q->cs;
		uint8_t be[8];
		put_be64(be, l2off | QE_COPIED);
		if ((rc = pwrite_full(q->fd, be, 8, q->h.l1_offset + 8 * l1i)))
			return rc;
		q->l1[l1i] = l2off | QE_COPIED;
	}
	uint64_t *t;
	if ((rc = l2_load(q, l2off, &t)))
		return rc;
	uint8_t be[8];
	put_be64(be, entry);
	if ((rc = pwrite_full(q->fd, be, 8, l2off + 8 * l2i)))
		return rc;
	memcpy(&t[l2i], be, 8);
	return 0;
}

static void gather(const struct iovec *iov, int n, uint8_t *dst)
{
	for (int i = 0; i < n; i++) {
		memcpy(dst, iov[i].iov_base, iov[i].iov_len);
		dst += iov[i].iov_len;
	}
}

static int write_piece(struct qcow2 *q, uint64_t g, const struct iovec *iov, int n, uint64_t len)
{
	uint64_t entry;
	int rc = lookup(q, g, &entry);
	if (rc)
		return rc;
	uint64_t in = g & (q->cs - 1), host = entry & L2E_OFFSET;
	int compressed = !!(entry & QE_COMPRESSED);
	if (!compressed && (entry & QE_COPIED) && host && !(entry & L2E_ZERO)) {
		/* allocated and ours alone: write in place */
		gather(iov, n, q->cbuf);
		return pwrite_full(q->fd, q->cbuf, len, host + in);
	}
	/* copy-on-write: build the whole new cluster, then point the L2 entry at it */
	uint64_t g0 = g - in;
	uint64_t cl =
	    q->d.size - g0 < q->cs ? q->d.size - g0 : q->cs; /* last cluster may be short */
	if (len < cl) {
		struct iovec whole = {q->cbuf, cl};
		if (!compressed && (entry & L2E_ZERO))
			memset(q->cbuf, 0, q->cs);
		else if ((rc = read_piece(q, g0, &whole, 1, cl)))
			return rc;
	}
	memset(q->cbuf + cl, 0, q->cs - cl);
	gather(iov, n, q->cbuf + in);
	uint64_t target;
	int reuse = !compressed && (entry & QE_COPIED) && host; /* zero cluster, still ours */
	if (reuse) {
		target = host;
	} else {
		target = qcow2_alloc(q, &rc);
		if (!target)
			return rc;
	}
	if ((rc = pwrite_full(q->fd, q->cbuf, q->cs, target)))
		return rc;
	if (target + q->cs > q->file_size)
		q->file_size = target + q->cs;
	if ((rc = set_l2(q, g0, target | QE_COPIED)))
		return rc;
	if (compressed)
		return free_compressed(q, entry);
	if (host && !reuse)
		return qcow2_defer_free(q, host, q->cs);
	return 0;
}

static int q_pwritev(struct disk *d, const struct iovec *iov, int n, uint64_t off)
{
	if (d->readonly)
		return -EROFS;
	return each_piece((struct qcow2 *)d, iov, n, off, write_piece);
}

static int q_flush(struct disk *d)
{
	struct qcow2 *q = (struct qcow2 *)d;
	if (d->readonly)
		return 0;
	if (fdatasync(q->fd))
		return -errno;
	return qcow2_apply_frees(q);
}

/* Make the whole cluster at guest offset g read as zeros without data (a
 * version-3 zero entry); its host cluster is released after the next flush. */
static int zero_cluster(struct qcow2 *q, uint64_t g)
{
	uint64_t entry;
	int rc = lookup(q, g, &entry);
	if (rc)
		return rc;
	int compressed = !!(entry & QE_COMPRESSED);
	uint64_t host = compressed ? 0 : entry & L2E_OFFSET;
	if (!compressed && (entry & L2E_ZERO) && !host)
		return 0; /* already */
	if (!entry && !q->backing)
		return 0; /* unallocated without a backing file reads as zeros */
	if ((rc = set_l2(q, g, L2E_ZERO)))
		return rc;
	if (compressed)
		return free_compressed(q, entry);
	return host ? qcow2_defer_free(q, host, q->cs) : 0;
}

/* Zero [off, off+len): whole clusters by zero entries (version 3), the
 * partial ones at the edges by writing zeros when `write_edges` is set. */
static int zero_range(struct qcow2 *q, uint64_t off, uint64_t len, int write_edges)
{
	if (q->d.readonly)
		return -EROFS;
	if (len > q->d.size || off > q->d.size - len)
		return -EINVAL;
	int rc = 0;
	while (len && !rc) {
		uint64_t in = off & (q->cs - 1);
		uint64_t cl = q->cs - in; /* to the end of this cluster or of the disk */
		if (cl > q->d.size - off)
			cl = q->d.size - off;
		uint64_t k = len < cl ? len : cl;
		if (in == 0 && k == cl && q->h.version >= 3) {
			rc = zero_cluster(q, off);
		} else if (write_edges) {
			uint8_t *z = calloc(1, k); /* not cbuf: write_piece works in it */
			if (!z)
				return -ENOMEM;
			struct iovec v = {z, k};
			rc = write_piece(q, off, &v, 1, k);
			free(z);
		}
		off += k;
		len -= k;
	}
	return rc;
}

/* Discard: whole clusters are released; partial ones are left as they are
 * (discard is a hint). */
static int q_discard(struct disk *d, uint64_t off, uint64_t len)
{
	return zero_range((struct qcow2 *)d, off, len, 0);
}

static int q_write_zeroes(struct disk *d, uint64_t off, uint64_t len)
{
	return zero_range((struct qcow2 *)d, off, len, 1);
}

static void q_close(struct disk *d)
{
	struct qcow2 *q = (struct qcow2 *)d;
	if (!d->readonly) {
		qcow2_release_reserved(q);
		if (fdatasync(q->fd) == 0)
			qcow2_apply_frees(q);
		fdatasync(q->fd);
	}
	disk_close(q->backing);
	for (unsigned i = 0; i < L2_CACHE; i++)
		free(q->l2[i].t);
	free(q->l1);
	free(q->rt);
	free(q->cbuf);
	free(q->zin);
	free(q->dc);
	free(q->rb);
	free(q->pending);
	close(q->fd);
	free(q);
}

static const struct disk_ops qcow2_ops = {
    .preadv = q_preadv,
    .pwritev = q_pwritev,
    .flush = q_flush,
    .discard = q_discard,
    .write_zeroes = q_write_zeroes,
    .close = q_close,
    .fds = NULL, /* sectors map through L1/L2 tables: synchronous only */
};

static int open_backing(struct qcow2 *q, const char *path, int depth, struct err *e)
{
	char full[PATH_MAX];
	const char *b = q->h.backing;
	if (b[0] != '/') {
		char tmp[PATH_MAX];
		snprintf(tmp, sizeof(tmp), "%s", path);
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", dirname(tmp), b) >= sizeof(full))
			return err_set(e, ERR_INPUT, "backing file path too long");
		b = full;
	}
	const char *fmt = q->h.backing_format;
	int is_q;
	if (!strcmp(fmt, "qcow2")) {
		is_q = 1;
	} else if (!strcmp(fmt, "raw")) {
		is_q = 0;
	} else if (!fmt[0]) {
		int fd = disk_open_file(b, O_RDONLY);
		if (fd < 0)
			return disk_open_error(e, "backing file", b);
		is_q = disk_is_qcow2_fd(fd);
		close(fd);
	} else {
		return err_set(e, ERR_INPUT, "backing format '%s' not supported", fmt);
	}
	int rc = is_q ? disk_open_qcow2(&q->backing, b, 1, DISK_CACHE_WRITEBACK, depth + 1, e)
	              : disk_open_raw(&q->backing, b, 1, DISK_CACHE_WRITEBACK, e);
	/* only the top image names each level, so a long chain's message stays short */
	return rc && depth == 0 ? err_prefix(e, "backing file %s", q->h.backing) : rc;
}

int disk_open_qcow2(struct disk **out, const char *path, int readonly, enum disk_cache cache,
                    int depth, struct err *e)
{
	(void)cache; /* metadata is written through; O_DIRECT is not used for qcow2 */
	*out = NULL;
	if (depth >= QCOW2_MAX_CHAIN)
		return err_set(e, ERR_INPUT, "%s: backing chain longer than %d", path,
		               QCOW2_MAX_CHAIN);
	int fd = disk_open_file(path, readonly ? O_RDONLY : O_RDWR);
	if (fd < 0)
		return disk_open_error(e, "image", path);
	struct qcow2 *q = calloc(1, sizeof(*q));
	if (!q) {
		close(fd);
		return err_sys(e, "allocating qcow2 state");
	}
	q->fd = fd;
	q->d = (struct disk){&qcow2_ops, 0, readonly, DISK_FMT_QCOW2, NULL};
	struct stat st;
	if (fstat(fd, &st))
		goto sys;
	q->file_size = (uint64_t)st.st_size;
	if (qcow2_read_header(fd, &q->h, e))
		goto fail;
	if (!readonly && (q->h.incompatible & (INCOMPAT_DIRTY | INCOMPAT_CORRUPT))) {
		err_set(e, ERR_INPUT, "image is marked %s: repair it first (qemu-img check -r all)",
		        (q->h.incompatible & INCOMPAT_CORRUPT) ? "corrupt" : "dirty");
		goto fail;
	}
	if (!readonly && q->h.nb_snapshots) {
		err_set(e, ERR_INPUT, "images with internal snapshots can only be opened readonly");
		goto fail;
	}
	q->cs = 1ULL << q->h.cluster_bits;
	q->l2_bits = q->h.cluster_bits - 3;
	q->d.size = q->h.size & ~511ULL;
	if (q->h.l1_offset + (uint64_t)q->h.l1_size * 8 > q->file_size) {
		err_set(e, ERR_INPUT, "L1 table beyond the end of the file");
		goto fail;
	}
	q->l1 = calloc(q->h.l1_size ? q->h.l1_size : 1, 8);
	q->cbuf = malloc(q->cs);
	q->zin = malloc(2 * q->cs + 512);
	q->dc = malloc(q->cs);
	if (!q->l1 || !q->cbuf || !q->zin || !q->dc)
		goto sys;
	if (pread_full(fd, q->l1, (size_t)q->h.l1_size * 8, q->h.l1_offset))
		goto sys;
	for (uint32_t i = 0; i < q->h.l1_size; i++) {
		q->l1[i] = be64(&q->l1[i]);
		uint64_t o = q->l1[i] & L1E_OFFSET;
		if ((o & (q->cs - 1)) || (q->l1[i] & ~(L1E_OFFSET | QE_COPIED))) {
			err_set(e, ERR_INPUT, "L1 entry %u is corrupt (%#llx)", i,
			        (unsigned long long)q->l1[i]);
			goto fail;
		}
	}
	if (!readonly && qcow2_refcounts_load(q, e))
		goto fail;
	if (q->h.backing[0] && open_backing(q, path, depth, e))
		goto fail;
	*out = &q->d;
	return 0;
sys:
	err_sys(e, "reading %s", path);
fail:
	if (depth == 0)
		err_prefix(e, "%s", path);
	q->d.readonly = 1; /* close without touching the file */
	q_close(&q->d);
	return -1;
}
