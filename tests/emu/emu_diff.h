/* SPDX-License-Identifier: Apache-2.0 */
/* Differential checks of single instructions against the host CPU: a
 * test builds a short code sequence around the instruction under test,
 * runs it natively (an executable page, the data block's address in RDI)
 * and in the software CPU (CPL0 long mode, RDI = TM_DATA), and compares
 * the data blocks the two runs wrote. */
#ifndef CAPSA_TESTS_EMU_DIFF_H
#define CAPSA_TESTS_EMU_DIFF_H

#include "emu_harness.h"

#include <stdint.h>
#include <sys/mman.h>

struct dcode {
	uint8_t b[512];
	unsigned n;
};

static inline void dc_put(struct dcode *d, const void *p, unsigned n)
{
	assert_true(d->n + n <= sizeof(d->b));
	memcpy(d->b + d->n, p, n);
	d->n += n;
}
#define DC(d, ...)                                                                                 \
	do {                                                                                       \
		static const uint8_t dc_b_[] = {__VA_ARGS__};                                      \
		dc_put((d), dc_b_, sizeof(dc_b_));                                                 \
	} while (0)

/* An executable page for the native runs, or NULL if the host forbids one. */
static inline uint8_t *dn_page(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
	               -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* Run body (ending in RET) natively with RDI = data. */
static inline void dn_run(uint8_t *page, const struct dcode *body, void *data)
{
	memcpy(page, body->b, body->n);
	__builtin___clear_cache((char *)page, (char *)page + body->n);
	void (*fn)(void *) = (void (*)(void *))(uintptr_t)page;
	fn(data);
}

/* Run body (the native code with its final RET replaced by HLT) in the
 * emulator with RDI = TM_DATA and `len` bytes of data copied in and out. */
static inline struct x86_vcpu_state de_run(struct tmach *t, const struct dcode *body, void *data,
                                           size_t len)
{
	struct dcode g = {.n = 0};
	uint64_t a = TM_DATA;
	DC(&g, 0x48, 0xbf); /* movabs $TM_DATA, %rdi */
	dc_put(&g, &a, 8);
	dc_put(&g, body->b, body->n - 1);
	DC(&g, 0xf4);
	tm_load(t, TM_CODE, g.b, g.b + g.n);
	memcpy(t->ram + TM_DATA, data, len);
	tm_long_mode(t, TM_CODE);
	struct x86_vcpu_state s = tm_run_halt(t);
	memcpy(data, t->ram + TM_DATA, len);
	return s;
}

#define H_BASE (TM_CODE + 0x800)

/* Runs `c` (ending in HLT) at CPL0, RDI = TM_DATA, with handlers for #UD,
 * #NM, #GP, #MF and #XM
 * that put the vector in R15 and halt; R15 is -1 if none ran. */
static inline struct x86_vcpu_state run_exc(struct tmach *t, const struct dcode *c,
                                            uint64_t cr4_clear, uint64_t cr0_set)
{
	static const uint8_t vecs[] = {6, 7, 13, 16, 19};
	tm_load(t, TM_CODE, c->b, c->b + c->n);
	tm_long_mode(t, TM_CODE);
	for (unsigned k = 0; k < sizeof(vecs); k++) {
		/* mov $vec, %r15; hlt */
		uint8_t h[8] = {0x49, 0xc7, 0xc7, vecs[k], 0, 0, 0, 0xf4};
		tm_load(t, H_BASE + 16 * k, h, h + 8);
		tm_gate(t, vecs[k], H_BASE + 16 * k, 0, 0, 0xe);
	}
	struct x86_vcpu_state s = tm_state(t);
	s.cr4 &= ~cr4_clear;
	s.cr0 |= cr0_set;
	s.gpr[X86_R15] = (uint64_t)-1;
	s.gpr[X86_RDI] = TM_DATA;
	struct err e;
	assert_int_equal(emu_cpu_set_state(t->cpu, &s, &e), 0);
	return tm_run_halt(t);
}

/* xorshift64* */
static inline uint64_t dr_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static const uint32_t dr_f32_special[] = {
    0,          0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fa00000,
    0xff812345, 0x00000001, 0x807fffff, 0x00800000, 0x7f7fffff, 0x3f800000, 0xbf800000,
    0x4f000000, 0xcf000000, 0x5f000000, 0xdf000000, 0x3f000000, 0x3fc00000, 0x40200000,
    0xbfc00000, 0x4effffff, 0x00400000, 0x0000ffff, 0x3effffff,
};
static const uint64_t dr_f64_special[] = {
    0,
    0x8000000000000000ULL,
    0x7ff0000000000000ULL,
    0xfff0000000000000ULL,
    0x7ff8000000000000ULL,
    0xfff8000000000000ULL,
    0x7ff4000000000000ULL,
    0xfff0000000012345ULL,
    0x0000000000000001ULL,
    0x800fffffffffffffULL,
    0x0010000000000000ULL,
    0x7fefffffffffffffULL,
    0x3ff0000000000000ULL,
    0xbff0000000000000ULL,
    0x41e0000000000000ULL, /* 2^31 */
    0xc1e0000000000000ULL,
    0x43e0000000000000ULL, /* 2^63 */
    0xc3e0000000000000ULL,
    0x3fe0000000000000ULL,
    0x3ff8000000000000ULL,
    0x4004000000000000ULL,
    0x47efffffe0000000ULL, /* FLT_MAX */
    0x47effffff0000000ULL, /* rounds to FLT_MAX or overflows */
    0x36a0000000000000ULL, /* FLT_MIN / 2^(-126 + ...) tiny */
    0x380fffffffffffffULL,
};

/* a float: special values, random bits or a normal value near 1 */
static inline uint32_t rnd_f32(uint64_t *r)
{
	uint64_t x = dr_next(r);
	switch (x % 4) {
	case 0:
		return dr_f32_special[(x >> 8) % (sizeof(dr_f32_special) / 4)];
	case 1:
		return (uint32_t)(x >> 32);
	default: /* a normal value near 1 (integers, halves for rounding) */
		return (uint32_t)((x >> 63) << 31) | (uint32_t)(118 + (x >> 40) % 40) << 23 |
		       (uint32_t)((x >> 8) & 0x7fffff & ~((x & 0x10) ? 0x7fff : 0));
	}
}
static inline uint64_t rnd_f64(uint64_t *r)
{
	uint64_t x = dr_next(r);
	switch (x % 4) {
	case 0:
		return dr_f64_special[(x >> 8) % (sizeof(dr_f64_special) / 8)];
	case 1:
		return dr_next(r);
	default:
		return (x >> 63) << 63 | (uint64_t)(1000 + (x >> 40) % 80) << 52 |
		       (dr_next(r) & 0xfffffffffffffULL & ~((x & 0x10) ? 0xffffffffULL : 0));
	}
}

#endif
