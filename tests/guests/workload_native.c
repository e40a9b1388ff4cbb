/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host twin of test=cpl3: runs workload_run(ITERS) from workload.h natively, built with
 * the test guest's code-generation flags, and prints the same line the guest prints:
 *   cpl3: result=0xR cycles=C
 * Usage: workload-native ITERS (built as build/guests/workload-native).
 */
#include <stdio.h>
#include <stdlib.h>

#include "workload.h"

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

int main(int argc, char **argv)
{
	char *end;
	if (argc != 2 || !*argv[1] || (strtoull(argv[1], &end, 0), *end)) {
		fprintf(stderr, "usage: workload-native ITERS\n");
		return 2;
	}
	uint64_t iters = strtoull(argv[1], NULL, 0);
	uint64_t t0 = rdtsc();
	uint64_t r = workload_run(iters);
	uint64_t t1 = rdtsc();
	printf("cpl3: result=0x%016llx cycles=%llu\n", (unsigned long long)r,
	       (unsigned long long)(t1 - t0));
	return 0;
}
