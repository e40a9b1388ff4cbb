/* SPDX-License-Identifier: Apache-2.0 */
/* wasm_diff: differential fuzzing of capsa's wasm engines.
 *
 *   wasm_diff [--seed S] [--count N | --seconds T] [--keep DIR] [--dump] [FILE.wasm...]
 *
 * Makes random modules with binaryen (`wasm-opt -ttf`, seeds S, S+1, ...) or
 * takes the given files, and runs each under every pair of configurations
 * this host offers: the interpreter with guard regions against the
 * interpreter with explicit bounds checks, and, where the JIT is available,
 * the JIT (with and without guard regions) against the interpreter. A
 * difference prints the seed, the pair and the first differing event, keeps
 * the module in DIR and prints the command that reproduces it. The last line
 * counts modules, comparisons and mismatches; the status is 1 on any
 * mismatch. --dump prints every event the reference configuration
 * recorded. Built without sanitizers so that memories get guard regions. */
#include "engines.h"
#include "wasmdiff.h"

#include "lib/file.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct opts {
	uint64_t seed, count;
	double seconds;
	const char *keep, *self;
	char **files;
	int nfiles, dump;
};

struct tally {
	uint64_t modules, invalid, compared, mismatches;
};

static const struct wasmdiff_config configs[] = {
    {.engine = CAPSA_WASM_ENGINE_INTERP, .no_guard = 0},
    {.engine = CAPSA_WASM_ENGINE_INTERP, .no_guard = 1},
    {.engine = CAPSA_WASM_ENGINE_JIT, .no_guard = 0},
    {.engine = CAPSA_WASM_ENGINE_JIT, .no_guard = 1},
};
/* Pairs (index into configs): the first of each is the reference, the
 * interpreter with explicit bounds checks, whose fuel count is exact. */
static const int pairs[][2] = {{1, 0}, {1, 2}, {1, 3}};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void keep_module(const struct opts *o, uint64_t seed, const uint8_t *wasm, size_t len,
                        const char *file)
{
	char path[4096];
	if (!o->keep) {
		if (file)
			printf("  reproduce: %s --seed %" PRIu64 " '%s'\n", o->self, seed, file);
		else
			printf("  reproduce: %s --seed %" PRIu64 " --count 1\n", o->self, seed);
		return;
	}
	mkdir(o->keep, 0755);
	snprintf(path, sizeof(path), "%s/seed-%" PRIu64 ".wasm", o->keep, seed);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(wasm, 1, len, f) != len) {
		fprintf(stderr, "wasm_diff: writing %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	printf("  kept %s\n  reproduce: %s --seed %" PRIu64 " '%s'\n", path, o->self, seed, path);
}

/* Runs one module under every available configuration and compares. */
static void diff_module(const struct opts *o, struct tally *t, uint64_t seed, const uint8_t *wasm,
                        size_t len, const char *file)
{
	struct wasmdiff_record rec[4];
	int ran[4] = {0};
	struct err e = {0};
	t->modules++;
	static const int order[4] = {1, 0, 2, 3}; /* the reference first */
	for (int k = 0; k < 4; k++) {
		int i = order[k];
		if (!capsa_wasm_engine_available(configs[i].engine))
			continue;
		if (wasmdiff_run(wasm, len, &configs[i], seed, &rec[i], &e)) {
			if (i == 1) {
				t->invalid++;
				printf("seed %" PRIu64 ": not run: %s\n", seed, e.msg);
				return;
			}
			/* Loads under one engine and not under another: a finding. */
			memset(&rec[i], 0, sizeof(rec[i]));
			rec[i].failed = 1;
		}
		ran[i] = 1;
	}
	if (o->dump)
		wasmdiff_dump(stdout, &rec[1]);
	int bad = 0;
	for (size_t p = 0; p < sizeof(pairs) / sizeof(pairs[0]); p++) {
		int a = pairs[p][0], b = pairs[p][1];
		if (!ran[a] || !ran[b])
			continue;
		char msg[1024];
		t->compared++;
		if (wasmdiff_compare(&rec[a], &rec[b], msg, sizeof(msg))) {
			t->mismatches++;
			bad = 1;
			printf("MISMATCH seed %" PRIu64 " %s vs %s: %s\n", seed,
			       wasmdiff_config_name(&configs[a]), wasmdiff_config_name(&configs[b]),
			       msg);
		}
	}
	if (bad)
		keep_module(o, seed, wasm, len, file);
	for (int i = 0; i < 4; i++)
		if (ran[i])
			wasmdiff_record_free(&rec[i]);
}

/* Exports the module's globals (when it can) and diffs it. */
static void diff_bytes(const struct opts *o, struct tally *t, uint64_t seed, const uint8_t *wasm,
                       size_t len, const char *file)
{
	size_t xlen = 0;
	uint8_t *x = wasmdiff_export_globals(wasm, len, &xlen);
	if (x)
		diff_module(o, t, seed, x, xlen, file);
	else
		diff_module(o, t, seed, wasm, len, file);
	free(x);
}

static int run_files(const struct opts *o, struct tally *t)
{
	for (int i = 0; i < o->nfiles; i++) {
		struct err e = {0};
		size_t len = 0;
		char *data = file_read(o->files[i], 256u << 20, &len, &e);
		if (!data) {
			fprintf(stderr, "wasm_diff: %s\n", e.msg);
			return 2;
		}
		diff_bytes(o, t, o->seed, (uint8_t *)data, len, o->files[i]);
		free(data);
	}
	return 0;
}

static int run_generated(const struct opts *o, struct tally *t)
{
	char dir[] = "/tmp/capsa-wasm-diff-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("wasm_diff: mkdtemp");
		return 2;
	}
	double end = now() + o->seconds;
	int rc = 0;
	for (uint64_t i = 0; o->seconds > 0 ? now() < end : i < o->count; i++) {
		uint64_t seed = o->seed + i;
		uint8_t *wasm = NULL;
		size_t len = 0;
		struct err e = {0};
		if (wasmdiff_generate(seed, dir, &wasm, &len, &e)) {
			fprintf(stderr, "wasm_diff: %s\n", e.msg);
			rc = 2;
			break;
		}
		diff_bytes(o, t, seed, wasm, len, NULL);
		free(wasm);
		fflush(stdout);
	}
	rmdir(dir);
	return rc;
}

static int parse(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end = NULL;
		if (!strcmp(a, "--seed") && i + 1 < argc) {
			o->seed = strtoull(argv[++i], &end, 0);
		} else if (!strcmp(a, "--count") && i + 1 < argc) {
			o->count = strtoull(argv[++i], &end, 0);
		} else if (!strcmp(a, "--seconds") && i + 1 < argc) {
			o->seconds = strtod(argv[++i], &end);
		} else if (!strcmp(a, "--keep") && i + 1 < argc) {
			o->keep = argv[++i];
			continue;
		} else if (!strcmp(a, "--dump")) {
			o->dump = 1;
			continue;
		} else if (a[0] == '-') {
			fprintf(stderr, "wasm_diff: unknown option %s\n", a);
			return -1;
		} else {
			o->files = argv + i;
			o->nfiles = argc - i;
			return 0;
		}
		if (!end || *end || end == argv[i]) {
			fprintf(stderr, "wasm_diff: %s %s: expected a number\n", a, argv[i]);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.seed = 1, .count = 200, .self = argv[0]};
	if (parse(argc, argv, &o))
		return 2;
	const char *nojit = wasm_jit_missing();
	if (nojit)
		printf("note: %s; comparing the interpreter with guard regions against explicit "
		       "bounds checks only\n",
		       nojit);
	struct tally t = {0};
	double start = now();
	int rc = o.nfiles ? run_files(&o, &t) : run_generated(&o, &t);
	printf("wasm_diff: %" PRIu64 " modules (%" PRIu64 " not run), %" PRIu64
	       " comparisons, %" PRIu64 " mismatches in %.1f s\n",
	       t.modules, t.invalid, t.compared, t.mismatches, now() - start);
	if (rc)
		return rc;
	return t.mismatches ? 1 : 0;
}
