/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The deterministic integer workload of `test=cpl3` (xorshift64 mixed with a multiply
 * and a rotate). Freestanding and SSE-free so that a host program compiled with the
 * test guest's flags (-O2 -mno-sse -mno-mmx -mno-avx -mno-red-zone -ffreestanding)
 * runs exactly the same loop natively and gets the same result.
 */
#ifndef CAPSA_GUEST_WORKLOAD_H
#define CAPSA_GUEST_WORKLOAD_H

#include <stdint.h>

static inline uint64_t workload_run(uint64_t iters)
{
	uint64_t x = 0x9e3779b97f4a7c15ull, acc = 0;
	for (uint64_t i = 0; i < iters; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		acc += x * 0x2545f4914f6cdd1dull;
		acc = (acc << 5) | (acc >> 59);
		/* Keep the compiler from collapsing or vectorising the loop. */
		__asm__ volatile("" : "+r"(x), "+r"(acc));
	}
	return acc ^ x;
}

#endif
