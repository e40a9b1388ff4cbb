/* SPDX-License-Identifier: Apache-2.0 */
/* Runs the libFuzzer targets fuzz/wasm/fuzz_module.c (decode, validate,
 * instantiate, call exports) and fuzz/wasm/fuzz_jit.c (the same through the
 * JIT, compared with the interpreter) for a short fixed budget each; any
 * crash, sanitizer report, leak, timeout or difference fails the test. */
#include "common/fuzzrun.h"

static void test_fuzz_budget(void **state)
{
	(void)state;
	fuzz_for_budget("wasm", "build/fuzz/wasm_fuzz", "fuzz/wasm/run.sh", "CAPSA_WASM_FUZZ_SECS");
}

static void test_fuzz_jit_budget(void **state)
{
	(void)state;
	fuzz_for_budget("wasm jit", "build/fuzz/wasm_jit_fuzz", "fuzz/wasm/run_jit.sh",
	                "CAPSA_WASM_FUZZ_SECS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_fuzz_budget),
	                                   cmocka_unit_test(test_fuzz_jit_budget)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
