/* Runs the libFuzzer target fuzz/wasm/fuzz_module.c (decode, validate,
 * instantiate, call exports) for a short fixed budget; any crash,
 * sanitizer report, leak or timeout fails the test. */
#include "common/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_fuzz_budget(void **state)
{
	(void)state;
	char fuzzer[4096], script[4096];
	snprintf(fuzzer, sizeof(fuzzer), "%s/build/fuzz/wasm_fuzz", test_root());
	snprintf(script, sizeof(script), "%s/fuzz/wasm/run.sh", test_root());
	if (access(fuzzer, X_OK))
		skip_because("%s not built (needs clang with libFuzzer: make build/fuzz/wasm_fuzz)",
		             fuzzer);
	const char *secs = getenv("CAPSA_WASM_FUZZ_SECS");
	char *argv[] = {script, (char *)(secs ? secs : "30"), NULL};
	struct run_result r;
	run_cmd(&r, argv, 300);
	const char *runs = strstr(r.err, "stat::number_of_executed_units:");
	if (r.status != 0)
		printf("# fuzzer output (tail): %s\n",
		       strlen(r.err) > 3000 ? r.err + strlen(r.err) - 3000 : r.err);
	assert_int_equal(r.status, 0);
	assert_non_null(runs);
	test_measured("wasm fuzzer: %ld executions without a finding",
	              strtol(runs + strlen("stat::number_of_executed_units:"), NULL, 10));
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_fuzz_budget)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
