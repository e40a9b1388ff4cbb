/* SPDX-License-Identifier: Apache-2.0 */
/* Float helpers with wasm's semantics (NaN propagation, signed zeros,
 * saturating truncation), shared by the interpreter and the compiled
 * code's runtime. */
#ifndef CAPSA_WASM_NUMERIC_H
#define CAPSA_WASM_NUMERIC_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float f32_from(uint32_t b)
{
	float f;
	memcpy(&f, &b, 4);
	return f;
}
static inline uint32_t f32_bits(float f)
{
	uint32_t b;
	memcpy(&b, &f, 4);
	return b;
}
static inline double f64_from(uint64_t b)
{
	double f;
	memcpy(&f, &b, 8);
	return f;
}
static inline uint64_t f64_bits(double f)
{
	uint64_t b;
	memcpy(&b, &f, 8);
	return b;
}
static inline float f32_abs(float a)
{
	return f32_from(f32_bits(a) & 0x7fffffffu);
}
static inline float f32_neg(float a)
{
	return f32_from(f32_bits(a) ^ 0x80000000u);
}
static inline float f32_copysign(float a, float b)
{
	return f32_from((f32_bits(a) & 0x7fffffffu) | (f32_bits(b) & 0x80000000u));
}
static inline double f64_abs(double a)
{
	return f64_from(f64_bits(a) & 0x7fffffffffffffffull);
}
static inline double f64_neg(double a)
{
	return f64_from(f64_bits(a) ^ 0x8000000000000000ull);
}
static inline double f64_copysign(double a, double b)
{
	return f64_from((f64_bits(a) & 0x7fffffffffffffffull) |
	                (f64_bits(b) & 0x8000000000000000ull));
}
/* r = a OP b as x86's SSE gives it when an operand is a NaN: the first
 * NaN operand, quieted (C may evaluate a commutative operation with its
 * operands swapped). Either NaN is allowed by the specification; the
 * interpreter and the compiled code give the same one. */
static inline float f32_nan_first(float a, float b, float r)
{
	return a != a ? a + a : b != b ? b + b : r;
}
static inline double f64_nan_first(double a, double b, double r)
{
	return a != a ? a + a : b != b ? b + b : r;
}
static inline float f32_min(float a, float b)
{
	if (a != a || b != b)
		return a != a ? a + a : b + b; /* the first NaN, quieted */
	if (a == 0 && b == 0)
		return signbit(a) ? a : b;
	return a < b ? a : b;
}
static inline float f32_max(float a, float b)
{
	if (a != a || b != b)
		return a != a ? a + a : b + b; /* the first NaN, quieted */
	if (a == 0 && b == 0)
		return signbit(a) ? b : a;
	return a > b ? a : b;
}
static inline double f64_min(double a, double b)
{
	if (a != a || b != b)
		return a != a ? a + a : b + b; /* the first NaN, quieted */
	if (a == 0 && b == 0)
		return signbit(a) ? a : b;
	return a < b ? a : b;
}
static inline double f64_max(double a, double b)
{
	if (a != a || b != b)
		return a != a ? a + a : b + b; /* the first NaN, quieted */
	if (a == 0 && b == 0)
		return signbit(a) ? b : a;
	return a > b ? a : b;
}
static inline float f32_ceil(float a)
{
	return a != a ? a + a : ceilf(a);
}
static inline float f32_floor(float a)
{
	return a != a ? a + a : floorf(a);
}
static inline float f32_trunc(float a)
{
	return a != a ? a + a : truncf(a);
}
static inline float f32_nearest(float a)
{
	return a != a ? a + a : nearbyintf(a);
}
static inline double f64_ceil(double a)
{
	return a != a ? a + a : ceil(a);
}
static inline double f64_floor(double a)
{
	return a != a ? a + a : floor(a);
}
static inline double f64_trunc(double a)
{
	return a != a ? a + a : trunc(a);
}
static inline double f64_nearest(double a)
{
	return a != a ? a + a : nearbyint(a);
}
static inline uint32_t sat_i32_s(double a)
{
	if (a != a)
		return 0;
	if (a <= -2147483648.0)
		return 0x80000000u;
	if (a >= 2147483647.0)
		return 0x7fffffffu;
	return (uint32_t)(int32_t)a;
}
static inline uint32_t sat_i32_u(double a)
{
	if (a != a || a <= 0)
		return 0;
	if (a >= 4294967295.0)
		return 0xffffffffu;
	return (uint32_t)a;
}
static inline uint64_t sat_i64_s(double a)
{
	if (a != a)
		return 0;
	if (a <= -9223372036854775808.0)
		return 0x8000000000000000ull;
	if (a >= 9223372036854775808.0)
		return 0x7fffffffffffffffull;
	return (uint64_t)(int64_t)a;
}
static inline uint64_t sat_i64_u(double a)
{
	if (a != a || a <= 0)
		return 0;
	if (a >= 18446744073709551616.0)
		return ~0ull;
	return (uint64_t)a;
}

#endif
