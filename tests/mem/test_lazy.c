/* SPDX-License-Identifier: Apache-2.0 */
/* Guest memory filled on first touch (mem/lazy.h) from a chunk source:
 * the source's `first` chunks are filled before anything touches them,
 * the others on first touch, zero chunks read as zero, and a chunk that
 * cannot be read is reported and reads as zero; chunks the source maps in
 * place are never filled, and are checked later. */
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
	atomic_int checks[NCHUNKS];
	int zero_chunk, bad_chunk; /* -1: none */
	int file;                  /* what fake_map maps chunks from */
	atomic_int failed;
	char msg[ERR_MSG_MAX];
	atomic_int warms;        /* calls of fake_warm */
	atomic_int warm_scratch; /* 1: it got a whole chunk to write into */
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

/* Writes its whole scratch buffer (ASan sees a short one). */
static void fake_warm(void *ctx, uint8_t *scratch)
{
	struct fake *f = ctx;
	memset(scratch, 0x5a, CHUNK);
	atomic_store(&f->warm_scratch, scratch != NULL);
	atomic_fetch_add(&f->warms, 1);
}

static void fake_fail(void *ctx, const struct err *e)
{
	struct fake *f = ctx;
	snprintf(f->msg, sizeof(f->msg), "%s", e->msg);
	atomic_store(&f->failed, 1);
}

static const uint64_t first[] = {3, 7, 12, 99 /* past the end: ignored */};

/* Chunks 3 and 4 (one run) and 10 come from a file: chunk i holds 0xa0+i. */
static const uint64_t file_chunks[] = {3, 4, 10};

static int fake_map(void *ctx, uint8_t *base, uint64_t size, uint8_t *mapped, struct err *e)
{
	struct fake *f = ctx;
	assert_int_equal(size, SIZE);
	if (mmap(base + 3 * CHUNK, 2 * CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
	         f->file, 3 * CHUNK) == MAP_FAILED ||
	    mmap(base + 10 * CHUNK, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, f->file,
	         10 * CHUNK) == MAP_FAILED)
		return err_sys(e, "mmap");
	for (size_t k = 0; k < sizeof(file_chunks) / sizeof(file_chunks[0]); k++)
		mapped[file_chunks[k]] = 1;
	return 0;
}

/* The mapped chunk f->bad_chunk fails its check. */
static int fake_check(void *ctx, uint64_t i, struct err *e)
{
	struct fake *f = ctx;
	atomic_fetch_add(&f->checks[i], 1);
	if ((int)i == f->bad_chunk)
		return err_set(e, ERR_INPUT, "mapped chunk %llu is corrupt", (unsigned long long)i);
	return 0;
}

/* Start lazy memory over a fresh mapping; NULL (test skipped) where this
 * host or process has no userfaultfd. */
static struct mem_lazy *start_src(struct fake *f, uint8_t **mem, struct mem_chunk_src *src);

static struct mem_lazy *start(struct fake *f, uint8_t **mem)
{
	struct mem_chunk_src src = {0};
	return start_src(f, mem, &src);
}

static struct mem_lazy *start_src(struct fake *f, uint8_t **mem, struct mem_chunk_src *src)
{
	*mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(*mem != MAP_FAILED);
	src->chunk_size = CHUNK;
	src->nchunks = NCHUNKS;
	src->first = first;
	src->nfirst = sizeof(first) / sizeof(first[0]);
	src->read = fake_read;
	src->ctx = f;
	struct mem_lazy_hooks hooks = {.on_fail = fake_fail, .ctx = f};
	struct mem_lazy *l;
	struct err e = {0};
	int rc = mem_lazy_start(&l, *mem, SIZE, src, &hooks, &e);
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

/* The source's warm-up runs once on the fill thread with a chunk of
 * scratch, before any touch and without anything being filled by it; faults
 * and fills go on as before (the scratch is not the memory). */
static void test_warm_once(void **state)
{
	(void)state;
	struct fake f = {.zero_chunk = -1, .bad_chunk = -1};
	uint8_t *mem;
	struct mem_chunk_src src = {.warm = fake_warm};
	struct mem_lazy *l = start_src(&f, &mem, &src);
	if (!l)
		skip(); /* no userfaultfd here */
	for (int i = 0; i < 5000 && !atomic_load(&f.warms); i++)
		usleep(1000);
	assert_int_equal(atomic_load(&f.warms), 1);
	assert_true(atomic_load(&f.warm_scratch));
	assert_false(mem_lazy_filled(l, 9 * (uint64_t)CHUNK));
	assert_int_equal(mem[9 * CHUNK + 1], 10);
	assert_true(wait_filled(l, 12 * (uint64_t)CHUNK));
	assert_int_equal(mem[12 * CHUNK], 13);
	mem_lazy_stop(l);
	assert_int_equal(atomic_load(&f.warms), 1);
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

/* A file of SIZE bytes, chunk i holding 0xa0+i. */
static int chunk_file(void)
{
	int fd = memfd_create("chunks", 0);
	assert_true(fd >= 0);
	static uint8_t buf[CHUNK];
	for (uint64_t i = 0; i < NCHUNKS; i++) {
		memset(buf, 0xa0 + (int)i, CHUNK);
		assert_int_equal(pwrite(fd, buf, CHUNK, (off_t)(i * CHUNK)), CHUNK);
	}
	return fd;
}

/* start with the source's map and check over a fresh chunk_file(), the
 * mapped chunk `bad` failing its check; the test is skipped where this host
 * has no userfaultfd. */
static struct mem_lazy *start_mapped(struct fake *f, int bad, uint8_t **mem)
{
	*f = (struct fake){.zero_chunk = -1, .bad_chunk = bad, .file = chunk_file()};
	struct mem_chunk_src src = {.map = fake_map, .check = fake_check};
	struct mem_lazy *l = start_src(f, mem, &src);
	if (!l) {
		close(f->file);
		skip(); /* no userfaultfd here */
	}
	return l;
}

/* Chunks the source maps are in place at once, never read nor filled
 * ahead (chunk 3 is a `first` one), never registered; the guest's writes
 * stay private; the others fill as before; each mapped chunk is checked
 * once, later, and a failed check is reported as a bad chunk. */
static void test_mapped_chunks(void **state)
{
	(void)state;
	struct fake f;
	uint8_t *mem;
	struct mem_lazy *l = start_mapped(&f, 10, &mem);
	for (uint64_t i = 0; i < NCHUNKS; i++)
		assert_int_equal(mem_lazy_mapped(l, i * CHUNK), i == 3 || i == 4 || i == 10);
	assert_true(mem_lazy_filled(l, 4 * (uint64_t)CHUNK));
	assert_int_equal(mem[3 * CHUNK + 5], 0xa3);
	assert_int_equal(mem[5 * CHUNK - 1], 0xa4);
	mem[4 * CHUNK] = 1;
	assert_int_equal(mem[4 * CHUNK], 1);
	uint8_t b;
	assert_int_equal(pread(f.file, &b, 1, 4 * CHUNK), 1);
	assert_int_equal(b, 0xa4);                         /* not written through */
	assert_true(wait_filled(l, 12 * (uint64_t)CHUNK)); /* the `first` ones past it */
	assert_int_equal(mem[9 * CHUNK], 10);              /* a fault as before */
	for (int i = 0; i < 5000 && !atomic_load(&f.failed); i++)
		usleep(1000);
	assert_true(atomic_load(&f.failed));
	assert_non_null(strstr(f.msg, "mapped chunk 10 is corrupt"));
	assert_int_equal(atomic_load(&f.checks[3]), 1);
	assert_int_equal(atomic_load(&f.checks[4]), 1);
	assert_int_equal(atomic_load(&f.checks[9]), 0); /* not mapped: not checked */
	for (size_t k = 0; k < sizeof(file_chunks) / sizeof(file_chunks[0]); k++)
		assert_int_equal(atomic_load(&f.reads[file_chunks[k]]), 0);
	mem_lazy_stop(l);
	munmap(mem, SIZE);
	close(f.file);
}

/* The owner checks what is left at once (the fill thread waits before
 * its checks), and learns of the bad chunk. */
static void test_check_all(void **state)
{
	(void)state;
	struct fake f;
	uint8_t *mem;
	struct mem_lazy *l = start_mapped(&f, 10, &mem);
	struct err e = {0};
	assert_int_equal(mem_lazy_check_all(l, &e), -1);
	assert_non_null(strstr(e.msg, "mapped chunk 10 is corrupt"));
	assert_int_equal(atomic_load(&f.checks[3]), 1);
	assert_int_equal(atomic_load(&f.checks[10]), 1);
	assert_true(mem_lazy_failed(l));
	mem_lazy_stop(l);
	assert_int_equal(atomic_load(&f.checks[4]), 1); /* each once */
	munmap(mem, SIZE);
	close(f.file);

	l = start_mapped(&f, -1, &mem);
	assert_int_equal(mem_lazy_check_all(l, &e), 0);
	assert_false(mem_lazy_failed(l));
	mem_lazy_stop(l);
	munmap(mem, SIZE);
	close(f.file);
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
	    cmocka_unit_test(test_warm_once),
	    cmocka_unit_test(test_mapped_chunks),
	    cmocka_unit_test(test_check_all),
	    cmocka_unit_test(test_fill_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
