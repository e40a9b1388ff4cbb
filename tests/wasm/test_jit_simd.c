/* SPDX-License-Identifier: Apache-2.0 */
/* Compiled SIMD against the interpreter: v128 values across direct and
 * indirect calls and through the entry, in globals, if parameters, block
 * results and select; more live v128 values than XMM registers (spills);
 * traps in v128 loads and lane stores named with the interpreter's
 * function and byte offset; and all of it again with the compiler limited
 * to SSE2 (CAPSA_WASM_JIT_SSE2=1), which takes the portable path for what
 * needs SSSE3 or SSE4.1. */
#include "common/testutil.h"
#include "common/wat.h"

#include "capsa/wasm.h"
#include "wasm/jit/jit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NLIVE 24 /* v128 values live at once: more than the XMM registers */

static const char *wat_head =
    "(module\n"
    "  (memory 1)\n"
    "  (global $g (mut v128) (v128.const i32x4 1 2 3 4))\n"
    "  (type $tv (func (param v128 i32) (result v128)))\n"
    "  (table 2 funcref)\n"
    "  (elem (i32.const 0) $addk $mulk)\n"
    "  (func $addk (type $tv) local.get 0 local.get 1 i32x4.splat i32x4.add)\n"
    "  (func $mulk (type $tv) local.get 0 local.get 1 i32x4.splat i32x4.mul)\n"
    "  (func (export \"calls\") (param i32) (result i32) (local v128)\n"
    "    local.get 0 i32x4.splat local.get 0 call $addk\n"
    "    local.get 0 local.get 0 i32.const 1 i32.and call_indirect (type $tv)\n"
    "    local.tee 1 global.get $g i32x4.add global.set $g\n"
    "    local.get 1 i32x4.extract_lane 3 global.get $g i32x4.extract_lane 0 i32.add)\n"
    "  (func (export \"entry\") (param v128 i64) (result i64 v128)\n"
    "    local.get 1 local.get 0 local.get 1 i64x2.splat i64x2.mul)\n"
    "  (func (export \"ifparams\") (param i32) (result i32)\n"
    "    (v128.const i32x4 5 -6 7 8) local.get 0\n"
    "    (if (param v128) (result v128) (then i32x4.neg)\n"
    "      (else (v128.const i32x4 1 1 1 1) i32x4.add))\n"
    "    local.get 0 i32x4.splat local.get 0 select (result v128)\n"
    "    (block (param v128) (result v128) i32x4.abs)\n"
    "    i32x4.extract_lane 1)\n"
    "  (func (export \"locals\") (param i32) (result i32) (local v128)\n"
    "    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)\n"
    "    (local v128)\n"
    "    local.get 0 i32x4.splat local.set 1 local.get 20 i32x4.extract_lane 2\n"
    "    local.get 1 i32x4.extract_lane 3 i32.add local.get 19 i32.wrap_i64 i32.add)\n"
    "  (func (export \"load\") (param i32) (result i32)\n"
    "    local.get 0 v128.load offset=3 i8x16.extract_lane_u 15)\n"
    "  (func (export \"loadlane\") (param i32) (result i32)\n"
    "    local.get 0 (v128.const i64x2 0 0) v128.load32_lane offset=1 3\n"
    "    i32x4.extract_lane 3)\n"
    "  (func (export \"storelane\") (param i32) (result i32)\n"
    "    local.get 0 (v128.const i64x2 -1 -1) v128.store16_lane offset=2 5\n"
    "    local.get 0 i32.load offset=2)\n"
    "  (func (export \"mix\") (param i32) (result i64)\n"
    "    (local v128 v128)\n"
    "    local.get 0 i8x16.splat (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)\n"
    "    i8x16.add_sat_u local.tee 1\n"
    "    local.get 1 i8x16.shuffle 31 0 30 1 29 2 28 3 27 4 26 5 25 6 24 7\n"
    "    (v128.const i8x16 3 1 4 1 5 9 2 6 5 3 5 8 9 7 9 3) i8x16.swizzle\n"
    "    i8x16.popcnt local.get 0 i8x16.shr_s local.tee 2\n"
    "    local.get 2 f32x4.convert_i32x4_u f32x4.neg\n"
    "    (v128.const f32x4 nan -0 0 1e10) f32x4.min\n"
    "    i32x4.trunc_sat_f32x4_u local.get 2 i64x2.mul\n"
    "    local.get 1 i16x8.extmul_high_i8x16_s i64x2.lt_s\n"
    "    local.get 1 i16x8.q15mulr_sat_s i8x16.bitmask i64.extend_i32_u\n"
    "    local.get 2 i64x2.extract_lane 1 i64.xor\n"
    "    local.get 1 local.get 2 i32x4.dot_i16x8_s i64x2.extend_high_i32x4_s\n"
    "    i64x2.extract_lane 0 i64.add)\n"
    /* seven register locals, parameters among them, and a v128 local
     * zeroed after the parameters have reached their registers */
    "  (func $rp (param i32 i32 i32 i32) (result i32) (local i32 i32 i32 v128)\n"
    "    (loop $l\n"
    "      local.get 4 local.get 0 i32.add local.set 4\n"
    "      local.get 5 local.get 1 i32.xor local.set 5\n"
    "      local.get 6 local.get 2 i32.add local.set 6\n"
    "      local.get 3 i32.const 1 i32.sub local.tee 3 br_if $l)\n"
    "    local.get 4 local.get 5 i32.add local.get 6 i32.add\n"
    "    local.get 7 i32x4.extract_lane 0 i32.add)\n"
    "  (func (export \"regparams\") (param i32) (result i32)\n"
    "    local.get 0 i32.const 3 i32.const 5 i32.const 4 call $rp)\n"
    /* two NaN operands: the first one's payload, quieted, in both engines */
    "  (func (export \"nans\") (param i32) (result i64)\n"
    "    (v128.const i64x2 0xfff000ffffffffca 0x7ff0000000000123)\n"
    "    (v128.const i64x2 0xffffffffffac227e 0x7ff8000000000456) f64x2.mul\n"
    "    i64x2.extract_lane 0\n"
    "    (v128.const i32x4 0x7f800001 0xffc00002 0 0)\n"
    "    (v128.const i32x4 0x7fc00003 0x7f800004 0 0) f32x4.sub\n"
    "    i64x2.extract_lane 0 i64.xor)\n";

/* pressure(x): NLIVE different vectors on the stack at once, summed. */
static char *module_text(void)
{
	size_t cap = strlen(wat_head) + 200 * NLIVE + 512, n;
	char *s = malloc(cap);
	assert_non_null(s);
	n = (size_t)snprintf(s, cap, "%s  (func (export \"pressure\") (param i32) (result i32)\n",
	                     wat_head);
	for (int k = 0; k < NLIVE; k++)
		n += (size_t)snprintf(s + n, cap - n,
		                      "    local.get 0 i32x4.splat (v128.const i32x4 %d %d %d %d)"
		                      " i32x4.mul\n",
		                      k, 3 * k + 1, -k, k * k);
	for (int k = 1; k < NLIVE; k++)
		n += (size_t)snprintf(s + n, cap - n, "    i32x4.add\n");
	snprintf(s + n, cap - n, "    i32x4.extract_lane 3))\n");
	return s;
}

struct run {
	enum capsa_wasm_trap trap;
	struct capsa_wasm_trap_info info;
	union capsa_wasm_val cells[4];
};

struct call {
	const char *name;
	union capsa_wasm_val args[3];
};

static const struct call calls[] = {
    {"calls", {{.i32 = 3}}},
    {"calls", {{.i32 = 4}}},
    {"calls", {{.i32 = -7}}}, /* the global accumulates across calls */
    {"entry", {{.bits = 0x0123456789abcdefull}, {.bits = 0xfedcba9876543210ull}, {.i64 = -3}}},
    {"ifparams", {{.i32 = 0}}},
    {"ifparams", {{.i32 = 9}}},
    {"locals", {{.i32 = 77}}}, /* many locals, v128 ones zeroed */
    {"load", {{.i32 = 100}}},
    {"load", {{.i32 = 65520}}}, /* the last byte is out of bounds */
    {"load", {{.i32 = -1}}},
    {"loadlane", {{.i32 = 65531}}},
    {"loadlane", {{.i32 = 65532}}},
    {"storelane", {{.i32 = 64}}},
    {"storelane", {{.i32 = 65533}}},
    {"mix", {{.i32 = 0}}},
    {"mix", {{.i32 = 5}}},
    {"mix", {{.i32 = -3}}},
    {"mix", {{.i32 = 300}}},
    {"pressure", {{.i32 = 7}}},
    {"pressure", {{.i32 = -100000}}},
    {"nans", {{.i32 = 0}}},
    {"regparams", {{.i32 = 7}}},
};
#define NCALLS (sizeof(calls) / sizeof(calls[0]))

/* Runs every call on a new instance of the engine. */
static void run_all(enum capsa_wasm_engine eng, int sse2, struct run *out)
{
	struct err e = {0};
	struct capsa_wasm_limits lim = {.engine = eng};
	char *text = module_text();
	if (sse2)
		setenv("CAPSA_WASM_JIT_SSE2", "1", 1);
	struct capsa_wasm_module *m = test_wat_load(text, &e);
	assert_non_null(m);
	struct capsa_wasm_store *s = capsa_wasm_store_new(&lim, &e);
	assert_non_null(s);
	struct capsa_wasm_instance *in = capsa_wasm_instantiate(s, m, NULL, NULL, NULL, &e);
	unsetenv("CAPSA_WASM_JIT_SSE2");
	assert_non_null(in);
	/* every function compiled */
	assert_int_equal(wasm_jit_uncompiled(in), 0);
	for (size_t i = 0; i < NCALLS; i++) {
		struct capsa_wasm_extern x;
		assert_int_equal(capsa_wasm_instance_export(in, calls[i].name, &x), 0);
		memset(&out[i], 0, sizeof(out[i]));
		memcpy(out[i].cells, calls[i].args, sizeof(calls[i].args));
		out[i].trap = capsa_wasm_call(s, x.u.func, out[i].cells, &out[i].info);
	}
	capsa_wasm_store_free(s);
	capsa_wasm_module_free(m);
	free(text);
}

static void test_same_as_interpreter(void **state)
{
	(void)state;
	if (access("/usr/bin/wat2wasm", X_OK))
		skip_because("wat2wasm (wabt) is missing");
	if (!capsa_wasm_engine_available(CAPSA_WASM_ENGINE_JIT))
		skip_because("no JIT on this host");
	static struct run want[NCALLS], got[NCALLS];
	run_all(CAPSA_WASM_ENGINE_INTERP, 0, want);
	for (int sse2 = 0; sse2 < 2; sse2++) {
		run_all(CAPSA_WASM_ENGINE_JIT, sse2, got);
		for (size_t i = 0; i < NCALLS; i++) {
			if (got[i].trap != want[i].trap ||
			    memcmp(got[i].cells, want[i].cells, sizeof(got[i].cells)))
				printf("# %s #%zu (sse2 %d): trap %d, want %d\n", calls[i].name, i,
				       sse2, got[i].trap, want[i].trap);
			assert_int_equal(got[i].trap, want[i].trap);
			if (!want[i].trap) {
				assert_memory_equal(got[i].cells, want[i].cells,
				                    sizeof(got[i].cells));
				continue;
			}
			/* the faulting v128 access, named as the interpreter names it */
			assert_int_equal(want[i].trap, CAPSA_WASM_TRAP_MEMORY_OOB);
			assert_int_equal(got[i].info.func_index, want[i].info.func_index);
			assert_int_equal(got[i].info.offset, want[i].info.offset);
			assert_true(got[i].info.offset > 0);
		}
	}
	/* the calls that should trap did */
	assert_int_equal(want[8].trap, CAPSA_WASM_TRAP_MEMORY_OOB);
	assert_int_equal(want[11].trap, CAPSA_WASM_TRAP_MEMORY_OOB);
	assert_int_equal(want[13].trap, CAPSA_WASM_TRAP_MEMORY_OOB);
	assert_int_equal(want[10].trap, CAPSA_WASM_OK);
	assert_int_equal(want[6].cells[0].i32, 77);
	/* lane 0 of the f64x2.mul, xor lanes 0 and 1 of the f32x4.sub */
	assert_int_equal(want[NCALLS - 2].cells[0].bits,
	                 0xfff800ffffffffcaull ^ ((uint64_t)0xffc00002u << 32 | 0x7fc00001u));
	assert_int_equal(want[NCALLS - 1].cells[0].i32, 4 * 7 + (3 ^ 3 ^ 3 ^ 3) + 4 * 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_as_interpreter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
