/* SPDX-License-Identifier: Apache-2.0 */
/* A dirty-page bitmap of guest RAM, for live migration: one bit per
 * 4 KiB page, pages numbered by their offset in guest RAM with the
 * regions of a guest_mem laid one after another (region 0's pages first).
 * Marking and taking are lock-free and may race each other: a page marked
 * while the bitmap is taken is either in what was taken or stays marked. */
#ifndef CAPSA_MEM_DIRTY_H
#define CAPSA_MEM_DIRTY_H

#include "lib/err.h"
#include "mem/guest_mem.h"

#include <stdatomic.h>
#include <stdint.h>

struct gm_dirty {
	_Atomic uint64_t *bits; /* NULL until first started */
	uint64_t npages;
	atomic_int on; /* marks are only kept while on */
};

/* Words of a bitmap for `npages` pages. */
static inline uint64_t gm_dirty_words(uint64_t npages)
{
	return (npages + 63) / 64;
}

/* Allocate the bitmap for the RAM of gm (if not yet), clear it and turn
 * marking on. */
int gm_dirty_start(struct gm_dirty *d, const struct guest_mem *gm, struct err *e);
void gm_dirty_stop(struct gm_dirty *d);
void gm_dirty_free(struct gm_dirty *d);
/* The RAM page of guest-physical address gpa, or UINT64_MAX if gpa is
 * not RAM. */
uint64_t gm_ram_page(const struct guest_mem *gm, uint64_t gpa);
/* Mark the pages of [gpa, gpa+len) that are RAM, if marking is on. */
void gm_dirty_mark(struct gm_dirty *d, const struct guest_mem *gm, uint64_t gpa, uint64_t len);
static inline void gm_dirty_mark_page(struct gm_dirty *d, uint64_t page)
{
	if (page < d->npages)
		atomic_fetch_or_explicit(&d->bits[page / 64], 1ULL << (page % 64),
		                         memory_order_relaxed);
}
/* OR the marked pages into out (gm_dirty_words(npages) words) and clear
 * them. */
void gm_dirty_take(struct gm_dirty *d, uint64_t *out);

#endif
