/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: a hostile snapshot file through capsa's loader
 * (snap_load: header checks, section table bounds, section reads and
 * checksums, the device and disk sections' parser, the compressed memory's
 * index and chunks (zstd and LZ4), the hot chunks a restore reads
 * first, and the chunks it maps from the file and checks later). For a snapshot with raw memory the input is the file
 * up to its memory image: the harness puts a sparse 16 MiB memory image
 * after the input. With compressed memory the input is the whole file, and
 * it is verified too (every chunk decompressed) when its memory is small.
 * The harness fixes up the header's own CRC, every section's CRC and every
 * chunk's, so that inputs get past the checksums and the contents are
 * explored. A seed is a real snapshot's bytes before its memory section
 * (`head -c OFFSET`), or a whole compressed one. Any crash or sanitizer
 * report is a finding. */
#include "vm/snapshot/load.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#define FUZZ_MEMORY (16ULL << 20)

static int inside(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

/* Version 4: the chunks' CRCs and the index's, as far as they lie in the
 * input (the count after the header, the stored entries at the end). */
static uint32_t fix_sparse(uint8_t *copy, size_t size, const struct snap_section *s,
                           const struct snap_memz_hdr *hdr)
{
	uint64_t n;
	uint64_t head = sizeof(*hdr) + sizeof(n);
	if (!inside(s->offset, head, size) || s->size < head)
		return 0;
	memcpy(&n, copy + s->offset + sizeof(*hdr), sizeof(n));
	if (n > (s->size - head) / sizeof(struct snap_memz_stored))
		return 0;
	uint64_t at = s->offset + s->size - n * sizeof(struct snap_memz_stored);
	if (!inside(at, n * sizeof(struct snap_memz_stored), size))
		return 0;
	for (uint64_t k = 0; k < n; k++) {
		struct snap_memz_stored c;
		memcpy(&c, copy + at + k * sizeof(c), sizeof(c));
		if (inside(c.offset, c.len, size))
			c.crc = (uint32_t)crc32(0, copy + c.offset, c.len);
		memcpy(copy + at + k * sizeof(c), &c, sizeof(c));
	}
	uLong crc = crc32(0, copy + s->offset, (uInt)head);
	return (uint32_t)crc32(crc, copy + at, (uInt)(n * sizeof(struct snap_memz_stored)));
}

/* The chunks' CRCs and the index's, as far as they lie in the input. */
static uint32_t fix_memz(uint8_t *copy, size_t size, const struct snap_section *s, uint32_t version)
{
	struct snap_memz_hdr hdr;
	if (!inside(s->offset, sizeof(hdr), size))
		return 0;
	memcpy(&hdr, copy + s->offset, sizeof(hdr));
	if (version >= 4)
		return fix_sparse(copy, size, s, &hdr);
	uint64_t n = 0;
	for (; n < hdr.nchunks; n++) {
		uint64_t at = s->offset + sizeof(hdr) + n * sizeof(struct snap_memz_ent);
		if (!inside(at, sizeof(struct snap_memz_ent), size))
			break;
		struct snap_memz_ent c;
		memcpy(&c, copy + at, sizeof(c));
		if (inside(c.offset, c.len, size))
			c.crc = (uint32_t)crc32(0, copy + c.offset, c.len);
		memcpy(copy + at, &c, sizeof(c));
	}
	return (uint32_t)crc32(0, copy + s->offset,
	                       (uInt)(sizeof(hdr) + n * sizeof(struct snap_memz_ent)));
}

static void fix_up(uint8_t *copy, size_t size)
{
	struct snap_header *h = (struct snap_header *)copy;
	uint64_t mem_off = (size + SNAP_PAGE - 1) & ~(uint64_t)(SNAP_PAGE - 1);
	int raw = snap_find(h, SNAP_SEC_MEMORY) != NULL;
	if (raw)
		h->memory = FUZZ_MEMORY;
	h->file_size = raw ? mem_off + FUZZ_MEMORY : size;
	for (uint32_t i = 0; i < h->nsections && i < SNAP_MAX_SECTIONS; i++) {
		struct snap_section *s = &h->sec[i];
		if (s->type == SNAP_SEC_MEMORY) {
			s->offset = mem_off;
			s->size = FUZZ_MEMORY;
		} else if (s->type == SNAP_SEC_MEMZ) {
			s->crc = fix_memz(copy, size, s, h->version);
		} else if (inside(s->offset, s->size, size)) {
			s->crc = (uint32_t)crc32(0, copy + s->offset, (uInt)s->size);
		}
	}
	h->header_crc = snap_header_crc(h);
}

/* The chunks the source maps over guest memory, as a restore maps them,
 * then checked against their CRCs as the fill thread does. */
static void map_and_check(const struct mem_chunk_src *src, uint64_t memory)
{
	uint8_t *mem = mmap(NULL, memory, PROT_READ | PROT_WRITE,
	                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint8_t *mapped = calloc(src->nchunks, 1);
	struct err e = {0};
	if (mem != MAP_FAILED && mapped && src->map(src->ctx, mem, memory, mapped, &e) == 0)
		for (uint64_t i = 0; i < src->nchunks; i++)
			if (mapped[i])
				src->check(src->ctx, i, &e);
	free(mapped);
	if (mem != MAP_FAILED)
		munmap(mem, memory);
}

/* The chunk source a restore uses: its warm-up and its hot chunks, as the
 * fill thread reads them first, and the ones it maps. */
static void read_hot(int fd, struct snap_loaded *l)
{
	struct mem_chunk_src src;
	struct err e = {0};
	if (snap_memz_source(fd, l->memz, &src, &e))
		return;
	l->memz = NULL; /* the source's */
	uint8_t *buf = malloc(src.chunk_size);
	if (buf && src.warm)
		src.warm(src.ctx, buf);
	for (uint64_t k = 0; buf && k < src.nfirst; k++) {
		uint64_t i = src.first[k];
		if (i >= src.nchunks)
			abort(); /* the source names only chunks it has */
		src.read(src.ctx, i, buf, snap_memz_chunk_len(l->h.memory, (uint32_t)src.chunk_size, i),
		         &e);
	}
	free(buf);
	map_and_check(&src, l->h.memory);
	src.release(src.ctx);
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
	if (snap_load(fd, l, &e) == 0 && l->memz && l->h.memory <= FUZZ_MEMORY * 4) {
		snap_memz_verify(fd, l->memz, &e);
		read_hot(fd, l);
	}
	snap_loaded_free(l);
	return 0;
}
