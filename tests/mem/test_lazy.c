/* SPDX-License-Identifier: Apache-2.0 */
/* Guest memory filled on first touch (mem/lazy.h) from a chunk source:
 * the source's `first` chunks are filled before anything touches them,
 * the others on first touch, zero chunks read as zero, and a chunk that
 * cannot be read is reported and reads as zero. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mem/lazy.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CHUNK   (64u << 10)
#define NCHUNKS 16u
#define SIZE    ((uint64_t)CHUNK * NCHUNKS)

struct fake {
	atomic_int reads[NCHUNKS];
	int zero_chunk, bad_chunk; /* -1: none */
	atomic_int failed;
	char msg[ERR_MSG_MAX];
};

static int fake_read(void *ctx, uint64_t i, uint8_t *dst, size_t len, struct err *e)
{
	struct fake *f = ctx;
	atomic_fetch_add(&f->reads[i], 1);
	if ((int)i == f->bad_chunk)
		return err_set(e, ERR_INPUT, "chunk %llu is corrupt", (unsigned long long)i);
	if ((int)i == f->zero_chunk)
		return 1;
	memset(dst, (int)(i + 1), len);
	return 0;
}

static void fake_fail(void *ctx, const struct err *e)
{
	struct fake *f = ctx;
	snprintf(f->msg, sizeof(f->msg), "%s", e->msg);
	atomic_store(&f->failed, 1);
}

static const uint64_t first[] = {3, 7, 12, 99 /* past the end: ignored */};

/* Start lazy memory over a fresh mapping; NULL (test skipped) where this
 * host or process has no userfaultfd. */
static struct mem_lazy *start(struct fake *f, uint8_t **mem)
{
	*mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(*mem != MAP_FAILED);
	struct mem_chunk_src src = {
	    .chunk_size = CHUNK,
	    .nchunks = NCHUNKS,
	    .first = first,
	    .nfirst = sizeof(first) / sizeof(first[0]),
	    .read = fake_read,
	    .ctx = f,
	};
	struct mem_lazy_hooks hooks = {.on_fail = fake_fail, .ctx = f};
	struct mem_lazy *l;
	struct err e = {0};
	int rc = mem_lazy_start(&l, *mem, SIZE, &src, &hooks, &e);
	if (rc == 1) {
		munmap(*mem, SIZE);
		return NULL;
	}
	assert_int_equal(rc, 0);
	return l;
}

/* Wait up to 5 s for the chunk holding byte off to be filled. */
static int wait_filled(struct mem_lazy *l, uint64_t off)
{
	for (int i = 0; i < 5000 && !mem_lazy_filled(l, off); i++)
		usleep(1000);
	return mem_lazy_filled(l, off);
}

static void test_first_chunks_filled_before_touch(void **state)
{
	(void)state;
	struct fake f = {.zero_chunk = 5, .bad_chunk = -1};
	uint8_t *mem;
	struct mem_lazy *l = start(&f, &mem);
	if (!l)
		skip(); /* no userfaultfd here */
	for (size_t k = 0; k < 3; k++)
		assert_true(wait_filled(l, first[k] * CHUNK));
	/* nothing touched the others: not read */
	assert_false(mem_lazy_filled(l, 0));
	assert_false(mem_lazy_filled(l, 9 * (uint64_t)CHUNK));
	assert_int_equal(atomic_load(&f.reads[0]), 0);
	/* the filled chunks hold their data; reading them reads nothing more */
	assert_int_equal(mem[7 * CHUNK + 123], 8);
	assert_int_equal(mem[12 * CHUNK + CHUNK - 1], 13);
	assert_int_equal(atomic_load(&f.reads[7]), 1);
	/* the others on first touch, zero chunks as zero */
	assert_int_equal(mem[9 * CHUNK + 4096], 10);
	assert_int_equal(atomic_load(&f.reads[9]), 1);
	assert_int_equal(mem[5 * CHUNK + 77], 0);
	assert_true(wait_filled(l, 5 * (uint64_t)CHUNK)); /* marked just after the wake */
	mem[0] = 42;                                      /* a write fills too */
	assert_int_equal(mem[0], 42);
	assert_int_equal(mem[1], 1);
	assert_false(mem_lazy_failed(l));
	mem_lazy_stop(l);
	munmap(mem, SIZE);
}

static void test_bad_first_chunk_reported(void **state)
{
	(void)state;
	struct fake f = {.zero_chunk = -1, .bad_chunk = 7};
	uint8_t *mem;
	struct mem_lazy *l = start(&f, &mem);
	if (!l)
		skip(); /* no userfaultfd here */
	assert_true(wait_filled(l, 7 * (uint64_t)CHUNK));
	for (int i = 0; i < 5000 && !atomic_load(&f.failed); i++)
		usleep(1000);
	assert_true(atomic_load(&f.failed));
	assert_true(mem_lazy_failed(l));
	assert_non_null(strstr(f.msg, "chunk 7 is corrupt"));
	assert_int_equal(mem[7 * CHUNK], 0); /* no thread waits forever */
	mem_lazy_stop(l);
	munmap(mem, SIZE);
}

static void test_fill_all(void **state)
{
	(void)state;
	struct fake f = {.zero_chunk = 2, .bad_chunk = -1};
	uint8_t *mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(mem != MAP_FAILED);
	struct mem_chunk_src src = {
	    .chunk_size = CHUNK, .nchunks = NCHUNKS, .read = fake_read, .ctx = &f};
	struct err e = {0};
	assert_int_equal(mem_fill_all(mem, SIZE, &src, &e), 0);
	assert_int_equal(mem[CHUNK * 15 + 9], 16);
	assert_int_equal(mem[CHUNK * 2 + 9], 0);
	munmap(mem, SIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_chunks_filled_before_touch),
	    cmocka_unit_test(test_bad_first_chunk_reported),
	    cmocka_unit_test(test_fill_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
