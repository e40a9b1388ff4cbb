/* SPDX-License-Identifier: Apache-2.0 */
/* Linear memories and tables. A memory reserves its address space once
 * (inaccessible), so growing never moves it; pages become accessible as the
 * memory grows. On 64-bit hosts the reservation is 8 GiB plus a guard: every
 * effective address of a 32-bit memory (u32 base + u32 offset) lands inside
 * it, so the interpreter drops its bounds checks and an access beyond the
 * accessible pages faults, which guard.c turns into a trap. Where that much
 * address space cannot be had (or under AddressSanitizer, which owns
 * SIGSEGV) the reservation is just the maximum size and accesses are
 * checked explicitly. */
#include "wasm/guard.h"
#include "wasm/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define GUARD_BYTES (64ull << 10)
#define FULL_BYTES  ((8ull << 30) + GUARD_BYTES)

#if defined(__SANITIZE_ADDRESS__)
#define GUARD_PAGES_OK 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GUARD_PAGES_OK 0
#endif
#endif
#ifndef GUARD_PAGES_OK
#define GUARD_PAGES_OK (UINTPTR_MAX > 0xffffffffu)
#endif

int wasm_memory_init(struct capsa_wasm_memory *m, uint64_t min_pages, uint64_t max_pages,
                     uint64_t limit, struct err *e)
{
	memset(m, 0, sizeof(*m));
	m->max_pages = max_pages;
	m->limit = limit;
	uint64_t cap = max_pages == UINT64_MAX ? WASM_MAX_PAGES : max_pages;
	if (cap * WASM_PAGE > limit)
		cap = limit / WASM_PAGE;
	if (min_pages > cap)
		return err_set(e, ERR_INPUT, "memory of %llu pages exceeds the limit of %llu pages",
		               (unsigned long long)min_pages, (unsigned long long)cap);
	m->cap_pages = cap;
	void *p = MAP_FAILED;
	if (GUARD_PAGES_OK && getenv("CAPSA_WASM_NO_GUARD") == NULL && wasm_guard_init() == 0) {
		p = mmap(NULL, FULL_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		         -1, 0);
		if (p != MAP_FAILED) {
			m->reserved = FULL_BYTES;
			m->guarded = 1;
		}
	}
	if (p == MAP_FAILED) {
		m->reserved = cap * WASM_PAGE + GUARD_BYTES;
		p = mmap(NULL, m->reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		         -1, 0);
	}
	if (p == MAP_FAILED)
		return err_sys(e, "reserving %llu bytes for a linear memory",
		               (unsigned long long)m->reserved);
	m->base = p;
	if (min_pages && mprotect(p, min_pages * WASM_PAGE, PROT_READ | PROT_WRITE)) {
		int saved = errno;
		munmap(p, m->reserved);
		m->base = NULL;
		return err_errno(e, saved, "allocating %llu pages of linear memory",
		                 (unsigned long long)min_pages);
	}
	m->size = min_pages * WASM_PAGE;
	return 0;
}

int64_t wasm_memory_grow(struct capsa_wasm_memory *m, uint64_t delta)
{
	uint64_t old = m->size / WASM_PAGE, want = old + delta;
	if (want > m->cap_pages || want * WASM_PAGE + GUARD_BYTES > m->reserved)
		return -1;
	if (delta && mprotect(m->base + m->size, delta * WASM_PAGE, PROT_READ | PROT_WRITE))
		return -1;
	m->size = want * WASM_PAGE;
	return (int64_t)old;
}

void wasm_memory_release(struct capsa_wasm_memory *m)
{
	if (m->base)
		munmap(m->base, m->reserved);
	m->base = NULL;
}

int64_t wasm_table_grow(struct capsa_wasm_table *t, uint32_t delta, uint64_t init)
{
	uint64_t old = t->size, want = old + delta;
	uint64_t cap = t->max == UINT64_MAX ? UINT32_MAX : t->max;
	if (want > cap || want > (1u << 24))
		return -1;
	if (delta) {
		uint64_t *p = realloc(t->elems, want * sizeof(uint64_t));
		if (!p)
			return -1;
		t->elems = p;
		for (uint64_t i = old; i < want; i++)
			p[i] = init;
	}
	t->size = (uint32_t)want;
	return (int64_t)old;
}
