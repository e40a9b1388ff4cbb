/* SPDX-License-Identifier: Apache-2.0 */
/* See memz.h. Every index entry is bounded before it is used; a chunk's
 * CRC is checked before it is decompressed, and it must decompress to
 * exactly its size. */
#include "vm/snapshot/memz.h"

#include <fcntl.h>
#include <lz4.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/* Is entry c (of n bytes) a kind the codec has, with a length it allows? */
static int kind_ok(const struct snap_memz *m, const struct snap_memz_ent *c, uint64_t n)
{
	switch (c->kind) {
	case SNAP_CHUNK_ZERO:
		return c->len == 0;
	case SNAP_CHUNK_RAW:
		return c->len == n;
	case SNAP_CHUNK_ZSTD:
		return c->len > 0 && c->len <= ZSTD_compressBound(n);
	case SNAP_CHUNK_LZ4:
		return m->hdr.codec == SNAP_MEMZ_MIXED && c->len > 0 &&
		       c->len <= (uint64_t)LZ4_compressBound((int)n);
	}
	return 0;
}

/* Entry i: a kind the codec has, a length it allows, known flags, stored
 * bytes in [lo, hi) of the file. */
static int check_entry(const struct snap_memz *m, uint64_t i, uint64_t lo, uint64_t hi,
                       struct err *e)
{
	const struct snap_memz_ent *c = &m->ent[i];
	uint32_t known = m->version >= 5 ? SNAP_CHUNK_HOT | SNAP_CHUNK_MAPPED : SNAP_CHUNK_HOT;
	int ok = kind_ok(m, c, snap_memz_chunk_len(m->memory, m->hdr.chunk_size, i)) &&
	         !(c->flags & ~known);
	if (ok && (c->flags & SNAP_CHUNK_MAPPED)) /* mmap needs a raw, page-aligned chunk */
		ok = c->kind == SNAP_CHUNK_RAW && c->offset % SNAP_PAGE == 0;
	if (ok && c->kind != SNAP_CHUNK_ZERO)
		ok = c->offset >= lo && c->offset <= hi && c->len <= hi - c->offset;
	return ok ? 0
	          : err_set(e, ERR_INPUT, "snapshot memory index entry %llu is corrupt",
	                    (unsigned long long)i);
}

/* Version 3: nchunks entries right after the header. */
static int load_full(int fd, struct snap_memz *m, const struct snap_section *s, struct err *e)
{
	/* memory is bounded (snap_machine_check), so nchunks and the index are */
	uint64_t isize = sizeof(m->hdr) + m->hdr.nchunks * sizeof(*m->ent);
	if (isize > s->size)
		return err_set(e, ERR_INPUT, "snapshot memory index is cut short");
	if (!(m->ent = malloc(m->hdr.nchunks * sizeof(*m->ent))))
		return err_sys(e, "allocating the memory index");
	if (snap_pread_all(fd, m->ent, isize - sizeof(m->hdr), s->offset + sizeof(m->hdr), e))
		return -1;
	uLong crc = crc32(0, (const Bytef *)&m->hdr, sizeof(m->hdr));
	crc = crc32(crc, (const Bytef *)m->ent, (uInt)(isize - sizeof(m->hdr)));
	if ((uint32_t)crc != s->crc)
		return err_set(e, ERR_INPUT,
		               "snapshot memory index is corrupt (checksum mismatch)");
	for (uint64_t i = 0; i < m->hdr.nchunks; i++) {
		m->ent[i].flags = 0; /* padding then */
		if (check_entry(m, i, s->offset + isize, s->offset + s->size, e))
			return -1;
		if (m->ent[i].kind == SNAP_CHUNK_ZSTD && m->zstd_chunk == m->hdr.nchunks)
			m->zstd_chunk = i;
	}
	return 0;
}

/* Version 4's stored entries, checked, into m->ent and m->hot. */
static int place_stored(struct snap_memz *m, const struct snap_memz_stored *st, uint64_t n,
                        uint64_t lo, uint64_t hi, struct err *e)
{
	for (uint64_t k = 0; k < n; k++) {
		const struct snap_memz_stored *c = &st[k];
		if (c->chunk >= m->hdr.nchunks || (k && c->chunk <= st[k - 1].chunk) ||
		    c->kind == SNAP_CHUNK_ZERO)
			return err_set(e, ERR_INPUT, "snapshot memory index entry %llu is corrupt",
			               (unsigned long long)c->chunk);
		m->ent[c->chunk] =
		    (struct snap_memz_ent){c->offset, c->len, c->crc, c->kind, c->flags};
		if (check_entry(m, c->chunk, lo, hi, e))
			return -1;
		if (c->flags & SNAP_CHUNK_HOT)
			m->hot[m->nhot++] = c->chunk;
		if (c->flags & SNAP_CHUNK_MAPPED)
			m->mapped[m->nmapped++] = c->chunk;
		if (c->kind == SNAP_CHUNK_ZSTD && m->zstd_chunk == m->hdr.nchunks)
			m->zstd_chunk = c->chunk;
	}
	return 0;
}

/* Version 4: the count after the header, the entries at the section's end. */
static int load_sparse(int fd, struct snap_memz *m, const struct snap_section *s, struct err *e)
{
	uint64_t n;
	uint64_t head = sizeof(m->hdr) + sizeof(n);
	if (s->size < head || snap_pread_all(fd, &n, sizeof(n), s->offset + sizeof(m->hdr), e))
		return s->size < head ? err_set(e, ERR_INPUT, "snapshot memory index is cut short")
		                      : -1;
	if (n > m->hdr.nchunks || n * sizeof(struct snap_memz_stored) > s->size - head)
		return err_set(e, ERR_INPUT, "snapshot memory index is cut short");
	uint64_t isize = n * sizeof(struct snap_memz_stored);
	struct snap_memz_stored *st = malloc(isize ? isize : 1);
	m->ent = calloc(m->hdr.nchunks, sizeof(*m->ent));
	m->hot = malloc((n ? n : 1) * sizeof(*m->hot));
	m->mapped = malloc((n ? n : 1) * sizeof(*m->mapped));
	int rc =
	    st && m->ent && m->hot && m->mapped ? 0 : err_sys(e, "allocating the memory index");
	if (rc == 0)
		rc = snap_pread_all(fd, st, isize, s->offset + s->size - isize, e);
	if (rc == 0) {
		uLong crc = crc32(0, (const Bytef *)&m->hdr, sizeof(m->hdr));
		crc = crc32(crc, (const Bytef *)&n, sizeof(n));
		crc = crc32(crc, (const Bytef *)st, (uInt)isize);
		if ((uint32_t)crc != s->crc)
			rc = err_set(e, ERR_INPUT,
			             "snapshot memory index is corrupt (checksum mismatch)");
	}
	if (rc == 0)
		rc = place_stored(m, st, n, s->offset + head, s->offset + s->size - isize, e);
	free(st);
	return rc;
}

int snap_memz_load(int fd, const struct snap_header *h, struct snap_memz **out, struct err *e)
{
	*out = NULL;
	const struct snap_section *s = snap_find(h, SNAP_SEC_MEMZ);
	struct snap_memz *m = calloc(1, sizeof(*m));
	if (!s || !m) {
		free(m);
		return s ? err_sys(e, "allocating") : err_set(e, ERR_INTERNAL, "no memory index");
	}
	m->memory = h->memory;
	m->version = h->version;
	int rc = s->size < sizeof(m->hdr)
	             ? err_set(e, ERR_INPUT, "snapshot memory index is cut short")
	             : snap_pread_all(fd, &m->hdr, sizeof(m->hdr), s->offset, e);
	uint32_t cs = m->hdr.chunk_size;
	if (rc == 0 && (cs < SNAP_MEMZ_CHUNK_MIN || cs > SNAP_MEMZ_CHUNK_MAX || (cs & (cs - 1)) ||
	                (m->hdr.codec != SNAP_MEMZ_ZSTD &&
	                 (h->version < 4 || m->hdr.codec != SNAP_MEMZ_MIXED)) ||
	                m->hdr.nchunks != (h->memory + cs - 1) / cs))
		rc = err_set(e, ERR_INPUT, "snapshot memory index has a bad geometry");
	m->zstd_chunk = m->hdr.nchunks;
	if (rc == 0)
		rc = h->version < 4 ? load_full(fd, m, s, e) : load_sparse(fd, m, s, e);
	if (rc) {
		snap_memz_free(m);
		return -1;
	}
	*out = m;
	return 0;
}

void snap_memz_free(struct snap_memz *m)
{
	if (m) {
		free(m->ent);
		free(m->hot);
		free(m->mapped);
	}
	free(m);
}

/* Reading chunks: one per call, from one thread at a time. */
struct memz_reader {
	int fd;
	struct snap_memz *m;
	ZSTD_DCtx *dctx;
	uint8_t *in; /* stored bytes of one chunk */
};

static int corrupt(struct err *e, const struct snap_memz *m, uint64_t i, const char *what)
{
	uint64_t at = i * m->hdr.chunk_size;
	return err_set(
	    e, ERR_INPUT, "snapshot memory chunk %llu (guest memory 0x%llx-0x%llx) is corrupt (%s)",
	    (unsigned long long)i, (unsigned long long)at,
	    (unsigned long long)(at + snap_memz_chunk_len(m->memory, m->hdr.chunk_size, i) - 1),
	    what);
}

static int read_chunk(struct memz_reader *r, uint64_t i, uint8_t *dst, size_t len, struct err *e)
{
	const struct snap_memz *m = r->m;
	if (i >= m->hdr.nchunks || len != snap_memz_chunk_len(m->memory, m->hdr.chunk_size, i))
		return err_set(e, ERR_INTERNAL, "memory chunk %llu out of range",
		               (unsigned long long)i);
	const struct snap_memz_ent *c = &m->ent[i];
	if (c->kind == SNAP_CHUNK_ZERO)
		return 1;
	uint8_t *buf = c->kind == SNAP_CHUNK_RAW ? dst : r->in;
	if (snap_pread_all(r->fd, buf, c->len, c->offset, e))
		return err_prefix(e, "memory chunk %llu", (unsigned long long)i);
	if ((uint32_t)crc32(0, buf, c->len) != c->crc)
		return corrupt(e, m, i, "checksum mismatch");
	if (c->kind == SNAP_CHUNK_RAW)
		return 0;
	if (c->kind == SNAP_CHUNK_LZ4) {
		int n =
		    LZ4_decompress_safe((const char *)r->in, (char *)dst, (int)c->len, (int)len);
		return n == (int)len ? 0 : corrupt(e, m, i, "does not decompress to its size");
	}
	size_t n = ZSTD_decompressDCtx(r->dctx, dst, len, r->in, c->len);
	if (ZSTD_isError(n) || n != len)
		return corrupt(e, m, i, "does not decompress to its size");
	return 0;
}

static int reader_read(void *ctx, uint64_t i, uint8_t *dst, size_t len, struct err *e)
{
	return read_chunk(ctx, i, dst, len, e);
}

/* A mapped chunk's stored bytes against its CRC (read from the file: the
 * guest may have written its copy). */
static int reader_check(void *ctx, uint64_t i, struct err *e)
{
	struct memz_reader *r = ctx;
	const struct snap_memz_ent *c = &r->m->ent[i];
	if (snap_pread_all(r->fd, r->in, c->len, c->offset, e))
		return err_prefix(e, "memory chunk %llu", (unsigned long long)i);
	if ((uint32_t)crc32(0, r->in, c->len) != c->crc)
		return corrupt(e, r->m, i, "checksum mismatch");
	return 0;
}

/* Map every run of mapped chunks adjacent in memory and in the file with
 * one private mapping over the guest's memory. Only the mapped chunks'
 * entries are looked at: the index's pages for the rest of the memory are
 * not touched while the VM is set up. */
static int reader_map(void *ctx, uint8_t *base, uint64_t size, uint8_t *done, struct err *e)
{
	struct memz_reader *r = ctx;
	const struct snap_memz *m = r->m;
	uint64_t cs = m->hdr.chunk_size;
	for (uint64_t k = 0; k < m->nmapped && m->mapped[k] * cs < size;) {
		uint64_t i = m->mapped[k++], j = i + 1, len = m->ent[i].len;
		while (k < m->nmapped && m->mapped[k] == j && j * cs < size &&
		       m->ent[j].offset == m->ent[i].offset + len) {
			len += m->ent[j++].len;
			k++;
		}
		if (mmap(base + i * cs, len, PROT_READ | PROT_WRITE,
		         MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, r->fd,
		         (off_t)m->ent[i].offset) == MAP_FAILED)
			return err_sys(e, "mapping snapshot memory chunks %llu-%llu",
			               (unsigned long long)i, (unsigned long long)(j - 1));
		memset(done + i, 1, j - i);
	}
	return 0;
}

/* Decompress a zstd chunk into scratch once, on the fill thread while it
 * has nothing else to do: the first fault then does not also wait for the
 * decompressor's tables, the buffers and the code being touched for the
 * first time (about twice the time of a later fault). A bad chunk is not
 * reported here: it is when (if ever) the guest touches it. */
static void reader_warm(void *ctx, uint8_t *scratch)
{
	struct memz_reader *r = ctx;
	const struct snap_memz *m = r->m;
	uint64_t i = m->zstd_chunk;
	struct err e = {0};
	if (i < m->hdr.nchunks)
		read_chunk(r, i, scratch, snap_memz_chunk_len(m->memory, m->hdr.chunk_size, i), &e);
}

static void reader_free(void *ctx)
{
	struct memz_reader *r = ctx;
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	snap_memz_free(r->m);
	ZSTD_freeDCtx(r->dctx);
	free(r->in);
	free(r);
}

static struct memz_reader *reader_new(int fd, struct snap_memz *m, struct err *e)
{
	struct memz_reader *r = calloc(1, sizeof(*r));
	if (!r) {
		err_sys(e, "allocating");
		return NULL;
	}
	r->fd = fd;
	r->m = m;
	r->dctx = ZSTD_createDCtx();
	size_t lz4 = (size_t)LZ4_compressBound((int)m->hdr.chunk_size);
	size_t zstd = ZSTD_compressBound(m->hdr.chunk_size);
	r->in = malloc(lz4 > zstd ? lz4 : zstd);
	if (!r->dctx || !r->in) {
		err_sys(e, "allocating the decompressor");
		r->fd = -1, r->m = NULL; /* not ours yet */
		reader_free(r);
		return NULL;
	}
	return r;
}

int snap_memz_verify(int fd, const struct snap_memz *m, struct err *e)
{
	struct memz_reader *r = reader_new(fd, (struct snap_memz *)m, e);
	uint8_t *out = r ? malloc(m->hdr.chunk_size) : NULL;
	int rc = out ? 0 : r ? err_sys(e, "allocating") : -1;
	for (uint64_t i = 0; rc == 0 && i < m->hdr.nchunks; i++)
		rc = read_chunk(r, i, out, snap_memz_chunk_len(m->memory, m->hdr.chunk_size, i),
		                e) < 0
		         ? -1
		         : 0;
	free(out);
	if (r)
		r->fd = -1, r->m = NULL; /* the caller's */
	reader_free(r);
	return rc;
}

int snap_memz_source(int fd, struct snap_memz *m, struct mem_chunk_src *src, struct err *e)
{
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0)
		return err_sys(e, "duplicating the snapshot descriptor");
	struct memz_reader *r = reader_new(dup_fd, m, e);
	if (!r) {
		close(dup_fd);
		return -1;
	}
	*src = (struct mem_chunk_src){
	    .chunk_size = m->hdr.chunk_size,
	    .nchunks = m->hdr.nchunks,
	    .first = m->hot,
	    .nfirst = m->nhot,
	    .read = reader_read,
	    .release = reader_free,
	    .map = reader_map,
	    .check = reader_check,
	    .warm = reader_warm,
	    .ctx = r,
	};
	return 0;
}
