/* Runs the kernel-image loader fuzzer (fuzz/vm) for a fixed budget; any
 * crash, sanitizer report or timeout fails the test. */
#include "common/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void loaders_survive_fuzzing(void **state)
{
	(void)state;
	char fuzzer[4096], script[4096];
	snprintf(fuzzer, sizeof(fuzzer), "%s/build/fuzz/vm_kernel_image_fuzz", test_root());
	snprintf(script, sizeof(script), "%s/fuzz/vm/run.sh", test_root());
	if (access(fuzzer, X_OK))
		skip_because("%s not built (needs clang with libFuzzer)", fuzzer);
	const char *secs = getenv("CAPSA_VM_FUZZ_SECS");
	char *argv[] = {script, (char *)(secs ? secs : "30"), NULL};
	struct run_result r;
	run_cmd(&r, argv, 300);
	if (r.status != 0)
		printf("# fuzzer output (tail): %s\n",
		       strlen(r.err) > 3000 ? r.err + strlen(r.err) - 3000 : r.err);
	assert_int_equal(r.status, 0);
	const char *runs = strstr(r.err, "stat::number_of_executed_units:");
	assert_non_null(runs);
	long n = strtol(runs + strlen("stat::number_of_executed_units:"), NULL, 10);
	assert_true(n > 1000);
	test_measured("kernel-image fuzzer: %ld executions without a finding", n);
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(loaders_survive_fuzzing)};
	return cmocka_run_group_tests_name("vm loader fuzzing", tests, NULL, NULL);
}
