/* SPDX-License-Identifier: Apache-2.0 */
/* Differential testing of the wasm engines (wasmdiff.h): the comparator
 * catches each kind of difference and accepts only NaN freedom; runs are
 * deterministic; a fixed set of 200 random modules from binaryen's wasm-opt
 * gives the same results, traps, fuel, host-call log, memory and globals
 * under the JIT as under the interpreter (in this sanitized process: memories
 * without guard regions), and, through build/wasm/wasm_diff, with guard
 * regions as with explicit bounds checks. */
#include "common/testutil.h"
#include "wasm/engines.h"
#include "wasm/wasmdiff.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUDGET_MODULES 200

static char *tmp;

static int setup(void **state)
{
	(void)state;
	tmp = test_tmpdir();
	return tmp ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return test_tmpdir_remove(tmp);
}

/* A module from wasm-opt -ttf with its globals exported. */
static uint8_t *module(uint64_t seed, size_t *len)
{
	uint8_t *raw = NULL;
	size_t rlen = 0;
	struct err e = {0};
	if (wasmdiff_generate(seed, tmp, &raw, &rlen, &e)) {
		if (strstr(e.msg, "not installed"))
			skip_because("%s", e.msg);
		fail_msg("%s", e.msg);
	}
	uint8_t *x = wasmdiff_export_globals(raw, rlen, len);
	assert_non_null(x);
	free(raw);
	return x;
}

static const struct wasmdiff_config interp = {.engine = CAPSA_WASM_ENGINE_INTERP};
static const struct wasmdiff_config jit = {.engine = CAPSA_WASM_ENGINE_JIT};

static int differs(const struct wasmdiff_record *a, const struct wasmdiff_record *b)
{
	char msg[1024];
	int d = wasmdiff_compare(a, b, msg, sizeof(msg));
	if (d)
		printf("# found: %s\n", msg);
	return d;
}

/* A hand-made record with one event of each kind. */
static void sample(struct wasmdiff_record *r)
{
	static const struct wasmdiff_event ev[] = {
	    {.kind = WASMDIFF_INSTANCE, .n = 1000},
	    {.kind = WASMDIFF_CALL, .a = 0, .n = 0},
	    {.kind = WASMDIFF_LOG, .type = CAPSA_WASM_I64, .a = 1, .v = {0x123456789}},
	    {.kind = WASMDIFF_RESULT, .type = CAPSA_WASM_F32, .v = {0x3f800000}},
	    {.kind = WASMDIFF_RESULT, .type = CAPSA_WASM_V128, .a = 1, .v = {1, 2}},
	    {.kind = WASMDIFF_FUEL, .n = 990},
	    {.kind = WASMDIFF_CALL, .a = 0, .n = 1},
	    {.kind = WASMDIFF_TRAP, .a = CAPSA_WASM_TRAP_MEMORY_OOB, .n = 3, .v = {77}},
	    {.kind = WASMDIFF_FUEL, .n = 980},
	    {.kind = WASMDIFF_GLOBAL, .type = CAPSA_WASM_F64, .a = 2, .v = {0x4000000000000000}},
	    {.kind = WASMDIFF_MEMORY, .a = 3, .n = 4, .v = {0, 4}},
	};
	static char *names[] = {"f", "g", "h", "memory"};
	memset(r, 0, sizeof(*r));
	r->n = r->cap = sizeof(ev) / sizeof(ev[0]);
	r->ev = malloc(sizeof(ev));
	memcpy(r->ev, ev, sizeof(ev));
	r->mem = malloc(sizeof(*r->mem));
	r->mem[0] = malloc(4);
	memcpy(r->mem[0], "\1\2\3\4", 4);
	r->nmem = 1;
	r->names = names;
	r->nnames = 4;
}

static void sample_free(struct wasmdiff_record *r)
{
	r->names = NULL;
	r->nnames = 0;
	wasmdiff_record_free(r);
}

/* Every field a run records is compared: changing any one is caught. */
static void test_comparator_catches(void **state)
{
	(void)state;
	struct wasmdiff_record a, b;
	sample(&a);
	sample(&b);
	assert_false(differs(&a, &b));
	struct {
		size_t at;
		int field; /* 0: a, 1: n, 2: v[0], 3: v[1], 4: type, 5: kind */
	} edits[] = {{0, 1}, {1, 0}, {2, 0}, {2, 2}, {3, 2}, {3, 4}, {4, 2},  {4, 3}, {5, 1},
	             {6, 1}, {7, 0}, {7, 1}, {7, 2}, {8, 1}, {9, 2}, {10, 1}, {5, 5}};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		struct wasmdiff_event keep = b.ev[edits[i].at], *e = &b.ev[edits[i].at];
		switch (edits[i].field) {
		case 0:
			e->a ^= 1;
			break;
		case 1:
			e->n ^= 1;
			break;
		case 2:
			e->v[0] ^= 1;
			break;
		case 3:
			e->v[1] ^= 0x100;
			break;
		case 4:
			e->type = CAPSA_WASM_I32;
			break;
		default:
			e->kind = WASMDIFF_LOG;
		}
		printf("# edit %zu of event %zu:\n", i, edits[i].at);
		assert_true(differs(&a, &b));
		b.ev[edits[i].at] = keep;
	}
	/* Memory contents, and a record that stops early. */
	b.mem[0][2] ^= 0x40;
	assert_true(differs(&a, &b));
	b.mem[0][2] ^= 0x40;
	b.n--;
	assert_true(differs(&a, &b));
	b.n++;
	assert_false(differs(&a, &b));
	sample_free(&a);
	sample_free(&b);
}

/* NaNs may differ in sign and payload; nothing else may. */
static void test_comparator_nans(void **state)
{
	(void)state;
	struct wasmdiff_record a, b;
	sample(&a);
	sample(&b);
	a.ev[3].v[0] = 0x7fc00000;
	b.ev[3].v[0] = 0xffc00001;
	assert_false(differs(&a, &b));
	b.ev[3].v[0] = 0x7f800000; /* infinity is no NaN */
	assert_true(differs(&a, &b));
	b.ev[3].v[0] = 0x7fc00000;
	/* v128 as f64x2 with NaN lanes, and as f32x4. */
	a.ev[4].v[0] = 0x7ff8000000000000ull;
	b.ev[4].v[0] = 0xfff8000000000001ull;
	assert_false(differs(&a, &b));
	a.ev[4].v[0] = 0x3f8000007fc00000ull;
	b.ev[4].v[0] = 0x3f800000ffc00000ull;
	assert_false(differs(&a, &b));
	b.ev[4].v[0] = 0x3f800001ffc00000ull;
	assert_true(differs(&a, &b));
	b.ev[4].v[0] = a.ev[4].v[0];
	/* An f64 global: NaN against a number. */
	a.ev[9].v[0] = 0x7ff8000000000000ull;
	assert_true(differs(&a, &b));
	b.ev[9].v[0] = 0x7ff0000000000001ull;
	assert_false(differs(&a, &b));
	/* Only these events carry values: a NaN bit pattern elsewhere counts. */
	a.ev[2].type = b.ev[2].type = CAPSA_WASM_I64;
	a.ev[2].v[0] = 0x7ff8000000000000ull;
	b.ev[2].v[0] = 0x7ff8000000000001ull;
	assert_true(differs(&a, &b));
	sample_free(&a);
	sample_free(&b);
}

/* The same module and seed recorded twice in one configuration agree, and
 * the records hold calls, the host-call log, globals and memory. */
static void test_deterministic(void **state)
{
	(void)state;
	size_t kinds[WASMDIFF_LOG_CUT + 1] = {0};
	unsigned changed = 0;
	for (uint64_t seed = 1; seed <= 10; seed++) {
		size_t len;
		uint8_t *wasm = module(seed, &len);
		struct wasmdiff_record r1, r2;
		struct err e = {0};
		assert_int_equal(wasmdiff_run(wasm, len, &interp, seed, &r1, &e), 0);
		assert_int_equal(wasmdiff_run(wasm, len, &interp, seed, &r2, &e), 0);
		assert_false(differs(&r1, &r2));
		for (size_t i = 0; i < r1.n; i++)
			kinds[r1.ev[i].kind]++;
		/* A different argument seed changes what the calls see. */
		struct wasmdiff_record r3;
		assert_int_equal(wasmdiff_run(wasm, len, &interp, seed + 1000, &r3, &e), 0);
		char msg[512];
		changed += (unsigned)wasmdiff_compare(&r1, &r3, msg, sizeof(msg));
		wasmdiff_record_free(&r1);
		wasmdiff_record_free(&r2);
		wasmdiff_record_free(&r3);
		free(wasm);
	}
	test_measured(
	    "10 modules: %zu calls, %zu results, %zu traps, %zu logged host calls and arguments, "
	    "%zu globals, %zu memories",
	    kinds[WASMDIFF_CALL], kinds[WASMDIFF_RESULT], kinds[WASMDIFF_TRAP], kinds[WASMDIFF_LOG],
	    kinds[WASMDIFF_GLOBAL], kinds[WASMDIFF_MEMORY]);
	assert_true(changed > 0);
	assert_true(kinds[WASMDIFF_CALL] > 20);
	assert_true(kinds[WASMDIFF_RESULT] > 0);
	assert_true(kinds[WASMDIFF_TRAP] > 0);
	assert_true(kinds[WASMDIFF_LOG] > 0);
	assert_true(kinds[WASMDIFF_GLOBAL] > 0);
	assert_true(kinds[WASMDIFF_MEMORY] > 0);
}

/* The fixed budget: JIT against interpreter, in process. */
static void test_jit_vs_interp(void **state)
{
	(void)state;
	const char *why = wasm_jit_missing();
	if (why)
		skip_because("%s: JIT against interpreter not compared", why);
	double start = now_secs();
	unsigned bad = 0;
	for (uint64_t seed = 1; seed <= BUDGET_MODULES; seed++) {
		size_t len;
		uint8_t *wasm = module(seed, &len);
		struct wasmdiff_record ri, rj;
		struct err e = {0};
		assert_int_equal(wasmdiff_run(wasm, len, &interp, seed, &ri, &e), 0);
		if (wasmdiff_run(wasm, len, &jit, seed, &rj, &e)) {
			printf("# seed %" PRIu64 ": the JIT refuses the module: %s\n", seed, e.msg);
			bad++;
		} else if (differs(&ri, &rj)) {
			printf("# seed %" PRIu64 " (build/wasm/wasm_diff --seed %" PRIu64
			       " --count 1 reproduces it)\n",
			       seed, seed);
			bad++;
			wasmdiff_record_free(&rj);
		} else {
			wasmdiff_record_free(&rj);
		}
		wasmdiff_record_free(&ri);
		free(wasm);
	}
	test_measured("JIT against interpreter: %d modules, %u mismatches in %.1f s",
	              BUDGET_MODULES, bad, now_secs() - start);
	assert_int_equal(bad, 0);
}

/* The fixed budget through the unsanitized runner: guard regions against
 * explicit bounds checks (and the JIT in both, where available). */
static void test_runner_budget(void **state)
{
	(void)state;
	char bin[4096], cmd[8192];
	snprintf(bin, sizeof(bin), "%s/build/wasm/wasm_diff", test_root());
	if (access(bin, X_OK))
		skip_because("build/wasm/wasm_diff not built (make build/wasm/wasm_diff)");
	if (access("/usr/bin/wasm-opt", X_OK))
		skip_because("wasm-opt (package binaryen) is not installed");
	snprintf(cmd, sizeof(cmd), "exec '%s' --seed 1 --count %d --keep '%s/failures'", bin,
	         BUDGET_MODULES, tmp);
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	struct run_result r;
	run_cmd(&r, argv, 300);
	const char *last = strstr(r.out, "wasm_diff: ");
	if (r.status || !last)
		printf("# %s%s\n", r.out, r.err);
	assert_int_equal(r.status, 0);
	assert_non_null(last);
	unsigned long modules = 0, skipped = 0, compared = 0, mismatches = 1;
	assert_int_equal(sscanf(last,
	                        "wasm_diff: %lu modules (%lu not run), %lu comparisons, %lu "
	                        "mismatches",
	                        &modules, &skipped, &compared, &mismatches),
	                 4);
	test_measured("wasm_diff: %lu modules, %lu comparisons, %lu mismatches in %.1f s", modules,
	              compared, mismatches, r.secs);
	assert_int_equal(modules, BUDGET_MODULES);
	assert_true(skipped < BUDGET_MODULES / 10);
	assert_true(compared >= modules - skipped);
	assert_int_equal(mismatches, 0);
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_comparator_catches), cmocka_unit_test(test_comparator_nans),
	    cmocka_unit_test(test_deterministic),      cmocka_unit_test(test_jit_vs_interp),
	    cmocka_unit_test(test_runner_budget),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
