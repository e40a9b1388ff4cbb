/* SPDX-License-Identifier: Apache-2.0 */
/* The guest's time base: a TSC that runs at a fixed, advertised frequency
 * (CPUID leaf 0x15 and `tsc_early_khz`), derived from the host's monotonic
 * clock, identical on every vCPU and unaffected by host CPU migration. The
 * software CPU reads it for RDTSC; the local APIC's timer and the PIT
 * convert their deadlines with it. One per VM, read-only after init except
 * `offset`, which a restore sets so the guest's TSC continues where it was. */
#ifndef CAPSA_DEVICES_X86_CLOCK_H
#define CAPSA_DEVICES_X86_CLOCK_H

#include "lib/clock.h"

#include <stdint.h>

struct x86_clock {
	uint64_t khz;    /* guest TSC frequency */
	int64_t base_ns; /* host CLOCK_MONOTONIC at guest TSC == offset */
	uint64_t offset; /* guest TSC at base_ns */
};

static inline int64_t x86_clock_host_ns(void)
{
	return (int64_t)clock_mono_ns();
}

static inline void x86_clock_init(struct x86_clock *c, uint64_t khz, uint64_t tsc_now)
{
	c->khz = khz;
	c->base_ns = x86_clock_host_ns();
	c->offset = tsc_now;
}

/* Guest TSC at host time `ns` (ns before base_ns give `offset`). */
static inline uint64_t x86_clock_tsc_at(const struct x86_clock *c, int64_t ns)
{
	uint64_t d = ns > c->base_ns ? (uint64_t)(ns - c->base_ns) : 0;
	return c->offset + (uint64_t)((unsigned __int128)d * c->khz / 1000000u);
}

static inline uint64_t x86_clock_tsc(const struct x86_clock *c)
{
	return x86_clock_tsc_at(c, x86_clock_host_ns());
}

/* Host CLOCK_MONOTONIC time at which the guest TSC reaches `tsc`. */
static inline int64_t x86_clock_ns_at(const struct x86_clock *c, uint64_t tsc)
{
	if (tsc <= c->offset)
		return c->base_ns;
	unsigned __int128 d = (unsigned __int128)(tsc - c->offset) * 1000000u / c->khz;
	if (d > (unsigned __int128)INT64_MAX - (uint64_t)c->base_ns)
		return INT64_MAX;
	return c->base_ns + (int64_t)d;
}

#endif
