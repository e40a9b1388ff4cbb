/* SPDX-License-Identifier: Apache-2.0 */
/* The CPU model the software CPU presents: an Intel family-6 processor
 * with exactly the features implemented here (no XSAVE/AVX, PCID, SMEP/
 * SMAP, LA57, x2APIC, RDRAND, POPCNT), the TSC frequency in leaves
 * 0x15/0x16 (Linux reads them only for GenuineIntel), an invariant TSC,
 * the hypervisor bit and IA32_ARCH_CAPABILITIES. */
#include "vm/emu/internal.h"

#define ADD(f, i, fl, a, b, cc, d)                                                                 \
	do {                                                                                       \
		if (n < cap)                                                                       \
			out[n] = (struct cpuid_entry){.function = (f),                             \
			                              .index = (i),                                \
			                              .flags = (fl),                               \
			                              .eax = (a),                                  \
			                              .ebx = (b),                                  \
			                              .ecx = (cc),                                 \
			                              .edx = (d)};                                 \
		n++;                                                                               \
	} while (0)

/* leaf 1 EDX: FPU PSE TSC MSR PAE CX8 APIC SEP PGE CMOV PAT CLFSH MMX FXSR SSE SSE2 */
#define L1_EDX                                                                                     \
	((1u << 0) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) | (1u << 9) |       \
	 (1u << 11) | (1u << 13) | (1u << 15) | (1u << 16) | (1u << 19) | (1u << 23) |             \
	 (1u << 24) | (1u << 25) | (1u << 26))
/* leaf 1 ECX: SSE3, SSSE3, CX16, SSE4.1, SSE4.2, TSC-deadline, hypervisor */
#define L1_ECX                                                                                     \
	((1u << 0) | (1u << 9) | (1u << 13) | (1u << 19) | (1u << 20) | (1u << 24) | (1u << 31))
/* 0x80000001 EDX: SYSCALL NX RDTSCP LM; ECX: LAHF/SAHF */
#define X1_EDX ((1u << 11) | (1u << 20) | (1u << 27) | (1u << 29))
#define X1_ECX (1u << 0)

static uint32_t str4(const char *s)
{
	return (uint32_t)(uint8_t)s[0] | (uint32_t)(uint8_t)s[1] << 8 |
	       (uint32_t)(uint8_t)s[2] << 16 | (uint32_t)(uint8_t)s[3] << 24;
}

size_t emu_cpuid_model(struct cpuid_entry *out, size_t cap, uint64_t tsc_khz)
{
	size_t n = 0;
	/* family 6, model 0x55, stepping 4 */
	uint32_t sig = (0x5u << 16) | (6u << 8) | (5u << 4) | 4u;
	ADD(0, 0, 0, 0x16, str4("Genu"), str4("ntel"), str4("ineI"));
	ADD(1, 0, 0, sig, (1u << 16) | (8u << 8), L1_ECX, L1_EDX);
	/* 0xB: x2APIC topology, filled in per vCPU by cpuid_customize */
	ADD(0xb, 0, 1, 0, 0, 0, 0);
	/* 7.0: only ARCH_CAPABILITIES (EDX 29), whose MSR says this CPU has
	 * none of the speculation bugs (nothing here speculates), so the guest
	 * needs no page-table isolation or buffer clearing */
	ADD(7, 0, 1, 0, 0, 0, 1u << 29);
	/* 0x15: TSC = crystal (ECX, Hz) * EBX / EAX */
	uint64_t hz = tsc_khz * 1000;
	ADD(0x15, 0, 0, 1, 1, (uint32_t)(hz > 0xffffffffu ? 0 : hz), 0);
	ADD(0x16, 0, 0, (uint32_t)(tsc_khz / 1000), (uint32_t)(tsc_khz / 1000), 100, 0);
	ADD(0x80000000u, 0, 0, 0x80000008u, 0, 0, 0);
	ADD(0x80000001u, 0, 0, 0, 0, X1_ECX, X1_EDX);
	static const char brand[49] = "capsa emulated x86-64 CPU                       ";
	for (uint32_t k = 0; k < 3; k++) {
		const char *p = brand + 16 * k;
		ADD(0x80000002u + k, 0, 0, str4(p), str4(p + 4), str4(p + 8), str4(p + 12));
	}
	ADD(0x80000007u, 0, 0, 0, 0, 0, 1u << 8);
	ADD(0x80000008u, 0, 0, 0x3028, 0, 0, 0);
	return n < cap ? n : cap;
}
