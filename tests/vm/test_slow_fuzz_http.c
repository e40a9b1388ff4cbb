/* SPDX-License-Identifier: Apache-2.0 */
/* Runs the control API fuzzer (fuzz/vm/fuzz_http.c: HTTP request parsing and
 * routing) for a fixed budget; any crash, sanitizer report, leak, timeout or
 * error answer without a fault message fails the test. */
#include "common/fuzzrun.h"

static void api_survives_fuzzing(void **state)
{
	(void)state;
	fuzz_for_budget("control API", "build/fuzz/vm_http_fuzz", "fuzz/vm/run_http.sh",
	                "CAPSA_VM_FUZZ_SECS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(api_survives_fuzzing)};
	return cmocka_run_group_tests_name("vm control API fuzzing", tests, NULL, NULL);
}
