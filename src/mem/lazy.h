/* SPDX-License-Identifier: Apache-2.0 */
/* Guest memory filled on first touch. The memory is anonymous; its contents
 * come chunk by chunk from a source (a compressed snapshot). With
 * userfaultfd a thread fills each chunk the first time anything touches it:
 * a vCPU thread (also through KVM's own accesses), a device thread or a
 * system call reading or writing guest memory. Without userfaultfd the
 * caller fills everything at once (mem_fill_all). */
#ifndef CAPSA_MEM_LAZY_H
#define CAPSA_MEM_LAZY_H

#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>

struct mem_chunk_src {
	uint64_t chunk_size; /* a multiple of the page size */
	uint64_t nchunks;    /* chunk_size * nchunks >= the memory's size */
	/* Chunks to fill ahead of any touch, in this order, while no fault
	 * waits (the guest's working set); may be NULL. Valid until release. */
	const uint64_t *first;
	uint64_t nfirst;
	/* Chunk i into dst (len bytes: chunk_size, less for the last): 0 when
	 * filled, 1 when the chunk is all zero (dst untouched), -1 with e. */
	int (*read)(void *ctx, uint64_t i, uint8_t *dst, size_t len, struct err *e);
	void (*release)(void *ctx); /* the source is no longer used */
	/* Optional: put chunks in place that need no fill once the memory is
	 * registered, as a private mapping of a file's pages over part of
	 * [base, base+size) (MAP_FIXED, which replaces the registered
	 * mapping there), setting mapped[i] = 1 for each chunk i put there
	 * (mapped has nchunks bytes, all zero). Such chunks are not
	 * registered: touching them never waits for the fill thread. 0, or
	 * -1 with e. */
	int (*map)(void *ctx, uint8_t *base, uint64_t size, uint8_t *mapped, struct err *e);
	/* Optional: check a chunk `map` put in place (its stored bytes, not
	 * the memory); the fill thread calls it for each of them while no
	 * fault waits. 0, or -1 with e naming the chunk (reported as a chunk
	 * that cannot be read). */
	int (*check)(void *ctx, uint64_t i, struct err *e);
	/* Optional: called once on the fill thread before it waits for the
	 * first fault, with a scratch buffer of chunk_size bytes: get ready to
	 * read (touch what the first read would touch for the first time,
	 * such as a decompressor's tables), so that the first fault does not
	 * wait for that. Nothing it does may be seen as a failure. */
	void (*warm)(void *ctx, uint8_t *scratch);
	void *ctx;
};

struct mem_lazy;

/* What the fill thread tells its owner. */
struct mem_lazy_hooks {
	/* Called once, on the fill thread, when a chunk cannot be read
	 * (corrupt), with the error naming the chunk; the chunk then reads as
	 * zero so that no thread waits forever, and the owner must stop using
	 * the memory. */
	void (*on_fail)(void *ctx, const struct err *e);
	/* Called first on the fill thread (to confine it), or NULL; a failure
	 * is reported through on_fail. */
	int (*thread_init)(void *ctx, struct err *e);
	void *ctx;
};

/* Register [base, base+size) (anonymous, page aligned, not yet touched)
 * and start the fill thread, which owns `src` from then on (released by
 * mem_lazy_stop). Chunks the source maps (src->map) are put in place
 * over the registered memory and so left out of it. The thread warms the
 * source up (src->warm), serves faults first, fills src->first while none
 * waits, then checks the mapped chunks. Returns 0, or 1 without taking `src`
 * when this host or process cannot use userfaultfd (permission, kernel), or
 * -1 with e. */
int mem_lazy_start(struct mem_lazy **out, uint8_t *base, uint64_t size,
                   const struct mem_chunk_src *src, const struct mem_lazy_hooks *hooks,
                   struct err *e);
/* Stop the fill thread, unregister and release the source. The memory
 * must not be touched by anyone else any more (or only after this). */
void mem_lazy_stop(struct mem_lazy *l);
/* Has the chunk holding byte `off` been filled or mapped (or is it past
 * the end)? */
int mem_lazy_filled(const struct mem_lazy *l, uint64_t off);
/* Was the chunk holding byte `off` put in place by the source's `map`?
 * Its pages may hold data without ever having been touched. */
int mem_lazy_mapped(const struct mem_lazy *l, uint64_t off);
/* Did a chunk fail to read? */
int mem_lazy_failed(const struct mem_lazy *l);
/* Check every mapped chunk not checked yet, now, on the calling thread:
 * 0, or -1 with the first failure (of a check or a fill) in e. For an
 * owner whose memory user ended before the fill thread got to the checks
 * (what it did may come from corrupt data). */
int mem_lazy_check_all(struct mem_lazy *l, struct err *e);

/* Fill [base, base+size) (all zero) from src at once, every chunk read
 * (src->map is not used); zero chunks are skipped. Does not release src. */
int mem_fill_all(uint8_t *base, uint64_t size, const struct mem_chunk_src *src, struct err *e);

#endif
