/* SPDX-License-Identifier: Apache-2.0 */
/* Runs the qcow2 fuzzer (fuzz/disk: open, read, write, zero, discard, flush
 * and close of a hostile image) for a fixed budget; any crash, sanitizer
 * report, leak or timeout fails the test. */
#include "common/fuzzrun.h"

static void qcow2_survives_fuzzing(void **state)
{
	(void)state;
	fuzz_for_budget("qcow2", "build/fuzz/disk_qcow2_fuzz", "fuzz/disk/run.sh",
	                "CAPSA_QCOW2_FUZZ_SECS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(qcow2_survives_fuzzing)};
	return cmocka_run_group_tests_name("qcow2 fuzzing", tests, NULL, NULL);
}
