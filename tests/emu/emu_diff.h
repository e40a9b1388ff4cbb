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

#endif
