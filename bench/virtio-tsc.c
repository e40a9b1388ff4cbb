/* SPDX-License-Identifier: Apache-2.0 */
/* Prints the TSC rate in Hz (rdtsc across 300 ms of CLOCK_MONOTONIC). */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

int main(void)
{
	struct timespec a, b, d = {0, 300000000};
	clock_gettime(CLOCK_MONOTONIC, &a);
	uint64_t t0 = __rdtsc();
	nanosleep(&d, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	uint64_t t1 = __rdtsc();
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("%.0f\n", (double)(t1 - t0) / s);
	return 0;
}
