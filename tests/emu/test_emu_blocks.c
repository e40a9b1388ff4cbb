/* SPDX-License-Identifier: Apache-2.0 */
/* The decoded-block cache's set-up (vm/emu/block.c): a new vCPU's jump
 * cache, hash table and the start of its arena are faulted in when the
 * cache is made, not page by page as the first blocks are decoded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mem/touched.h"
#include "vm/emu/block.h"
#include "vm/emu/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

/* Are all whole pages inside [p, p+n) present? */
static int present(const void *p, size_t n)
{
	uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
	uintptr_t b = ((uintptr_t)p + n) & ~(uintptr_t)4095;
	assert_true(b > a);
	size_t np = (b - a) / 4096;
	uint8_t *map = calloc(np, 1);
	assert_non_null(map);
	struct err e = {0};
	assert_int_equal(mem_pages_touched((const uint8_t *)a, b - a, map, &e), 0);
	int all = 1;
	for (size_t k = 0; k < np; k++)
		all &= map[k];
	free(map);
	return all;
}

/* Does this kernel have MADV_POPULATE_WRITE (5.14)? */
static int can_populate(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	int rc = madvise(p, 4096, MADV_POPULATE_WRITE);
	munmap(p, 4096);
	return rc == 0;
}

static void test_cache_faulted_in(void **state)
{
	(void)state;
	if (!can_populate())
		skip(); /* the kernel has no MADV_POPULATE_WRITE: pages come on first touch */
	struct emu_cpu *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	assert_int_equal(emu_blocks_init(c), 0);
	assert_true(present(c->jc, sizeof(c->jc)));
	assert_true(present(c->hash, 16384 * sizeof(*c->hash)));
	assert_true(present(c->arena, 256u << 10));
	/* the rest of the arena is left to first touches */
	assert_false(present(c->arena + (1u << 20), 1u << 20));
	emu_blocks_free(c);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cache_faulted_in),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
