/* SPDX-License-Identifier: Apache-2.0 */
#include "mem/guest_mem.h"

#include <string.h>

static const struct guest_mem_region *find(const struct guest_mem *gm, uint64_t gpa)
{
	for (unsigned i = 0; i < gm->n; i++) {
		const struct guest_mem_region *r = &gm->r[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	if (len == 0)
		len = 1;
	const struct guest_mem_region *r = find(gm, gpa);
	if (!r)
		return NULL;
	uint64_t off = gpa - r->gpa;
	if (len > r->size - off)
		return NULL;
	return r->host + off;
}

/* Walk [gpa, gpa+len) region by region, calling fn on each host chunk. */
static int walk(const struct guest_mem *gm, uint64_t gpa, uint64_t len,
                void (*fn)(uint8_t *host, uint64_t n, void *arg, uint64_t done), void *arg)
{
	if (gpa + len < gpa)
		return -1;
	uint64_t done = 0;
	while (done < len) {
		const struct guest_mem_region *r = find(gm, gpa + done);
		if (!r)
			return -1;
		uint64_t off = gpa + done - r->gpa;
		uint64_t n = r->size - off;
		if (n > len - done)
			n = len - done;
		done += n;
	}
	done = 0;
	while (done < len) {
		const struct guest_mem_region *r = find(gm, gpa + done);
		uint64_t off = gpa + done - r->gpa;
		uint64_t n = r->size - off;
		if (n > len - done)
			n = len - done;
		fn(r->host + off, n, arg, done);
		done += n;
	}
	return 0;
}

static void do_read(uint8_t *host, uint64_t n, void *arg, uint64_t done)
{
	memcpy((uint8_t *)arg + done, host, n);
}
static void do_write(uint8_t *host, uint64_t n, void *arg, uint64_t done)
{
	memcpy(host, (const uint8_t *)arg + done, n);
}
static void do_fill(uint8_t *host, uint64_t n, void *arg, uint64_t done)
{
	(void)done;
	memset(host, *(int *)arg, n);
}
static void do_nothing(uint8_t *host, uint64_t n, void *arg, uint64_t done)
{
	(void)host, (void)n, (void)arg, (void)done;
}

int gm_read(const struct guest_mem *gm, uint64_t gpa, void *dst, uint64_t len)
{
	return walk(gm, gpa, len, do_read, dst);
}

int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len)
{
	return walk(gm, gpa, len, do_write, (void *)src);
}

int gm_fill(const struct guest_mem *gm, uint64_t gpa, int byte, uint64_t len)
{
	return walk(gm, gpa, len, do_fill, &byte);
}

int gm_contains(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	return walk(gm, gpa, len, do_nothing, NULL) == 0;
}
