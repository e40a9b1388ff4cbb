/* SPDX-License-Identifier: Apache-2.0 */
/* test=cpuid: the CPUID the VMM gives this vCPU, for the host test to check
 * feature edits (--cpu-features), APIC IDs and topology. Few instructions at
 * CPL0: one cpuid per line. */
#include "guest.h"

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
	                 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
	                 : "a"(leaf), "c"(sub));
}

void test_cpuid(void)
{
	uint32_t r[4];
	cpuid(0, 0, r);
	uint32_t max = r[0];
	cpuid(0x80000000, 0, r);
	uint32_t xmax = r[0];
	static const uint32_t leaves[][2] = {
	    {1, 0}, {7, 0}, {0xb, 0}, {0xb, 1}, {0x80000001, 0}, {0x80000008, 0}, {0x40000001, 0},
	};
	for (unsigned i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		uint32_t l = leaves[i][0];
		if ((l < 0x40000000 && l > max) || (l >= 0x80000000 && l > xmax))
			continue;
		cpuid(l, leaves[i][1], r);
		gprintf("cpuid 0x%x.%u: eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x\n", l,
		        leaves[i][1], r[0], r[1], r[2], r[3]);
	}
	guest_exit(0);
}
