/* SPDX-License-Identifier: Apache-2.0 */
/* Runs the libFuzzer target fuzz/wasm/fuzz_module.c (decode, validate,
 * instantiate, call exports) for a short fixed budget; any crash,
 * sanitizer report, leak or timeout fails the test. */
#include "common/fuzzrun.h"

static void test_fuzz_budget(void **state)
{
	(void)state;
	fuzz_for_budget("wasm", "build/fuzz/wasm_fuzz", "fuzz/wasm/run.sh", "CAPSA_WASM_FUZZ_SECS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_fuzz_budget)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
