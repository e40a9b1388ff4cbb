/* SPDX-License-Identifier: Apache-2.0 */
/* Module preparation for differential runs (wasmdiff.h): random modules
 * from binaryen's wasm-opt, and a rewrite that exports every global. */
#include "wasmdiff.h"

#include "lib/file.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define GLOBAL_PREFIX "capsa-diff-global-"
#define TTF_BYTES     8192
#define MAX_GLOBALS   100000 /* more: the module is left as it is */

/* ---- exporting globals ---- */

struct rd {
	const uint8_t *p, *end;
	int bad;
};

static uint32_t rd_u32(struct rd *r)
{
	uint32_t v = 0;
	for (int shift = 0; shift < 35; shift += 7) {
		if (r->p >= r->end) {
			r->bad = 1;
			return 0;
		}
		uint8_t b = *r->p++;
		v |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	r->bad = 1;
	return 0;
}

static const uint8_t *rd_skip(struct rd *r, uint64_t n)
{
	if ((uint64_t)(r->end - r->p) < n) {
		r->bad = 1;
		return NULL;
	}
	const uint8_t *at = r->p;
	r->p += n;
	return at;
}

static void rd_limits(struct rd *r)
{
	const uint8_t *f = rd_skip(r, 1);
	rd_u32(r);
	if (f && (*f & 1))
		rd_u32(r);
}

static uint32_t imported_globals(struct rd r)
{
	uint32_t n = rd_u32(&r), globals = 0;
	for (uint32_t i = 0; i < n && !r.bad; i++) {
		rd_skip(&r, rd_u32(&r));
		rd_skip(&r, rd_u32(&r));
		const uint8_t *k = rd_skip(&r, 1);
		switch (k ? *k : 0xff) {
		case 0:
			rd_u32(&r);
			break;
		case 1:
			rd_skip(&r, 1);
			rd_limits(&r);
			break;
		case 2:
			rd_limits(&r);
			break;
		case 3:
			rd_skip(&r, 2);
			globals++;
			break;
		default:
			r.bad = 1;
		}
	}
	return r.bad ? UINT32_MAX : globals;
}

/* Whether an export section's entries use our prefix; its count in *n. */
static int uses_prefix(struct rd r, uint32_t *n)
{
	*n = rd_u32(&r);
	for (uint32_t i = 0; i < *n && !r.bad; i++) {
		uint32_t len = rd_u32(&r);
		const uint8_t *name = rd_skip(&r, len);
		if (name && len >= strlen(GLOBAL_PREFIX) &&
		    !memcmp(name, GLOBAL_PREFIX, strlen(GLOBAL_PREFIX)))
			return 1;
		rd_skip(&r, 1);
		rd_u32(&r);
	}
	return r.bad;
}

struct buf {
	uint8_t *p;
	size_t n, cap;
	int bad;
};

static void put(struct buf *b, const void *data, size_t n)
{
	if (!n)
		return;
	if (b->n + n > b->cap) {
		size_t cap = (b->n + n) * 2;
		uint8_t *p = realloc(b->p, cap);
		if (!p) {
			b->bad = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, n);
	b->n += n;
}

static void put_u32(struct buf *b, uint32_t v)
{
	do {
		uint8_t c = v & 0x7f;
		v >>= 7;
		if (v)
			c |= 0x80;
		put(b, &c, 1);
	} while (v);
}

/* The export section: the old entries (body after its count) and ours. */
static void put_exports(struct buf *out, const uint8_t *old, size_t old_len, uint32_t nold,
                        uint32_t nglobals)
{
	struct buf body = {0};
	put_u32(&body, nold + nglobals);
	put(&body, old, old_len);
	for (uint32_t i = 0; i < nglobals; i++) {
		char name[64];
		int len = snprintf(name, sizeof(name), GLOBAL_PREFIX "%" PRIu32, i);
		put_u32(&body, (uint32_t)len);
		put(&body, name, (size_t)len);
		put(&body, "\x03", 1);
		put_u32(&body, i);
	}
	uint8_t id = 7;
	put(out, &id, 1);
	put_u32(out, (uint32_t)body.n);
	put(out, body.p, body.n);
	out->bad |= body.bad;
	free(body.p);
}

/* Sections that come after the export section (start, element, data count,
 * code, data). */
static int after_exports(uint8_t id)
{
	return id == 8 || id == 9 || id == 10 || id == 11 || id == 12;
}

uint8_t *wasmdiff_export_globals(const uint8_t *wasm, size_t len, size_t *out_len)
{
	struct rd r = {wasm, wasm + len, 0};
	if (len < 8 || memcmp(wasm, "\0asm\1\0\0\0", 8) || !rd_skip(&r, 8))
		return NULL;
	uint64_t nglobals = 0;
	uint32_t nexports = 0;
	int has_exports = 0;
	/* First pass: count the globals, check the export names. */
	for (struct rd s = r; s.p < s.end && !s.bad;) {
		const uint8_t *id = rd_skip(&s, 1);
		uint32_t size = rd_u32(&s);
		const uint8_t *body = rd_skip(&s, size);
		if (!body)
			return NULL;
		struct rd sec = {body, body + size, 0};
		if (*id == 2) {
			uint32_t g = imported_globals(sec);
			if (g == UINT32_MAX)
				return NULL;
			nglobals += g;
		} else if (*id == 6) {
			nglobals += rd_u32(&sec);
		} else if (*id == 7) {
			has_exports = 1;
			if (uses_prefix(sec, &nexports))
				return NULL;
		}
	}
	if (nglobals > MAX_GLOBALS)
		return NULL;
	struct buf out = {0};
	put(&out, wasm, 8);
	int done = 0;
	while (r.p < r.end && !r.bad) {
		const uint8_t *start = r.p, *id = rd_skip(&r, 1);
		uint32_t size = rd_u32(&r);
		const uint8_t *body = rd_skip(&r, size);
		if (!done && !has_exports && after_exports(*id)) {
			put_exports(&out, NULL, 0, 0, (uint32_t)nglobals);
			done = 1;
		}
		if (*id == 7) {
			struct rd sec = {body, body + size, 0};
			rd_u32(&sec);
			put_exports(&out, sec.p, (size_t)(sec.end - sec.p), nexports,
			            (uint32_t)nglobals);
			done = 1;
		} else {
			put(&out, start, (size_t)(r.p - start));
		}
	}
	if (!done)
		put_exports(&out, NULL, 0, 0, (uint32_t)nglobals);
	if (r.bad || out.bad) {
		free(out.p);
		return NULL;
	}
	*out_len = out.n;
	return out.p;
}

/* ---- random modules ---- */

/* Not reference types: binaryen 108 then makes funcref a subtype of
 * externref and types values as (ref N), which wasm 2.0 refuses. */
static const char *const ttf_flags[] = {
    "--enable-sign-ext", "--enable-mutable-globals", "--enable-nontrapping-float-to-int",
    "--enable-simd",     "--enable-bulk-memory",     "--enable-multivalue",
};
#define NFLAGS (sizeof(ttf_flags) / sizeof(ttf_flags[0]))

void wasmdiff_generate_cmd(uint64_t seed, const char *in, const char *out, char *buf, size_t len)
{
	size_t at = (size_t)snprintf(buf, len, "wasm-opt -ttf '%s' -o '%s'", in, out);
	for (size_t i = 0; i < NFLAGS && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, " %s", ttf_flags[i]);
	if (seed & 1 && at < len)
		snprintf(buf + at, len - at, " --denan");
}

static int write_seed_bytes(uint64_t seed, const char *path)
{
	uint8_t bytes[TTF_BYTES];
	uint64_t s = seed * 0x2545f4914f6cdd1dull + 1;
	for (size_t i = 0; i < sizeof(bytes); i += 8) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		memcpy(bytes + i, &s, 8);
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(bytes, 1, sizeof(bytes), f);
	return fclose(f) == 0 && w == sizeof(bytes) ? 0 : -1;
}

static int run_wasm_opt(uint64_t seed, const char *in, const char *out)
{
	const char *argv[5 + NFLAGS + 2];
	size_t n = 0;
	argv[n++] = "wasm-opt";
	argv[n++] = "-ttf";
	argv[n++] = in;
	argv[n++] = "-o";
	argv[n++] = out;
	for (size_t i = 0; i < NFLAGS; i++)
		argv[n++] = ttf_flags[i];
	if (seed & 1)
		argv[n++] = "--denan";
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execvp("wasm-opt", (char *const *)argv);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int wasmdiff_generate(uint64_t seed, const char *work_dir, uint8_t **out, size_t *out_len,
                      struct err *e)
{
	char in[4096], mod[4096];
	snprintf(in, sizeof(in), "%s/ttf-%" PRIu64 ".dat", work_dir, seed);
	snprintf(mod, sizeof(mod), "%s/ttf-%" PRIu64 ".wasm", work_dir, seed);
	if (write_seed_bytes(seed, in))
		return err_sys(e, "writing %s", in);
	int st = run_wasm_opt(seed, in, mod);
	unlink(in);
	if (st == 127)
		return err_set(e, ERR_SYSTEM, "wasm-opt (package binaryen) is not installed");
	if (st)
		return err_set(e, ERR_SYSTEM, "wasm-opt -ttf failed for seed %" PRIu64, seed);
	size_t n = 0;
	char *data = file_read(mod, 256u << 20, &n, e);
	unlink(mod);
	if (!data)
		return -1;
	*out = (uint8_t *)data;
	*out_len = n;
	return 0;
}
