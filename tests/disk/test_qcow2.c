/* SPDX-License-Identifier: Apache-2.0 */
/* qcow2 through the library: interoperability with qemu-img/qemu-io (images it
 * wrote open unchanged, images capsa wrote pass qemu-img check and convert to
 * the expected bytes), backing chains, zero and compressed clusters, small
 * clusters (refcount block allocation), and crafted or corrupted images that
 * must fail cleanly. */
#include "qtest.h"

#include "disk/disk.h"
#include "disk/qcow2.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#define SIZE (8u << 20)

static struct disk *open_q(const char *path, int ro)
{
	struct disk_options o = {path, DISK_FMT_QCOW2, ro, DISK_CACHE_WRITEBACK};
	struct disk *d = NULL;
	struct err e = {0};
	if (disk_open(&d, &o, &e))
		printf("# note: %s\n", e.msg);
	return d;
}

static int dread(struct disk *d, uint64_t off, void *buf, size_t len)
{
	struct iovec v = {buf, len};
	return d->ops->preadv(d, &v, 1, off);
}

static int dwrite(struct disk *d, uint64_t off, const void *buf, size_t len)
{
	/* split in two iovec entries to exercise the slicing */
	size_t half = len / 3;
	struct iovec v[2] = {{(void *)buf, half}, {(uint8_t *)buf + half, len - half}};
	return d->ops->pwritev(d, v, 2, off);
}

static void write_raw_pattern(const char *path, size_t size)
{
	uint8_t *b = malloc(size);
	for (size_t i = 0; i < size; i++)
		b[i] = pat(i);
	/* a hole of zeros in the middle */
	memset(b + size / 2, 0, 256 * 1024);
	assert_int_equal(write_file(path, b, size), 0);
	free(b);
}

static uint8_t *load(const char *path, size_t *len)
{
	return (uint8_t *)read_file(path, len);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random writes on an overlay of `base`, checked against a model, then by qemu-img. */
static void overlay_roundtrip(const char *dir, const char *base, const char *base_raw,
                              unsigned cluster_bits)
{
	char *ov = tpath(dir, "overlay.qcow2");
	unlink(ov);
	struct qcow2_create_opts co = {0, base, cluster_bits};
	struct err e = {0};
	assert_int_equal(qcow2_create(ov, &co, &e), 0);
	size_t len;
	uint8_t *model = load(base_raw, &len);
	assert_int_equal(len, SIZE);
	struct disk *d = open_q(ov, 0);
	assert_non_null(d);
	assert_int_equal(d->size, SIZE);
	uint8_t *buf = malloc(300000), *got = malloc(300000);
	uint64_t seed = 0x1234567;
	for (int i = 0; i < 300; i++) {
		uint64_t n = 512 * (1 + rnd(&seed) % 400);
		uint64_t off = 512 * (rnd(&seed) % ((SIZE - n) / 512));
		for (uint64_t k = 0; k < n; k++)
			buf[k] = (uint8_t)(i * 13 + k);
		assert_int_equal(dwrite(d, off, buf, n), 0);
		memcpy(model + off, buf, n);
		if (i % 50 == 49)
			assert_int_equal(d->ops->flush(d), 0);
		/* read back a random range */
		uint64_t roff = 512 * (rnd(&seed) % ((SIZE - n) / 512));
		assert_int_equal(dread(d, roff, got, n), 0);
		assert_memory_equal(got, model + roff, n);
	}
	/* write-zeroes and a whole read */
	assert_int_equal(d->ops->write_zeroes(d, 65536 * 3 + 512, 70000 - 70000 % 512), 0);
	memset(model + 65536 * 3 + 512, 0, 70000 - 70000 % 512);
	uint8_t *all = malloc(SIZE);
	assert_int_equal(dread(d, 0, all, SIZE), 0);
	assert_memory_equal(all, model, SIZE);
	/* out of range requests fail without touching anything */
	assert_int_equal(dread(d, SIZE - 512, got, 1024), -EINVAL);
	disk_close(d);

	/* qemu-img agrees: no errors, and the same bytes */
	assert_int_equal(RUN(QEMU_IMG, "check", ov), 0);
	char *out = tpath(dir, "converted.raw");
	unlink(out);
	assert_int_equal(RUN(QEMU_IMG, "convert", "-O", "raw", ov, out), 0);
	uint8_t *conv = load(out, &len);
	assert_int_equal(len, SIZE);
	assert_memory_equal(conv, model, SIZE);
	/* and capsa reads its own image again after reopening, read-only */
	d = open_q(ov, 1);
	assert_non_null(d);
	assert_int_equal(dread(d, 0, all, SIZE), 0);
	assert_memory_equal(all, model, SIZE);
	assert_int_equal(dwrite(d, 0, buf, 512), -EROFS);
	disk_close(d);
	free(conv);
	free(all);
	free(buf);
	free(got);
	free(model);
}

static void qemu_base_overlay(void **state)
{
	(void)state;
	REQUIRE_QEMU_IMG();
	char *dir = test_tmpdir();
	char *raw = tpath(dir, "base.raw"), *base = tpath(dir, "base.qcow2");
	write_raw_pattern(raw, SIZE);
	assert_int_equal(RUN(QEMU_IMG, "convert", "-f", "raw", "-O", "qcow2", raw, base), 0);
	overlay_roundtrip(dir, "base.qcow2", raw, 0); /* relative backing name */
	/* the base is unchanged */
	assert_int_equal(RUN(QEMU_IMG, "compare", "-f", "raw", "-F", "qcow2", raw, base), 0);
	rmtree(dir);
}

static void compressed_base(void **state)
{
	(void)state;
	REQUIRE_QEMU_IMG();
	char *dir = test_tmpdir();
	char *raw = tpath(dir, "base.raw");
	write_raw_pattern(raw, SIZE);
	/* zlib-compressed clusters */
	char *z = tpath(dir, "z.qcow2");
	assert_int_equal(RUN(QEMU_IMG, "convert", "-c", "-f", "raw", "-O", "qcow2", raw, z), 0);
	overlay_roundtrip(dir, z, raw, 0);
	/* zstd-compressed clusters, when this qemu-img has zstd */
	char *zs = tpath(dir, "zstd.qcow2");
	if (RUN(QEMU_IMG, "convert", "-c", "-f", "raw", "-O", "qcow2", "-o",
	        "compression_type=zstd", raw, zs) == 0)
		overlay_roundtrip(dir, zs, raw, 12);
	else
		printf("# note: qemu-img cannot write zstd clusters; zstd not exercised\n");
	/* writing into a compressed image itself (copy-on-write out of compressed clusters) */
	struct disk *d = open_q(z, 0);
	assert_non_null(d);
	uint8_t buf[4096];
	memset(buf, 0xab, sizeof(buf));
	assert_int_equal(dwrite(d, 100 * 512, buf, sizeof(buf)), 0);
	uint8_t got[8192];
	assert_int_equal(dread(d, 96 * 512, got, sizeof(got)), 0);
	for (size_t i = 0; i < sizeof(got); i++) {
		uint64_t o = 96 * 512 + i;
		uint8_t want = (o >= 100 * 512 && o < 100 * 512 + 4096) ? 0xab : pat(o);
		assert_int_equal(got[i], want);
	}
	disk_close(d);
	assert_int_equal(RUN(QEMU_IMG, "check", z), 0);
	rmtree(dir);
}

static void qemu_io_interop(void **state)
{
	(void)state;
	REQUIRE_QEMU_IMG();
	char *dir = test_tmpdir();
	char *img = tpath(dir, "q.qcow2");
	assert_int_equal(RUN(QEMU_IMG, "create", "-q", "-f", "qcow2", img, "4M"), 0);
	/* data, an explicit zero cluster (v3 zero flag) and data after it */
	assert_int_equal(RUN(QEMU_IO, "-c", "write -P 0x5a 0 128k", img), 0);
	assert_int_equal(RUN(QEMU_IO, "-c", "write -z 64k 64k", img), 0);
	assert_int_equal(RUN(QEMU_IO, "-c", "write -P 0x33 1M 4k", img), 0);
	struct disk *d = open_q(img, 0);
	assert_non_null(d);
	uint8_t *b = malloc(1 << 21);
	assert_int_equal(dread(d, 0, b, 1 << 21), 0);
	for (size_t i = 0; i < (1u << 21); i++) {
		uint8_t want = i < 65536                                    ? 0x5a
		               : (i >= (1u << 20) && i < (1u << 20) + 4096) ? 0x33
		                                                            : 0;
		if (b[i] != want)
			fail_msg("byte %zu: %#x, want %#x", i, b[i], want);
	}
	/* capsa writes into the zero cluster (partly) and a fresh region */
	memset(b, 0xc4, 8192);
	assert_int_equal(dwrite(d, 65536 + 4096, b, 8192), 0);
	assert_int_equal(dwrite(d, 3 << 20, b, 8192), 0);
	assert_int_equal(d->ops->flush(d), 0);
	disk_close(d);
	free(b);
	assert_int_equal(RUN(QEMU_IMG, "check", img), 0);
	assert_int_equal(RUN(QEMU_IO, "-c", "read -P 0 64k 4k", img), 0);
	assert_int_equal(RUN(QEMU_IO, "-c", "read -P 0xc4 68k 8k", img), 0);
	assert_int_equal(RUN(QEMU_IO, "-c", "read -P 0 76k 52k", img), 0);
	assert_int_equal(RUN(QEMU_IO, "-c", "read -P 0xc4 3M 8k", img), 0);
	assert_int_equal(RUN(QEMU_IO, "-c", "read -P 0x33 1M 4k", img), 0);
	struct run_result r;
	char *const a[] = {QEMU_IO, "-c", "read -P 0x5a 0 64k", img, NULL};
	run_argv(a, &r);
	assert_int_equal(r.status, 0);
	assert_null(strstr(r.out, "Pattern verification failed"));
	run_result_free(&r);
	rmtree(dir);
}

static void small_clusters(void **state)
{
	(void)state;
	REQUIRE_QEMU_IMG();
	char *dir = test_tmpdir();
	char *img = tpath(dir, "small.qcow2");
	/* 512-byte clusters: a refcount block covers 256 clusters, so writing
	 * 4 MiB allocates many refcount blocks and L2 tables */
	struct qcow2_create_opts co = {4u << 20, NULL, 9};
	struct err e = {0};
	assert_int_equal(qcow2_create(img, &co, &e), 0);
	struct disk *d = open_q(img, 0);
	assert_non_null(d);
	uint8_t *b = malloc(4u << 20);
	for (size_t i = 0; i < (4u << 20); i++)
		b[i] = pat(i * 3);
	for (size_t off = 0; off < (4u << 20); off += 65536)
		assert_int_equal(dwrite(d, off, b + off, 65536), 0);
	disk_close(d);
	assert_int_equal(RUN(QEMU_IMG, "check", img), 0);
	char *out = tpath(dir, "small.raw");
	assert_int_equal(RUN(QEMU_IMG, "convert", "-O", "raw", img, out), 0);
	size_t len;
	uint8_t *c = load(out, &len);
	assert_int_equal(len, 4u << 20);
	assert_memory_equal(c, b, len);
	free(c);
	/* a 16 MiB image with 512-byte clusters outgrows its one-cluster refcount
	 * table (64 blocks of 256 clusters: 8 MiB) several times: the table grows */
	char *big = tpath(dir, "big.qcow2");
	struct qcow2_create_opts cb = {16u << 20, NULL, 9};
	assert_int_equal(qcow2_create(big, &cb, &e), 0);
	d = open_q(big, 0);
	assert_non_null(d);
	for (size_t off = 0; off < (16u << 20); off += 65536)
		assert_int_equal(dwrite(d, off, b + (off % (4u << 20)), 65536), 0);
	uint8_t *got = malloc(65536);
	for (size_t off = 0; off < (16u << 20); off += 65536 * 7) {
		assert_int_equal(dread(d, off, got, 65536), 0);
		assert_memory_equal(got, b + (off % (4u << 20)), 65536);
	}
	free(got);
	disk_close(d);
	/* capsa opens the grown image and rewrites through copy-on-write-free clusters */
	d = open_q(big, 0);
	assert_non_null(d);
	assert_int_equal(dwrite(d, 0, b, 65536), 0);
	assert_int_equal(d->ops->discard(d, 65536, 65536), 0);
	assert_int_equal(dwrite(d, 65536, b + 65536, 65536), 0);
	disk_close(d);
	assert_int_equal(RUN(QEMU_IMG, "check", big), 0);
	out = tpath(dir, "big.raw");
	assert_int_equal(RUN(QEMU_IMG, "convert", "-O", "raw", big, out), 0);
	c = load(out, &len);
	assert_int_equal(len, 16u << 20);
	for (size_t off = 0; off < (16u << 20); off += 4u << 20)
		assert_memory_equal(c + off, b, 4u << 20);
	free(c);
	/* the header names a table of more than its first cluster */
	uint8_t *hdr = load(big, &len);
	uint32_t rt_clusters = (uint32_t)hdr[56] << 24 | hdr[57] << 16 | hdr[58] << 8 | hdr[59];
	printf("# measured: refcount table grew from 1 to %u clusters\n", rt_clusters);
	assert_true(rt_clusters > 1);
	free(hdr);
	free(b);
	rmtree(dir);
}

static uint64_t allocated_bytes(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

/* Discard and write-zeroes release whole clusters (zero entries, holes punched
 * in the file after the flush) and write zeros at partial edges; over a backing
 * file the zeroed range no longer shows the backing data. */
static void discard_and_zeroes(void **state)
{
	(void)state;
	REQUIRE_QEMU_IMG();
	char *dir = test_tmpdir();
	char *base = tpath(dir, "base.qcow2"), *ov = tpath(dir, "ov.qcow2");
	struct qcow2_create_opts co = {SIZE, NULL, 16};
	struct err e = {0};
	assert_int_equal(qcow2_create(base, &co, &e), 0);
	uint8_t *model = malloc(SIZE), *all = malloc(SIZE);
	for (size_t i = 0; i < SIZE; i++)
		model[i] = (uint8_t)(pat(i) | 1);
	struct disk *d = open_q(base, 0);
	assert_non_null(d);
	assert_int_equal(dwrite(d, 0, model, SIZE), 0);
	assert_int_equal(d->ops->flush(d), 0);
	uint64_t before = allocated_bytes(base);
	/* 2 MiB of whole clusters discarded, plus ragged edges left alone */
	assert_int_equal(d->ops->discard(d, (1u << 20) - 512, (2u << 20) + 1024), 0);
	memset(model + (1u << 20), 0, 2u << 20);
	/* write-zeroes with partial edges */
	assert_int_equal(d->ops->write_zeroes(d, (5u << 20) + 4096, 200000), 0);
	memset(model + (5u << 20) + 4096, 0, 200000);
	assert_int_equal(d->ops->flush(d), 0);
	uint64_t after = allocated_bytes(base);
	printf("# measured: discard/write-zeroes freed %llu KiB of the image file\n",
	       (unsigned long long)((before - after) >> 10));
	assert_true(before - after >= (2u << 20));
	assert_int_equal(dread(d, 0, all, SIZE), 0);
	assert_memory_equal(all, model, SIZE);
	disk_close(d);
	assert_int_equal(RUN(QEMU_IMG, "check", base), 0);

	/* over a backing file: zeros hide the backing data */
	struct qcow2_create_opts oo = {0, base, 16};
	assert_int_equal(qcow2_create(ov, &oo, &e), 0);
	d = open_q(ov, 0);
	assert_non_null(d);
	assert_int_equal(d->ops->discard(d, 0, 65536 * 2), 0);
	memset(model, 0, 65536 * 2);
	assert_int_equal(d->ops->write_zeroes(d, (4u << 20) - 100 * 512, 300 * 512), 0);
	memset(model + (4u << 20) - 100 * 512, 0, 300 * 512);
	assert_int_equal(dread(d, 0, all, SIZE), 0);
	assert_memory_equal(all, model, SIZE);
	disk_close(d);
	assert_int_equal(RUN(QEMU_IMG, "check", ov), 0);
	char *out = tpath(dir, "ov.raw");
	assert_int_equal(RUN(QEMU_IMG, "convert", "-O", "raw", ov, out), 0);
	size_t len;
	uint8_t *conv = load(out, &len);
	assert_int_equal(len, SIZE);
	assert_memory_equal(conv, model, SIZE);
	free(conv);
	free(model);
	free(all);
	rmtree(dir);
}

/* A backing file that became a FIFO (or names a device) is refused at once:
 * opening it must not block capsa. */
static void backing_fifo(void **state)
{
	(void)state;
	char *dir = test_tmpdir();
	char *b = tpath(dir, "b.raw"), *ov = tpath(dir, "ov.qcow2");
	assert_int_equal(write_file(b, "0123456789abcdef", 16), 0);
	assert_int_equal(truncate(b, 1 << 20), 0);
	struct qcow2_create_opts co = {0, b, 16};
	struct err e = {0};
	assert_int_equal(qcow2_create(ov, &co, &e), 0);
	assert_int_equal(unlink(b), 0);
	assert_int_equal(mkfifo(b, 0600), 0);
	double t0 = now_secs();
	assert_null(open_q(ov, 1));
	struct disk *d = NULL;
	struct disk_options o = {b, DISK_FMT_RAW, 1, DISK_CACHE_WRITEBACK};
	assert_int_equal(disk_open(&d, &o, &e), -1);
	assert_non_null(strstr(e.msg, "not a regular file or block device"));
	assert_true(now_secs() - t0 < 5);
	rmtree(dir);
}

static void create_and_info(void **state)
{
	(void)state;
	REQUIRE_QEMU_IMG();
	char *dir = test_tmpdir();
	char *img = tpath(dir, "new.qcow2");
	struct qcow2_create_opts co = {(1ULL << 30) + 512, NULL, 0};
	struct err e = {0};
	assert_int_equal(qcow2_create(img, &co, &e), 0);
	/* refuses to overwrite */
	assert_int_equal(qcow2_create(img, &co, &e), -1);
	assert_int_equal(e.kind, ERR_INPUT);
	assert_int_equal(RUN(QEMU_IMG, "check", img), 0);
	struct run_result r;
	char *const a[] = {QEMU_IMG, "info", "--output=json", img, NULL};
	run_argv(a, &r);
	assert_non_null(strstr(r.out, "\"virtual-size\": 1073742336"));
	assert_non_null(strstr(r.out, "\"cluster-size\": 65536"));
	run_result_free(&r);
	struct qcow2_info in;
	assert_int_equal(qcow2_info(img, &in, &e), 0);
	assert_int_equal(in.size, (1ULL << 30) + 512);
	assert_int_equal(in.cluster_bits, 16);
	assert_int_equal(in.allocated_clusters, 0);
	/* an overlay takes its size and format from the backing file */
	char *ov = tpath(dir, "ov.qcow2");
	struct qcow2_create_opts oo = {0, "new.qcow2", 0};
	assert_int_equal(qcow2_create(ov, &oo, &e), 0);
	assert_int_equal(qcow2_info(ov, &in, &e), 0);
	assert_int_equal(in.size, (1ULL << 30) + 512);
	assert_string_equal(in.backing, "new.qcow2");
	assert_string_equal(in.backing_format, "qcow2");
	char *const b[] = {QEMU_IMG, "info", "--output=json", ov, NULL};
	run_argv(b, &r);
	assert_non_null(strstr(r.out, "\"backing-filename-format\": \"qcow2\""));
	run_result_free(&r);
	/* missing backing file */
	struct qcow2_create_opts bad = {0, "nope.qcow2", 0};
	assert_int_equal(qcow2_create(tpath(dir, "x.qcow2"), &bad, &e), -1);
	assert_int_equal(e.kind, ERR_INPUT);
	rmtree(dir);
}

/* ---- crafted and corrupted images ---- */

static void put32(uint8_t *p, uint32_t v)
{
	v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = __builtin_bswap64(v);
	memcpy(p, &v, 8);
}

static uint8_t *good_image(const char *dir, size_t *len)
{
	char *img = tpath(dir, "good.qcow2");
	unlink(img);
	struct qcow2_create_opts co = {1u << 20, NULL, 0};
	struct err e = {0};
	assert_int_equal(qcow2_create(img, &co, &e), 0);
	struct disk *d = open_q(img, 0);
	uint8_t b[4096];
	memset(b, 0x77, sizeof(b));
	assert_int_equal(dwrite(d, 0, b, sizeof(b)), 0);
	disk_close(d);
	return load(img, len);
}

static void expect_open_fails(const char *dir, const uint8_t *img, size_t len, const char *msg)
{
	char *p = tpath(dir, "bad.qcow2");
	assert_int_equal(write_file(p, img, len), 0);
	for (int ro = 0; ro < 2; ro++) {
		struct disk_options o = {p, DISK_FMT_QCOW2, ro, DISK_CACHE_WRITEBACK};
		struct disk *d = NULL;
		struct err e = {0};
		assert_int_equal(disk_open(&d, &o, &e), -1);
		assert_null(d);
		assert_int_equal(e.kind, ERR_INPUT);
		if (!strstr(e.msg, msg))
			fail_msg("error '%s' does not mention '%s'", e.msg, msg);
	}
	struct qcow2_info in;
	struct err e = {0};
	assert_int_equal(qcow2_info(p, &in, &e), -1);
}

static void crafted_headers(void **state)
{
	(void)state;
	char *dir = test_tmpdir();
	size_t len;
	uint8_t *g = good_image(dir, &len);
	uint8_t *b = malloc(len);
	struct {
		unsigned off, width;
		uint64_t val;
		const char *msg;
	} cases[] = {
	    {0, 4, 0x514649fa, "bad magic"},
	    {4, 4, 4, "version 4"},
	    {20, 4, 8, "cluster_bits 8"},
	    {20, 4, 31, "cluster_bits 31"},
	    {24, 8, 1ULL << 60, "too large"},
	    {32, 4, 1, "encrypted"},
	    {36, 4, 0, "L1 size"},
	    {36, 4, 0x10000000, "L1 size"},
	    {40, 8, 3 * 65536 + 8, "L1 table offset"},
	    {40, 8, 1ULL << 40, "beyond the end"},
	    {48, 8, 0, "refcount table"},
	    {56, 4, 1000, "refcount table"},
	    {72, 8, 1ULL << 5, "incompatible features"},
	    {96, 4, 7, "refcount order"},
	    {100, 4, 50, "header length"},
	    {8, 8, 65530, "backing file name"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(b, g, len);
		if (cases[i].width == 4)
			put32(b + cases[i].off, (uint32_t)cases[i].val);
		else
			put64(b + cases[i].off, cases[i].val);
		if (cases[i].off == 8)
			put32(b + 16, 10);
		expect_open_fails(dir, b, len, cases[i].msg);
	}
	/* header extension running past the cluster */
	memcpy(b, g, len);
	put32(b + 112, 0x12345678);
	put32(b + 116, 0xfffffff0);
	expect_open_fails(dir, b, len, "overruns");
	/* truncated file */
	expect_open_fails(dir, g, 60, "too short");
	/* L1 entry with an unaligned L2 offset */
	memcpy(b, g, len);
	put64(b + 3 * 65536, (1ULL << 63) | 0x10200);
	expect_open_fails(dir, b, len, "L1 entry 0 is corrupt");
	free(b);
	free(g);
	rmtree(dir);
}

static void corrupt_l2(void **state)
{
	(void)state;
	char *dir = test_tmpdir();
	size_t len;
	uint8_t *g = good_image(dir, &len);
	/* find the L2 table: L1[0] */
	uint64_t l2;
	memcpy(&l2, g + 3 * 65536, 8);
	l2 = __builtin_bswap64(l2) & 0x00fffffffffffe00ULL;
	assert_true(l2 > 0 && l2 + 65536 <= len);
	const uint64_t bad_entries[] = {
	    (1ULL << 63) | 0x12345,             /* unaligned data cluster */
	    (1ULL << 63) | (1ULL << 40),        /* beyond the end of the file */
	    (1ULL << 62) | 0x3fffffffffffffULL, /* compressed, nonsense */
	    (1ULL << 63) | 0x20000 | 0x100,     /* reserved bits set */
	};
	char *p = tpath(dir, "bad.qcow2");
	for (size_t i = 0; i < sizeof(bad_entries) / sizeof(bad_entries[0]); i++) {
		put64(g + l2, bad_entries[i]);
		assert_int_equal(write_file(p, g, len), 0);
		struct disk *d = open_q(p, 0);
		assert_non_null(d); /* the header is fine; the cluster is not */
		uint8_t buf[4096];
		assert_int_equal(dread(d, 0, buf, sizeof(buf)), -EIO);
		int wrc = dwrite(d, 0, buf, sizeof(buf));
		if (wrc != -EIO)
			fail_msg("entry %zu: write gave %d", i, wrc);
		/* other clusters still work */
		int rc = dread(d, 65536, buf, sizeof(buf));
		if (rc)
			fail_msg("entry %zu: reading the next cluster: %d", i, rc);
		disk_close(d);
	}
	/* an L2 table pointer beyond the end of the file */
	size_t len2;
	uint8_t *g2 = good_image(dir, &len2);
	put64(g2 + 3 * 65536, (1ULL << 63) | (1ULL << 36));
	assert_int_equal(write_file(p, g2, len2), 0);
	struct disk *d = open_q(p, 1);
	assert_non_null(d);
	uint8_t buf[512];
	assert_int_equal(dread(d, 0, buf, sizeof(buf)), -EIO);
	disk_close(d);
	free(g2);
	free(g);
	rmtree(dir);
}

static void dirty_and_loops(void **state)
{
	(void)state;
	REQUIRE_QEMU_IMG();
	char *dir = test_tmpdir();
	size_t len;
	uint8_t *g = good_image(dir, &len);
	put64(g + 72, 1); /* dirty */
	char *p = tpath(dir, "dirty.qcow2");
	assert_int_equal(write_file(p, g, len), 0);
	assert_null(open_q(p, 0));
	struct disk *d = open_q(p, 1); /* read-only is fine */
	assert_non_null(d);
	disk_close(d);
	free(g);
	/* a.qcow2 -> b.qcow2 -> a.qcow2 */
	char *a = tpath(dir, "a.qcow2"), *b = tpath(dir, "b.qcow2");
	assert_int_equal(RUN(QEMU_IMG, "create", "-q", "-f", "qcow2", b, "1M"), 0);
	assert_int_equal(
	    RUN(QEMU_IMG, "create", "-q", "-f", "qcow2", "-b", "b.qcow2", "-F", "qcow2", a, "1M"),
	    0);
	assert_int_equal(RUN(QEMU_IMG, "rebase", "-u", "-b", "a.qcow2", "-F", "qcow2", b), 0);
	struct disk_options o = {a, DISK_FMT_QCOW2, 0, DISK_CACHE_WRITEBACK};
	struct err e = {0};
	assert_int_equal(disk_open(&d, &o, &e), -1);
	if (!strstr(e.msg, "backing chain longer"))
		fail_msg("unexpected error: %s", e.msg);
	rmtree(dir);
}

/* Random damage to the metadata of a valid image: opening, reading and writing
 * may fail, but never crash or touch memory they should not (ASan). */
static void random_damage(void **state)
{
	(void)state;
	char *dir = test_tmpdir();
	size_t len;
	uint8_t *g = good_image(dir, &len);
	uint8_t *b = malloc(len);
	char *p = tpath(dir, "damaged.qcow2");
	uint64_t s = 42;
	int opened = 0, failed_io = 0;
	uint8_t *buf = malloc(1 << 20);
	for (int round = 0; round < 300; round++) {
		memcpy(b, g, len);
		/* header, refcount table/block and L1/L2 live in the first clusters */
		for (int k = 0; k < 1 + (int)(rnd(&s) % 8); k++) {
			uint64_t r = rnd(&s);
			size_t where = r % 4 == 0 ? r % 128 : (size_t)((r >> 8) % len);
			b[where] = (uint8_t)(r >> 56);
		}
		assert_int_equal(write_file(p, b, len), 0);
		struct disk_options o = {p, DISK_FMT_QCOW2, (int)(round & 1), DISK_CACHE_WRITEBACK};
		struct disk *d = NULL;
		struct err e = {0};
		if (disk_open(&d, &o, &e)) {
			assert_true(e.msg[0] != '\0');
			continue;
		}
		opened++;
		size_t n = d->size < (1u << 20) ? d->size : (1u << 20);
		if (dread(d, 0, buf, n))
			failed_io++;
		if (!(round & 1) && dwrite(d, 0, buf, n < 8192 ? n : 8192))
			failed_io++;
		disk_close(d);
	}
	test_measured("damaged images: %d of 300 opened, %d failed I/O cleanly", opened, failed_io);
	free(buf);
	free(b);
	free(g);
	rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(qemu_base_overlay), cmocka_unit_test(compressed_base),
	    cmocka_unit_test(qemu_io_interop),   cmocka_unit_test(small_clusters),
	    cmocka_unit_test(create_and_info),   cmocka_unit_test(crafted_headers),
	    cmocka_unit_test(corrupt_l2),        cmocka_unit_test(dirty_and_loops),
	    cmocka_unit_test(random_damage),     cmocka_unit_test(discard_and_zeroes),
	    cmocka_unit_test(backing_fifo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
