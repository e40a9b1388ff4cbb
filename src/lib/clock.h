/* SPDX-License-Identifier: Apache-2.0 */
/* The host's monotonic clock, for timers, rate limits and deadlines that a
 * change of the wall clock must not move. */
#ifndef CAPSA_LIB_CLOCK_H
#define CAPSA_LIB_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds (it cannot fail: the clock always exists). */
static inline uint64_t clock_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#endif
