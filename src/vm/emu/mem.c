/* SPDX-License-Identifier: Apache-2.0 */
/* struct emu_mem: guest RAM as the software CPUs share it, with the
 * per-page code generations that keep decoded blocks coherent with writes
 * by any vCPU or device. */
#include "vm/emu/internal.h"

#include <errno.h>
#include <stdlib.h>

int emu_mem_create(struct emu_mem **out, const struct guest_mem *gm, struct err *e)
{
	struct emu_mem *m = calloc(1, sizeof(*m));
	if (!m)
		return err_sys(e, "emu: allocating the memory state");
	m->gm = *gm;
	uint64_t top = 0;
	for (unsigned k = 0; k < gm->n; k++) {
		uint64_t end = gm->r[k].gpa + gm->r[k].size;
		if (end > top)
			top = end;
	}
	m->npages = (top + 0xfff) >> 12;
	m->gen = calloc(m->npages ? m->npages : 1, sizeof(*m->gen));
	m->code = calloc(m->npages ? m->npages : 1, sizeof(*m->code));
	if (!m->gen || !m->code) {
		free((void *)m->gen);
		free((void *)m->code);
		free(m);
		return err_errno(e, ENOMEM, "emu: allocating code tracking for %llu pages",
		                 (unsigned long long)(top >> 12));
	}
	pthread_mutex_init(&m->lock, NULL);
	*out = m;
	return 0;
}

void emu_mem_destroy(struct emu_mem *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	gm_dirty_free(&m->dirty);
	free((void *)m->gen);
	free((void *)m->code);
	free(m);
}

void emu_mem_code_written(struct emu_mem *m, uint64_t pfn)
{
	if (pfn >= m->npages)
		return;
	atomic_fetch_add(&m->gen[pfn], 1);
	atomic_store(&m->code[pfn], 0);
}

void emu_mem_written(struct emu_mem *m, uint64_t gpa, uint64_t len)
{
	if (!len)
		return;
	gm_dirty_mark(&m->dirty, &m->gm, gpa, len);
	uint64_t first = gpa >> 12, last = (gpa + len - 1) >> 12;
	if (gpa + len < gpa)
		last = m->npages - 1;
	for (uint64_t p = first; p <= last && p < m->npages; p++)
		if (atomic_load_explicit(&m->code[p], memory_order_relaxed))
			emu_mem_code_written(m, p);
}

int emu_mem_dirty_start(struct emu_mem *m, struct err *e)
{
	return gm_dirty_start(&m->dirty, &m->gm, e);
}

void emu_mem_dirty_take(struct emu_mem *m, uint64_t *bits)
{
	gm_dirty_take(&m->dirty, bits);
}

void emu_mem_dirty_stop(struct emu_mem *m)
{
	gm_dirty_stop(&m->dirty);
}
