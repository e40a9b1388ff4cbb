/* SPDX-License-Identifier: Apache-2.0 */
/* Guest memory in chunks, each compressed on its own (SNAP_SEC_MEMZ,
 * format.h): so a restore can decompress just the chunk a fault needs.
 *
 * The section, version 4 and 5: struct snap_memz_hdr, the number of stored
 * chunks (uint64_t), the chunks' bytes (version 5: first the hot chunks,
 * raw, from the next page boundary on, in chunk order, each page aligned,
 * so that adjacent hot chunks are adjacent in the file; then the others),
 * then one struct snap_memz_stored
 * for each chunk that is not all zero, in chunk order (the index: its size
 * follows the memory the guest used, not the memory's size). Version 3:
 * struct snap_memz_hdr, then nchunks struct snap_memz_ent, then the
 * chunks' bytes. The section's CRC covers header, count and index. An
 * entry gives the chunk's kind, where its stored bytes are (from the
 * file's start) and their CRC-32. */
#ifndef CAPSA_VM_SNAPSHOT_MEMZ_H
#define CAPSA_VM_SNAPSHOT_MEMZ_H

#include "lib/err.h"
#include "mem/lazy.h"
#include "vm/snapshot/format.h"

#include <stddef.h>
#include <stdint.h>

#define SNAP_MEMZ_CHUNK     (16u << 10) /* what capsa writes (version 3 wrote 256 KiB) */
#define SNAP_MEMZ_CHUNK_MIN SNAP_PAGE
#define SNAP_MEMZ_CHUNK_MAX (4u << 20)
#define SNAP_MEMZ_ZSTD      1 /* codec: zstd frames */
#define SNAP_MEMZ_MIXED     2 /* codec (version 4): zstd frames or LZ4 blocks, chunk by chunk */

enum snap_chunk_kind {
	SNAP_CHUNK_ZERO = 0, /* all zero: nothing stored */
	SNAP_CHUNK_RAW = 1,  /* stored as is (did not compress) */
	SNAP_CHUNK_ZSTD = 2, /* one zstd frame */
	SNAP_CHUNK_LZ4 = 3,  /* one LZ4 block (codec SNAP_MEMZ_MIXED) */
};

/* snap_memz_ent.flags (version 4; 0 before) */
#define SNAP_CHUNK_HOT 1u /* the guest used it just before the snapshot: load first */
/* (version 5) stored raw at a page-aligned offset: restore maps it privately
 * from the file instead of filling it */
#define SNAP_CHUNK_MAPPED 2u

/* capsa writes hot chunks raw and mapped (version 5; version 4 wrote them
 * as LZ4, quick to decompress while the restored guest waits) and the
 * others as zstd (smaller). */

struct snap_memz_hdr {
	uint32_t chunk_size; /* a power of two, SNAP_MEMZ_CHUNK_MIN..MAX */
	uint32_t codec;      /* SNAP_MEMZ_ZSTD, or (version 4) SNAP_MEMZ_MIXED */
	uint64_t nchunks;    /* memory / chunk_size, rounded up */
};

/* A chunk in memory; a version 3 index entry on disk. */
struct snap_memz_ent {
	uint64_t offset; /* of the stored bytes, from the file's start */
	uint32_t len;    /* stored bytes */
	uint32_t crc;    /* CRC-32 of the stored bytes */
	uint32_t kind;   /* enum snap_chunk_kind */
	uint32_t flags;  /* SNAP_CHUNK_HOT (padding in version 3) */
};

/* A version 4 index entry: a chunk that is not all zero. */
struct snap_memz_stored {
	uint64_t offset; /* of the stored bytes, from the file's start */
	uint32_t len;    /* stored bytes */
	uint32_t crc;    /* CRC-32 of the stored bytes */
	uint32_t chunk;  /* its number; entries come in increasing order */
	uint16_t kind;   /* enum snap_chunk_kind, not SNAP_CHUNK_ZERO */
	uint16_t flags;  /* SNAP_CHUNK_HOT, SNAP_CHUNK_MAPPED */
};

/* Bytes of chunk i of `memory` bytes in chunks of cs. */
static inline uint64_t snap_memz_chunk_len(uint64_t memory, uint32_t cs, uint64_t i)
{
	uint64_t n = memory - i * cs;
	return n < cs ? n : cs;
}

/* A loaded, checked index. */
struct snap_memz {
	struct snap_memz_hdr hdr;
	struct snap_memz_ent *ent; /* nchunks: zero chunks all zero bytes */
	uint64_t memory;
	uint64_t *hot, nhot;       /* the hot chunks' numbers, increasing */
	uint64_t *mapped, nmapped; /* the SNAP_CHUNK_MAPPED chunks' numbers, increasing */
	uint64_t zstd_chunk;       /* a chunk stored as zstd, or nchunks if none */
	uint32_t version;          /* of the file */
};

/* Read and check the index of h's SNAP_SEC_MEMZ section: geometry, codec,
 * CRC, every entry's kind, flags, length and place inside the section.
 * ERR_INPUT naming what is wrong. */
int snap_memz_load(int fd, const struct snap_header *h, struct snap_memz **out, struct err *e);
void snap_memz_free(struct snap_memz *m);
/* Check every chunk's CRC and that it decompresses to its size. */
int snap_memz_verify(int fd, const struct snap_memz *m, struct err *e);
/* A chunk source (mem/lazy.h) reading m from fd, its hot chunks first,
 * mapping the SNAP_CHUNK_MAPPED ones privately from fd (and checking their
 * CRCs later); takes ownership of m and of a duplicate of fd. */
int snap_memz_source(int fd, struct snap_memz *m, struct mem_chunk_src *src, struct err *e);

/* Write `size` bytes of memory at `mem` as a SNAP_SEC_MEMZ section at *off
 * in fd, recorded in h; advances *off. touched (one byte a page, or NULL:
 * all) says which pages may hold data: the others are zero and are not
 * read. hot (one byte a page, or NULL: none) marks the pages the guest used
 * last: their chunks and those chunks' neighbours get SNAP_CHUNK_HOT and are
 * stored raw, page aligned (SNAP_CHUNK_MAPPED). */
int snap_memz_write(int fd, const uint8_t *mem, uint64_t size, const uint8_t *touched,
                    const uint8_t *hot, struct snap_header *h, uint64_t *off, struct err *e);

#endif
