/* SPDX-License-Identifier: Apache-2.0 */
/* Runs the software CPU's fuzz target (fuzz/emu: random bytes as CPL 0
 * long-mode code) for a fixed budget; any crash, sanitizer report, leak,
 * timeout or run without an exit reason fails the test. */
#include "common/fuzzrun.h"

static void cpu_survives_fuzzing(void **state)
{
	(void)state;
	fuzz_for_budget("emu-cpu", "build/fuzz/emu_cpu_fuzz", "fuzz/emu/run.sh",
	                "CAPSA_EMU_FUZZ_SECS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(cpu_survives_fuzzing)};
	return cmocka_run_group_tests_name("emu cpu fuzzing", tests, NULL, NULL);
}
