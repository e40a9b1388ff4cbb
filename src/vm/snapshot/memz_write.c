/* SPDX-License-Identifier: Apache-2.0 */
/* Writing guest memory as compressed chunks (memz.h). Chunks are taken in
 * batches; two threads compress a batch each into a buffer of their own
 * (the VM is paused, so its vCPUs leave the cores free), and the buffers
 * are appended to the file in chunk order, which fixes each chunk's place
 * in the index; the index of the chunks that are not all zero follows.
 * The hot chunks go first, raw, from a page boundary on (SNAP_CHUNK_MAPPED):
 * a restore maps them from the file instead of decompressing them. */
#include "vm/snapshot/memz.h"
#include "lib/zero.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define MEMZ_LEVEL     1   /* zstd level: see docs/vm.md, SNAPSHOTS */
#define MEMZ_BATCH     512 /* chunks a thread compresses between two writes */
#define MEMZ_HOT_REACH 0   /* chunks this close to a hot page are hot */
#define MEMZ_HOT_GAP   3   /* so are up to this many chunks between two hot ones */
#define MEMZ_BOUND     ZSTD_COMPRESSBOUND(SNAP_MEMZ_CHUNK)

/* One thread's batch: chunks [first, first+n) into out. */
struct memz_batch {
	const uint8_t *mem;
	uint64_t size;
	const uint8_t *touched, *hot; /* of the whole memory, or NULL */
	uint64_t first, n;
	struct snap_memz_ent *ent; /* offsets relative to out until placed */
	ZSTD_CCtx *cctx;
	uint8_t *chunk, *out;
	size_t out_len;
};

/* Chunk i's bytes with untouched pages as zero, or NULL if none was
 * touched. */
static const uint8_t *gather(struct memz_batch *b, uint64_t i, uint64_t len)
{
	const uint8_t *mem = b->mem + i * SNAP_MEMZ_CHUNK;
	if (!b->touched)
		return mem;
	const uint8_t *t = b->touched + i * (SNAP_MEMZ_CHUNK / SNAP_PAGE);
	uint64_t pages = len / SNAP_PAGE, n = 0;
	for (uint64_t p = 0; p < pages; p++)
		n += t[p];
	if (n == 0 || n == pages)
		return n ? mem : NULL;
	for (uint64_t p = 0; p < pages; p++) {
		uint8_t *d = b->chunk + p * SNAP_PAGE;
		if (t[p])
			memcpy(d, mem + p * SNAP_PAGE, SNAP_PAGE);
		else
			memset(d, 0, SNAP_PAGE);
	}
	return b->chunk;
}

/* Does chunk i, or one within MEMZ_HOT_REACH chunks of it, hold a page
 * marked hot? (The neighbours on each side were hot too while the hot
 * pages were only what the TLBs mapped; with the pages the vCPUs reached
 * lately marked as well, a restored guest finds what it touches first
 * without them, in a smaller file.) */
static int near_hot(const struct memz_batch *b, uint64_t i)
{
	if (!b->hot)
		return 0;
	const uint64_t per = SNAP_MEMZ_CHUNK / SNAP_PAGE,
	               pages = (b->size + SNAP_PAGE - 1) / SNAP_PAGE;
	uint64_t from = i > MEMZ_HOT_REACH ? (i - MEMZ_HOT_REACH) * per : 0;
	uint64_t to = (i + MEMZ_HOT_REACH + 1) * per;
	for (uint64_t p = from; p < to && p < pages; p++)
		if (b->hot[p])
			return 1;
	return 0;
}

static void put_chunk(struct memz_batch *b, uint64_t i)
{
	uint64_t len = snap_memz_chunk_len(b->size, SNAP_MEMZ_CHUNK, i);
	struct snap_memz_ent *c = &b->ent[i];
	if (c->flags & SNAP_CHUNK_MAPPED)
		return; /* written by put_hot */
	*c = (struct snap_memz_ent){0};
	const uint8_t *src = gather(b, i, len);
	if (!src || buf_is_zero(src, len))
		return;
	uint8_t *dst = b->out + b->out_len;
	size_t z = ZSTD_compressCCtx(b->cctx, dst, MEMZ_BOUND, src, len, MEMZ_LEVEL);
	c->kind = SNAP_CHUNK_ZSTD;
	c->len = (uint32_t)z;
	if (ZSTD_isError(z) || z >= len) {
		memcpy(dst, src, len);
		c->kind = SNAP_CHUNK_RAW;
		c->len = (uint32_t)len;
	}
	c->offset = b->out_len;
	c->crc = (uint32_t)crc32(0, dst, c->len);
	b->out_len += c->len;
}

static void *run_batch(void *arg)
{
	struct memz_batch *b = arg;
	b->out_len = 0;
	for (uint64_t i = b->first; i < b->first + b->n; i++)
		put_chunk(b, i);
	return NULL;
}

/* Append b's bytes at *at and place its chunks there. */
static int place(int fd, struct memz_batch *b, uint64_t *at, struct err *e)
{
	if (b->out_len && snap_pwrite_all(fd, b->out, b->out_len, *at, e))
		return -1;
	for (uint64_t i = b->first; i < b->first + b->n; i++)
		if (b->ent[i].kind != SNAP_CHUNK_ZERO && !(b->ent[i].flags & SNAP_CHUNK_MAPPED))
			b->ent[i].offset += *at;
	*at += b->out_len;
	return 0;
}

static int batch_init(struct memz_batch *b, const uint8_t *mem, uint64_t size,
                      const uint8_t *touched, const uint8_t *hot, struct snap_memz_ent *ent)
{
	*b = (struct memz_batch){
	    .mem = mem, .size = size, .touched = touched, .hot = hot, .ent = ent};
	b->cctx = ZSTD_createCCtx();
	b->chunk = malloc(SNAP_MEMZ_CHUNK);
	b->out = malloc(MEMZ_BATCH * (size_t)MEMZ_BOUND);
	return b->cctx && b->chunk && b->out ? 0 : -1;
}

static void batch_free(struct memz_batch *b)
{
	ZSTD_freeCCtx(b->cctx);
	free(b->chunk);
	free(b->out);
}

/* One byte a chunk: is it hot? Chunks near a hot page (near_hot), and
 * those in a gap of at most MEMZ_HOT_GAP chunks between two such: a run
 * of hot chunks is one mapping on restore, and each costs a few
 * microseconds there. NULL when out of memory. */
static uint8_t *hot_chunks(const struct memz_batch *b, uint64_t nchunks)
{
	uint8_t *h = malloc(nchunks ? nchunks : 1);
	uint64_t last = UINT64_MAX; /* the last hot chunk so far */
	for (uint64_t i = 0; h && i < nchunks; i++) {
		h[i] = (uint8_t)near_hot(b, i);
		if (!h[i])
			continue;
		if (last != UINT64_MAX && i - last - 1 <= MEMZ_HOT_GAP)
			memset(h + last + 1, 1, i - last - 1);
		last = i;
	}
	return h;
}

/* The hot chunks that are not all zero, raw, from the page boundary at or
 * after *at on, in chunk order; *at moves past them. */
static int put_hot(int fd, struct memz_batch *b, uint64_t nchunks, uint64_t *at, struct err *e)
{
	if (!b->hot)
		return 0;
	uint8_t *hot = hot_chunks(b, nchunks);
	if (!hot)
		return err_sys(e, "allocating");
	int rc = 0;
	uint64_t to = (*at + SNAP_PAGE - 1) & ~(uint64_t)(SNAP_PAGE - 1);
	for (uint64_t i = 0; rc == 0 && i < nchunks; i++) {
		uint64_t len = snap_memz_chunk_len(b->size, SNAP_MEMZ_CHUNK, i);
		if (!hot[i])
			continue;
		const uint8_t *src = gather(b, i, len);
		if (!src || buf_is_zero(src, len))
			continue;
		rc = snap_pwrite_all(fd, src, len, to, e);
		b->ent[i] =
		    (struct snap_memz_ent){to, (uint32_t)len, (uint32_t)crc32(0, src, len),
		                           SNAP_CHUNK_RAW, SNAP_CHUNK_HOT | SNAP_CHUNK_MAPPED};
		to += len;
		*at = to;
	}
	free(hot);
	return rc;
}

/* Compress every chunk into the file from *at on, two batches at a time. */
static int put_chunks(int fd, struct memz_batch b[2], uint64_t nchunks, uint64_t *at, struct err *e)
{
	for (uint64_t i = 0; i < nchunks;) {
		pthread_t t;
		b[0].first = i;
		b[0].n = nchunks - i < MEMZ_BATCH ? nchunks - i : MEMZ_BATCH;
		b[1].first = b[0].first + b[0].n;
		b[1].n = nchunks - b[1].first < MEMZ_BATCH ? nchunks - b[1].first : MEMZ_BATCH;
		i = b[1].first + b[1].n;
		int threaded = b[1].n && pthread_create(&t, NULL, run_batch, &b[1]) == 0;
		run_batch(&b[0]);
		if (threaded)
			pthread_join(t, NULL);
		else
			run_batch(&b[1]);
		if (place(fd, &b[0], at, e) || place(fd, &b[1], at, e))
			return -1;
	}
	return 0;
}

/* The index of the chunks that are not all zero, into st (nchunks
 * entries); returns how many. */
static uint64_t stored_index(const struct snap_memz_ent *ent, uint64_t nchunks,
                             struct snap_memz_stored *st)
{
	uint64_t n = 0;
	for (uint64_t i = 0; i < nchunks; i++)
		if (ent[i].kind != SNAP_CHUNK_ZERO)
			st[n++] = (struct snap_memz_stored){ent[i].offset,
			                                    ent[i].len,
			                                    ent[i].crc,
			                                    (uint32_t)i,
			                                    (uint16_t)ent[i].kind,
			                                    (uint16_t)ent[i].flags};
	return n;
}

/* Header, count and index (at *at, which advances); the section's CRC. */
static int put_index(int fd, const struct snap_memz_hdr *hdr, const struct snap_memz_ent *ent,
                     uint64_t off, uint64_t *at, uint32_t *crc, struct err *e)
{
	struct snap_memz_stored *st = malloc(hdr->nchunks * sizeof(*st));
	if (!st)
		return err_sys(e, "allocating the memory index");
	uint64_t n = stored_index(ent, hdr->nchunks, st);
	uLong c = crc32(0, (const Bytef *)hdr, sizeof(*hdr));
	c = crc32(c, (const Bytef *)&n, sizeof(n));
	c = crc32(c, (const Bytef *)st, (uInt)(n * sizeof(*st)));
	*crc = (uint32_t)c;
	int rc = snap_pwrite_all(fd, st, n * sizeof(*st), *at, e) ||
	                 snap_pwrite_all(fd, hdr, sizeof(*hdr), off, e) ||
	                 snap_pwrite_all(fd, &n, sizeof(n), off + sizeof(*hdr), e)
	             ? -1
	             : 0;
	*at += n * sizeof(*st);
	free(st);
	return rc;
}

int snap_memz_write(int fd, const uint8_t *mem, uint64_t size, const uint8_t *touched,
                    const uint8_t *hot, struct snap_header *h, uint64_t *off, struct err *e)
{
	if (h->nsections >= SNAP_MAX_SECTIONS)
		return err_set(e, ERR_INTERNAL, "no room for the memory section");
	struct snap_memz_hdr hdr = {SNAP_MEMZ_CHUNK, SNAP_MEMZ_MIXED,
	                            (size + SNAP_MEMZ_CHUNK - 1) / SNAP_MEMZ_CHUNK};
	uint64_t at = *off + sizeof(hdr) + sizeof(uint64_t); /* the chunks after the count */
	struct snap_memz_ent *ent = calloc(hdr.nchunks, sizeof(*ent));
	struct memz_batch b[2];
	int ok0 = batch_init(&b[0], mem, size, touched, hot, ent) == 0;
	int ok1 = batch_init(&b[1], mem, size, touched, hot, ent) == 0;
	int rc = ent && ok0 && ok1 ? 0 : err_set(e, ERR_SYSTEM, "allocating the compressor");
	if (rc == 0)
		rc = put_hot(fd, &b[0], hdr.nchunks, &at, e);
	if (rc == 0)
		rc = put_chunks(fd, b, hdr.nchunks, &at, e);
	uint32_t crc = 0;
	if (rc == 0)
		rc = put_index(fd, &hdr, ent, *off, &at, &crc, e);
	if (rc == 0) {
		h->sec[h->nsections++] = (struct snap_section){SNAP_SEC_MEMZ, crc, *off, at - *off};
		*off = (at + 7) & ~7ULL;
	}
	batch_free(&b[0]);
	batch_free(&b[1]);
	free(ent);
	return rc;
}
