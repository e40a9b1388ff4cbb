/* SPDX-License-Identifier: Apache-2.0 */
/* Runtime side of compiled SIMD: which SSE extensions the host has, the
 * portable implementation of every v128 instruction that compiled code
 * calls when the host lacks an extension (or has no short sequence for
 * it), and the stub that calls one while keeping every register. */
#include "wasm/jit/simd.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "wasm/numeric.h"
#include "wasm/simd.h"

static pthread_once_t level_once = PTHREAD_ONCE_INIT;
static int host_level;

static void level_init(void)
{
#if defined(__x86_64__)
	unsigned a, b, c, d;
	if (__get_cpuid(1, &a, &b, &c, &d))
		host_level = (c & bit_SSE4_1) && (c & bit_SSSE3) ? JS_SSE41
		             : (c & bit_SSSE3)                   ? JS_SSSE3
		                                                 : JS_SSE2;
#endif
}

int jit_simd_level(void)
{
	pthread_once(&level_once, level_init);
	const char *force = getenv("CAPSA_WASM_JIT_SSE2");
	return force && *force && strcmp(force, "0") ? JS_SSE2 : host_level;
}

/* Scratch layout (JS_* offsets in simd.h): operands a, b, c, a scalar s and
 * a lane index L in; the v128 result r at a's place, a scalar res at s's. */
#define EACH(n) for (int i = 0; i < (n); i++)
#define G_FN(n, shape, body)                                                                       \
	static void g_##n(uint8_t *p)                                                              \
	{                                                                                          \
		v128_t a, b, c, r;                                                                 \
		union capsa_wasm_val s, res;                                                       \
		uint32_t L;                                                                        \
		memcpy(&a, p + JS_A, 16);                                                          \
		memcpy(&b, p + JS_B, 16);                                                          \
		memcpy(&c, p + JS_C, 16);                                                          \
		memcpy(&s, p + JS_S, 8);                                                           \
		memcpy(&L, p + JS_L, 4);                                                           \
		L &= 15;                                                                           \
		res.bits = 0;                                                                      \
		if (shape >= SH_REPLACE_I32 && shape <= SH_REPLACE_F64)                            \
			r = a;                                                                     \
		else                                                                               \
			memset(&r, 0, 16);                                                         \
		(void)b;                                                                           \
		(void)c;                                                                           \
		(void)s;                                                                           \
		(void)L;                                                                           \
		body;                                                                              \
		memcpy(p + JS_A, &r, 16);                                                          \
		memcpy(p + JS_S, &res, 8);                                                         \
	}
#define G_SH_BIN(n, shape, body)         G_FN(n, shape, body)
#define G_SH_UN(n, shape, body)          G_FN(n, shape, body)
#define G_SH_TERN(n, shape, body)        G_FN(n, shape, body)
#define G_SH_TEST(n, shape, body)        G_FN(n, shape, body)
#define G_SH_SHIFT(n, shape, body)       G_FN(n, shape, body)
#define G_SH_SPLAT_I32(n, shape, body)   G_FN(n, shape, body)
#define G_SH_SPLAT_I64(n, shape, body)   G_FN(n, shape, body)
#define G_SH_SPLAT_F32(n, shape, body)   G_FN(n, shape, body)
#define G_SH_SPLAT_F64(n, shape, body)   G_FN(n, shape, body)
#define G_SH_EXTRACT_I32(n, shape, body) G_FN(n, shape, body)
#define G_SH_EXTRACT_I64(n, shape, body) G_FN(n, shape, body)
#define G_SH_EXTRACT_F32(n, shape, body) G_FN(n, shape, body)
#define G_SH_EXTRACT_F64(n, shape, body) G_FN(n, shape, body)
#define G_SH_REPLACE_I32(n, shape, body) G_FN(n, shape, body)
#define G_SH_REPLACE_I64(n, shape, body) G_FN(n, shape, body)
#define G_SH_REPLACE_F32(n, shape, body) G_FN(n, shape, body)
#define G_SH_REPLACE_F64(n, shape, body) G_FN(n, shape, body)
#define G_SH_LOAD(n, shape, body)
#define G_SH_STORE(n, shape, body)
#define G_SH_LOAD_LANE(n, shape, body)
#define G_SH_STORE_LANE(n, shape, body)
#define G_SIMD(n, sub, shape, param, body) G_##shape(n, shape, body)
WASM_SIMD_OPS(G_SIMD)

static void g_i8x16_shuffle(uint8_t *p)
{
	v128_t a, b, r;
	memcpy(&a, p + JS_A, 16);
	memcpy(&b, p + JS_B, 16);
	EACH(16)
	{
		uint8_t k = p[JS_LANES + i] & 31;
		r.u8[i] = k < 16 ? a.u8[k] : b.u8[k - 16];
	}
	memcpy(p + JS_A, &r, 16);
}

#define T_FN(n, sub)                       [sub] = g_##n,
#define T_SH_BIN                           T_FN
#define T_SH_UN                            T_FN
#define T_SH_TERN                          T_FN
#define T_SH_TEST                          T_FN
#define T_SH_SHIFT                         T_FN
#define T_SH_SPLAT_I32                     T_FN
#define T_SH_SPLAT_I64                     T_FN
#define T_SH_SPLAT_F32                     T_FN
#define T_SH_SPLAT_F64                     T_FN
#define T_SH_EXTRACT_I32                   T_FN
#define T_SH_EXTRACT_I64                   T_FN
#define T_SH_EXTRACT_F32                   T_FN
#define T_SH_EXTRACT_F64                   T_FN
#define T_SH_REPLACE_I32                   T_FN
#define T_SH_REPLACE_I64                   T_FN
#define T_SH_REPLACE_F32                   T_FN
#define T_SH_REPLACE_F64                   T_FN
#define T_SH_LOAD(n, sub)                  [sub] = NULL,
#define T_SH_STORE(n, sub)                 [sub] = NULL,
#define T_SH_LOAD_LANE(n, sub)             [sub] = NULL,
#define T_SH_STORE_LANE(n, sub)            [sub] = NULL,
#define T_SIMD(n, sub, shape, param, body) T_##shape(n, sub)

static jit_simd_fn *const generic[256] = {WASM_SIMD_OPS(T_SIMD)[13] = g_i8x16_shuffle};

#define S_SIMD(n, sub, shape, param, body) [sub] = (shape) + 1,
static const uint8_t shapes[256] = {WASM_SIMD_OPS(S_SIMD)[12] = SH_CONST + 1, [13] =
                                                                                  SH_SHUFFLE + 1};

jit_simd_fn *jit_simd_generic(uint32_t sub)
{
	return sub < 256 ? generic[sub] : NULL;
}

int jit_simd_shape(uint32_t sub)
{
	return sub < 256 ? shapes[sub] - 1 : -1;
}

/* simd(RAX = function, R11 = scratch): calls RAX(R11) keeping every
 * general and XMM register the compiled code may use. */
uint32_t jit_simd_stub(struct xbuf *b)
{
	static const int volat[] = {RCX, RDX, RSI, RDI, R8, R9, R10, R11};
	uint32_t l = x_label(b);
	x_bind(b, l);
	jit_regs_save(b, volat, 8); /* eight pushes: RSP stays aligned */
	x_mov_rr(b, 1, RDI, R11);
	x_rr(b, 0, 0, 0xff, 2, RAX, 0); /* call rax */
	jit_regs_restore(b, volat, 8);
	x_ret(b);
	return l;
}
