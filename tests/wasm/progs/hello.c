/* SPDX-License-Identifier: Apache-2.0 */
/* Test program: prints its arguments and an environment variable, exits
 * with the status given as first argument. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		printf("arg %d: %s\n", i, argv[i]);
	const char *v = getenv("CAPSA_TEST_VAR");
	printf("env: %s\n", v ? v : "(unset)");
	fprintf(stderr, "to stderr\n");
	return argc > 1 ? atoi(argv[1]) : 0;
}
