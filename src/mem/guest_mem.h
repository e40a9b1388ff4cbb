/* SPDX-License-Identifier: Apache-2.0 */
/* Guest physical memory. All access to guest RAM goes through these
 * bounds-checked helpers; nothing else turns a guest address into a host
 * pointer. */
#ifndef CAPSA_MEM_GUEST_MEM_H
#define CAPSA_MEM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 4

struct guest_mem_region {
	uint64_t gpa;  /* guest physical start */
	uint64_t size; /* bytes */
	uint8_t *host; /* host mapping of the region */
};

struct guest_mem {
	struct guest_mem_region r[GUEST_MEM_MAX_REGIONS];
	unsigned n;
	uint64_t total; /* sum of region sizes */
	/* Told of writes by anything but a vCPU (device DMA, page discards), so
	 * an accelerator that caches decoded guest code can drop it; NULL if
	 * nobody listens. Set before devices run, never changed after. */
	void (*on_write)(void *ctx, uint64_t gpa, uint64_t len);
	void *on_write_ctx;
};

/* Host pointer for [gpa, gpa+len) if it lies inside one region, else NULL.
 * len 0 is treated as 1. Overflow-safe. */
void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);
/* Copy in/out; 0 on success, -1 if any byte is outside guest RAM. A range may
 * span adjacent regions only if they are contiguous in guest space. */
int gm_read(const struct guest_mem *gm, uint64_t gpa, void *dst, uint64_t len);
int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len);
int gm_fill(const struct guest_mem *gm, uint64_t gpa, int byte, uint64_t len);
/* A device has written [gpa, gpa+len) behind the vCPUs' backs: tell the
 * listener, if any. A note taken only before the write is not enough: the
 * dirty-page log may be collected between the note and the data landing. */
static inline void gm_note_write(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	if (gm->on_write)
		gm->on_write(gm->on_write_ctx, gpa, len);
}
/* Is [gpa, gpa+len) entirely RAM? */
int gm_contains(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

#endif
