/* SPDX-License-Identifier: Apache-2.0 */
/* Runs the kernel-image loader fuzzer (fuzz/vm) for a fixed budget; any
 * crash, sanitizer report or timeout fails the test. */
#include "common/fuzzrun.h"

static void loaders_survive_fuzzing(void **state)
{
	(void)state;
	fuzz_for_budget("kernel-image", "build/fuzz/vm_kernel_image_fuzz", "fuzz/vm/run.sh",
	                "CAPSA_VM_FUZZ_SECS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(loaders_survive_fuzzing)};
	return cmocka_run_group_tests_name("vm loader fuzzing", tests, NULL, NULL);
}
