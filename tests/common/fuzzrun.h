/* SPDX-License-Identifier: Apache-2.0 */
/* Run one of the project's libFuzzer targets for a fixed budget from a test:
 * any crash, sanitizer report, leak or timeout fails the test. */
#ifndef CAPSA_TESTS_FUZZRUN_H
#define CAPSA_TESTS_FUZZRUN_H

#include "common/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* fuzzer and script are paths below the repository root; the budget in
 * seconds comes from the environment variable secs_env (default 30). */
static inline void fuzz_for_budget(const char *what, const char *fuzzer_rel, const char *script_rel,
                                   const char *secs_env)
{
	char fuzzer[4096], script[4096];
	snprintf(fuzzer, sizeof(fuzzer), "%s/%s", test_root(), fuzzer_rel);
	snprintf(script, sizeof(script), "%s/%s", test_root(), script_rel);
	if (access(fuzzer, X_OK))
		skip_because("%s not built (needs clang with libFuzzer: make %s)", fuzzer,
		             fuzzer_rel);
	const char *secs = getenv(secs_env);
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
	test_measured("%s fuzzer: %ld executions without a finding", what, n);
	run_result_free(&r);
}

#endif
