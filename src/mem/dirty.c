/* SPDX-License-Identifier: Apache-2.0 */
/* See dirty.h. */
#include "mem/dirty.h"

#include <stdlib.h>

int gm_dirty_start(struct gm_dirty *d, const struct guest_mem *gm, struct err *e)
{
	uint64_t npages = gm->total / 4096;
	if (!d->bits) {
		d->bits =
		    calloc(gm_dirty_words(npages) ? gm_dirty_words(npages) : 1, sizeof(*d->bits));
		if (!d->bits)
			return err_sys(e, "allocating the dirty-page bitmap");
		d->npages = npages;
	}
	for (uint64_t i = 0; i < gm_dirty_words(d->npages); i++)
		atomic_store_explicit(&d->bits[i], 0, memory_order_relaxed);
	atomic_store(&d->on, 1);
	return 0;
}

void gm_dirty_stop(struct gm_dirty *d)
{
	atomic_store(&d->on, 0);
}

void gm_dirty_free(struct gm_dirty *d)
{
	free((void *)d->bits);
	d->bits = NULL;
	d->npages = 0;
}

uint64_t gm_ram_page(const struct guest_mem *gm, uint64_t gpa)
{
	uint64_t base = 0;
	for (unsigned i = 0; i < gm->n; i++) {
		const struct guest_mem_region *r = &gm->r[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return (base + gpa - r->gpa) / 4096;
		base += r->size;
	}
	return UINT64_MAX;
}

void gm_dirty_mark(struct gm_dirty *d, const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	if (!atomic_load_explicit(&d->on, memory_order_relaxed) || !len)
		return;
	uint64_t first = gpa & ~4095ULL, last = gpa + len - 1;
	if (last < gpa)
		last = UINT64_MAX;
	for (uint64_t a = first; a <= last; a += 4096) {
		gm_dirty_mark_page(d, gm_ram_page(gm, a));
		if (a + 4096 < a)
			break;
	}
}

void gm_dirty_take(struct gm_dirty *d, uint64_t *out)
{
	for (uint64_t i = 0; d->bits && i < gm_dirty_words(d->npages); i++)
		out[i] |= atomic_exchange_explicit(&d->bits[i], 0, memory_order_relaxed);
}
