/* SPDX-License-Identifier: Apache-2.0 */
/* The 128-bit SIMD instructions (prefix 0xfd), shared by the compiler
 * (shape: operand/result types and immediates) and the interpreter (body).
 *   X(name, subopcode, shape, param, body)
 * In bodies: a, b, c are the v128 operands, r the result (union v128),
 * s a scalar operand, L a lane immediate, res a scalar result; EACH(n)
 * loops i over n lanes. param: lane count for lane shapes, bytes accessed
 * for memory shapes. */
#ifndef CAPSA_WASM_SIMD_H
#define CAPSA_WASM_SIMD_H

#include <stdint.h>

/* A v128 value's lanes. */
typedef union {
	int8_t i8[16];
	uint8_t u8[16];
	int16_t i16[8];
	uint16_t u16[8];
	int32_t i32[4];
	uint32_t u32[4];
	int64_t i64[2];
	uint64_t u64[2];
	float f32[4];
	double f64[2];
} v128_t;

enum simd_shape {
	SH_BIN,
	SH_UN,
	SH_TERN,
	SH_TEST,
	SH_SHIFT,
	SH_SPLAT_I32,
	SH_SPLAT_I64,
	SH_SPLAT_F32,
	SH_SPLAT_F64,
	SH_EXTRACT_I32,
	SH_EXTRACT_I64,
	SH_EXTRACT_F32,
	SH_EXTRACT_F64,
	SH_REPLACE_I32,
	SH_REPLACE_I64,
	SH_REPLACE_F32,
	SH_REPLACE_F64,
	SH_LOAD,
	SH_STORE,
	SH_LOAD_LANE,
	SH_STORE_LANE,
	SH_CONST,
	SH_SHUFFLE,
};

#define ICMP(T, n, op) EACH(n) r.T[i] = (a.T[i] op b.T[i]) ? -1 : 0
#define SAT(v, lo, hi) ((v) < (lo) ? (lo) : (v) > (hi) ? (hi) : (v))

#define WASM_SIMD_OPS(X)                                                                           \
	X(v128_load, 0, SH_LOAD, 16, memcpy(&r, mp, 16))                                           \
	X(v128_load8x8_s, 1, SH_LOAD, 8, EACH(8) r.i16[i] = (int8_t)mp[i])                         \
	X(v128_load8x8_u, 2, SH_LOAD, 8, EACH(8) r.u16[i] = mp[i])                                 \
	X(v128_load16x4_s, 3, SH_LOAD, 8, {                                                        \
		int16_t t[4];                                                                      \
		memcpy(t, mp, 8);                                                                  \
		EACH(4) r.i32[i] = t[i];                                                           \
	})                                                                                         \
	X(v128_load16x4_u, 4, SH_LOAD, 8, {                                                        \
		uint16_t t[4];                                                                     \
		memcpy(t, mp, 8);                                                                  \
		EACH(4) r.u32[i] = t[i];                                                           \
	})                                                                                         \
	X(v128_load32x2_s, 5, SH_LOAD, 8, {                                                        \
		int32_t t[2];                                                                      \
		memcpy(t, mp, 8);                                                                  \
		EACH(2) r.i64[i] = t[i];                                                           \
	})                                                                                         \
	X(v128_load32x2_u, 6, SH_LOAD, 8, {                                                        \
		uint32_t t[2];                                                                     \
		memcpy(t, mp, 8);                                                                  \
		EACH(2) r.u64[i] = t[i];                                                           \
	})                                                                                         \
	X(v128_load8_splat, 7, SH_LOAD, 1, EACH(16) r.u8[i] = mp[0])                               \
	X(v128_load16_splat, 8, SH_LOAD, 2, {                                                      \
		uint16_t t;                                                                        \
		memcpy(&t, mp, 2);                                                                 \
		EACH(8) r.u16[i] = t;                                                              \
	})                                                                                         \
	X(v128_load32_splat, 9, SH_LOAD, 4, {                                                      \
		uint32_t t;                                                                        \
		memcpy(&t, mp, 4);                                                                 \
		EACH(4) r.u32[i] = t;                                                              \
	})                                                                                         \
	X(v128_load64_splat, 10, SH_LOAD, 8, {                                                     \
		uint64_t t;                                                                        \
		memcpy(&t, mp, 8);                                                                 \
		EACH(2) r.u64[i] = t;                                                              \
	})                                                                                         \
	X(v128_store, 11, SH_STORE, 16, memcpy(mp, &a, 16))                                        \
	X(i8x16_swizzle, 14, SH_BIN, 0, EACH(16) r.u8[i] = b.u8[i] < 16 ? a.u8[b.u8[i]] : 0)       \
	X(i8x16_splat, 15, SH_SPLAT_I32, 0, EACH(16) r.u8[i] = (uint8_t)s.i32)                     \
	X(i16x8_splat, 16, SH_SPLAT_I32, 0, EACH(8) r.u16[i] = (uint16_t)s.i32)                    \
	X(i32x4_splat, 17, SH_SPLAT_I32, 0, EACH(4) r.i32[i] = s.i32)                              \
	X(i64x2_splat, 18, SH_SPLAT_I64, 0, EACH(2) r.i64[i] = s.i64)                              \
	X(f32x4_splat, 19, SH_SPLAT_F32, 0, EACH(4) r.f32[i] = s.f32)                              \
	X(f64x2_splat, 20, SH_SPLAT_F64, 0, EACH(2) r.f64[i] = s.f64)                              \
	X(i8x16_extract_lane_s, 21, SH_EXTRACT_I32, 16, res.i32 = a.i8[L])                         \
	X(i8x16_extract_lane_u, 22, SH_EXTRACT_I32, 16, res.i32 = a.u8[L])                         \
	X(i8x16_replace_lane, 23, SH_REPLACE_I32, 16, r.u8[L] = (uint8_t)s.i32)                    \
	X(i16x8_extract_lane_s, 24, SH_EXTRACT_I32, 8, res.i32 = a.i16[L])                         \
	X(i16x8_extract_lane_u, 25, SH_EXTRACT_I32, 8, res.i32 = a.u16[L])                         \
	X(i16x8_replace_lane, 26, SH_REPLACE_I32, 8, r.u16[L] = (uint16_t)s.i32)                   \
	X(i32x4_extract_lane, 27, SH_EXTRACT_I32, 4, res.i32 = a.i32[L])                           \
	X(i32x4_replace_lane, 28, SH_REPLACE_I32, 4, r.i32[L] = s.i32)                             \
	X(i64x2_extract_lane, 29, SH_EXTRACT_I64, 2, res.i64 = a.i64[L])                           \
	X(i64x2_replace_lane, 30, SH_REPLACE_I64, 2, r.i64[L] = s.i64)                             \
	X(f32x4_extract_lane, 31, SH_EXTRACT_F32, 4, res.i32 = a.i32[L])                           \
	X(f32x4_replace_lane, 32, SH_REPLACE_F32, 4, r.i32[L] = s.i32)                             \
	X(f64x2_extract_lane, 33, SH_EXTRACT_F64, 2, res.i64 = a.i64[L])                           \
	X(f64x2_replace_lane, 34, SH_REPLACE_F64, 2, r.i64[L] = s.i64)                             \
	X(i8x16_eq, 35, SH_BIN, 0, ICMP(i8, 16, ==))                                               \
	X(i8x16_ne, 36, SH_BIN, 0, ICMP(i8, 16, !=))                                               \
	X(i8x16_lt_s, 37, SH_BIN, 0, ICMP(i8, 16, <))                                              \
	X(i8x16_lt_u, 38, SH_BIN, 0, ICMP(u8, 16, <))                                              \
	X(i8x16_gt_s, 39, SH_BIN, 0, ICMP(i8, 16, >))                                              \
	X(i8x16_gt_u, 40, SH_BIN, 0, ICMP(u8, 16, >))                                              \
	X(i8x16_le_s, 41, SH_BIN, 0, ICMP(i8, 16, <=))                                             \
	X(i8x16_le_u, 42, SH_BIN, 0, ICMP(u8, 16, <=))                                             \
	X(i8x16_ge_s, 43, SH_BIN, 0, ICMP(i8, 16, >=))                                             \
	X(i8x16_ge_u, 44, SH_BIN, 0, ICMP(u8, 16, >=))                                             \
	X(i16x8_eq, 45, SH_BIN, 0, ICMP(i16, 8, ==))                                               \
	X(i16x8_ne, 46, SH_BIN, 0, ICMP(i16, 8, !=))                                               \
	X(i16x8_lt_s, 47, SH_BIN, 0, ICMP(i16, 8, <))                                              \
	X(i16x8_lt_u, 48, SH_BIN, 0, ICMP(u16, 8, <))                                              \
	X(i16x8_gt_s, 49, SH_BIN, 0, ICMP(i16, 8, >))                                              \
	X(i16x8_gt_u, 50, SH_BIN, 0, ICMP(u16, 8, >))                                              \
	X(i16x8_le_s, 51, SH_BIN, 0, ICMP(i16, 8, <=))                                             \
	X(i16x8_le_u, 52, SH_BIN, 0, ICMP(u16, 8, <=))                                             \
	X(i16x8_ge_s, 53, SH_BIN, 0, ICMP(i16, 8, >=))                                             \
	X(i16x8_ge_u, 54, SH_BIN, 0, ICMP(u16, 8, >=))                                             \
	X(i32x4_eq, 55, SH_BIN, 0, ICMP(i32, 4, ==))                                               \
	X(i32x4_ne, 56, SH_BIN, 0, ICMP(i32, 4, !=))                                               \
	X(i32x4_lt_s, 57, SH_BIN, 0, ICMP(i32, 4, <))                                              \
	X(i32x4_lt_u, 58, SH_BIN, 0, ICMP(u32, 4, <))                                              \
	X(i32x4_gt_s, 59, SH_BIN, 0, ICMP(i32, 4, >))                                              \
	X(i32x4_gt_u, 60, SH_BIN, 0, ICMP(u32, 4, >))                                              \
	X(i32x4_le_s, 61, SH_BIN, 0, ICMP(i32, 4, <=))                                             \
	X(i32x4_le_u, 62, SH_BIN, 0, ICMP(u32, 4, <=))                                             \
	X(i32x4_ge_s, 63, SH_BIN, 0, ICMP(i32, 4, >=))                                             \
	X(i32x4_ge_u, 64, SH_BIN, 0, ICMP(u32, 4, >=))                                             \
	X(f32x4_eq, 65, SH_BIN, 0, EACH(4) r.i32[i] = a.f32[i] == b.f32[i] ? -1 : 0)               \
	X(f32x4_ne, 66, SH_BIN, 0, EACH(4) r.i32[i] = a.f32[i] != b.f32[i] ? -1 : 0)               \
	X(f32x4_lt, 67, SH_BIN, 0, EACH(4) r.i32[i] = a.f32[i] < b.f32[i] ? -1 : 0)                \
	X(f32x4_gt, 68, SH_BIN, 0, EACH(4) r.i32[i] = a.f32[i] > b.f32[i] ? -1 : 0)                \
	X(f32x4_le, 69, SH_BIN, 0, EACH(4) r.i32[i] = a.f32[i] <= b.f32[i] ? -1 : 0)               \
	X(f32x4_ge, 70, SH_BIN, 0, EACH(4) r.i32[i] = a.f32[i] >= b.f32[i] ? -1 : 0)               \
	X(f64x2_eq, 71, SH_BIN, 0, EACH(2) r.i64[i] = a.f64[i] == b.f64[i] ? -1 : 0)               \
	X(f64x2_ne, 72, SH_BIN, 0, EACH(2) r.i64[i] = a.f64[i] != b.f64[i] ? -1 : 0)               \
	X(f64x2_lt, 73, SH_BIN, 0, EACH(2) r.i64[i] = a.f64[i] < b.f64[i] ? -1 : 0)                \
	X(f64x2_gt, 74, SH_BIN, 0, EACH(2) r.i64[i] = a.f64[i] > b.f64[i] ? -1 : 0)                \
	X(f64x2_le, 75, SH_BIN, 0, EACH(2) r.i64[i] = a.f64[i] <= b.f64[i] ? -1 : 0)               \
	X(f64x2_ge, 76, SH_BIN, 0, EACH(2) r.i64[i] = a.f64[i] >= b.f64[i] ? -1 : 0)               \
	X(v128_not, 77, SH_UN, 0, EACH(2) r.u64[i] = ~a.u64[i])                                    \
	X(v128_and, 78, SH_BIN, 0, EACH(2) r.u64[i] = a.u64[i] & b.u64[i])                         \
	X(v128_andnot, 79, SH_BIN, 0, EACH(2) r.u64[i] = a.u64[i] & ~b.u64[i])                     \
	X(v128_or, 80, SH_BIN, 0, EACH(2) r.u64[i] = a.u64[i] | b.u64[i])                          \
	X(v128_xor, 81, SH_BIN, 0, EACH(2) r.u64[i] = a.u64[i] ^ b.u64[i])                         \
	X(v128_bitselect, 82, SH_TERN, 0,                                                          \
	  EACH(2) r.u64[i] = (a.u64[i] & c.u64[i]) | (b.u64[i] & ~c.u64[i]))                       \
	X(v128_any_true, 83, SH_TEST, 0, res.i32 = (a.u64[0] | a.u64[1]) != 0)                     \
	X(v128_load8_lane, 84, SH_LOAD_LANE, 1, r.u8[L] = mp[0])                                   \
	X(v128_load16_lane, 85, SH_LOAD_LANE, 2, memcpy(&r.u16[L], mp, 2))                         \
	X(v128_load32_lane, 86, SH_LOAD_LANE, 4, memcpy(&r.u32[L], mp, 4))                         \
	X(v128_load64_lane, 87, SH_LOAD_LANE, 8, memcpy(&r.u64[L], mp, 8))                         \
	X(v128_store8_lane, 88, SH_STORE_LANE, 1, mp[0] = a.u8[L])                                 \
	X(v128_store16_lane, 89, SH_STORE_LANE, 2, memcpy(mp, &a.u16[L], 2))                       \
	X(v128_store32_lane, 90, SH_STORE_LANE, 4, memcpy(mp, &a.u32[L], 4))                       \
	X(v128_store64_lane, 91, SH_STORE_LANE, 8, memcpy(mp, &a.u64[L], 8))                       \
	X(v128_load32_zero, 92, SH_LOAD, 4, memcpy(&r.u32[0], mp, 4))                              \
	X(v128_load64_zero, 93, SH_LOAD, 8, memcpy(&r.u64[0], mp, 8))                              \
	X(f32x4_demote_f64x2_zero, 94, SH_UN, 0, EACH(2) r.f32[i] = (float)a.f64[i])               \
	X(f64x2_promote_low_f32x4, 95, SH_UN, 0, EACH(2) r.f64[i] = (double)a.f32[i])              \
	X(i8x16_abs, 96, SH_UN, 0, EACH(16) r.u8[i] = a.i8[i] < 0 ? (uint8_t)-a.u8[i] : a.u8[i])   \
	X(i8x16_neg, 97, SH_UN, 0, EACH(16) r.u8[i] = (uint8_t)-a.u8[i])                           \
	X(i8x16_popcnt, 98, SH_UN, 0, EACH(16) r.u8[i] = (uint8_t)__builtin_popcount(a.u8[i]))     \
	X(i8x16_all_true, 99, SH_TEST, 0, {                                                        \
		res.i32 = 1;                                                                       \
		EACH(16) if (!a.u8[i]) res.i32 = 0;                                                \
	})                                                                                         \
	X(i8x16_bitmask, 100, SH_TEST, 0, {                                                        \
		res.i32 = 0;                                                                       \
		EACH(16) res.i32 |= (a.u8[i] >> 7) << i;                                           \
	})                                                                                         \
	X(                                                                                         \
	    i8x16_narrow_i16x8_s, 101, SH_BIN, 0, EACH(8) {                                        \
		    r.i8[i] = (int8_t)SAT(a.i16[i], -128, 127);                                    \
		    r.i8[i + 8] = (int8_t)SAT(b.i16[i], -128, 127);                                \
	    })                                                                                     \
	X(                                                                                         \
	    i8x16_narrow_i16x8_u, 102, SH_BIN, 0, EACH(8) {                                        \
		    r.u8[i] = (uint8_t)SAT(a.i16[i], 0, 255);                                      \
		    r.u8[i + 8] = (uint8_t)SAT(b.i16[i], 0, 255);                                  \
	    })                                                                                     \
	X(f32x4_ceil, 103, SH_UN, 0, EACH(4) r.f32[i] = f32_ceil(a.f32[i]))                        \
	X(f32x4_floor, 104, SH_UN, 0, EACH(4) r.f32[i] = f32_floor(a.f32[i]))                      \
	X(f32x4_trunc, 105, SH_UN, 0, EACH(4) r.f32[i] = f32_trunc(a.f32[i]))                      \
	X(f32x4_nearest, 106, SH_UN, 0, EACH(4) r.f32[i] = f32_nearest(a.f32[i]))                  \
	X(i8x16_shl, 107, SH_SHIFT, 0, EACH(16) r.u8[i] = (uint8_t)(a.u8[i] << (s.i32 & 7)))       \
	X(i8x16_shr_s, 108, SH_SHIFT, 0, EACH(16) r.i8[i] = (int8_t)(a.i8[i] >> (s.i32 & 7)))      \
	X(i8x16_shr_u, 109, SH_SHIFT, 0, EACH(16) r.u8[i] = (uint8_t)(a.u8[i] >> (s.i32 & 7)))     \
	X(i8x16_add, 110, SH_BIN, 0, EACH(16) r.u8[i] = (uint8_t)(a.u8[i] + b.u8[i]))              \
	X(i8x16_add_sat_s, 111, SH_BIN, 0,                                                         \
	  EACH(16) r.i8[i] = (int8_t)SAT(a.i8[i] + b.i8[i], -128, 127))                            \
	X(i8x16_add_sat_u, 112, SH_BIN, 0,                                                         \
	  EACH(16) r.u8[i] = (uint8_t)SAT(a.u8[i] + b.u8[i], 0, 255))                              \
	X(i8x16_sub, 113, SH_BIN, 0, EACH(16) r.u8[i] = (uint8_t)(a.u8[i] - b.u8[i]))              \
	X(i8x16_sub_sat_s, 114, SH_BIN, 0,                                                         \
	  EACH(16) r.i8[i] = (int8_t)SAT(a.i8[i] - b.i8[i], -128, 127))                            \
	X(i8x16_sub_sat_u, 115, SH_BIN, 0,                                                         \
	  EACH(16) r.u8[i] = (uint8_t)SAT(a.u8[i] - b.u8[i], 0, 255))                              \
	X(f64x2_ceil, 116, SH_UN, 0, EACH(2) r.f64[i] = f64_ceil(a.f64[i]))                        \
	X(f64x2_floor, 117, SH_UN, 0, EACH(2) r.f64[i] = f64_floor(a.f64[i]))                      \
	X(i8x16_min_s, 118, SH_BIN, 0, EACH(16) r.i8[i] = a.i8[i] < b.i8[i] ? a.i8[i] : b.i8[i])   \
	X(i8x16_min_u, 119, SH_BIN, 0, EACH(16) r.u8[i] = a.u8[i] < b.u8[i] ? a.u8[i] : b.u8[i])   \
	X(i8x16_max_s, 120, SH_BIN, 0, EACH(16) r.i8[i] = a.i8[i] > b.i8[i] ? a.i8[i] : b.i8[i])   \
	X(i8x16_max_u, 121, SH_BIN, 0, EACH(16) r.u8[i] = a.u8[i] > b.u8[i] ? a.u8[i] : b.u8[i])   \
	X(f64x2_trunc, 122, SH_UN, 0, EACH(2) r.f64[i] = f64_trunc(a.f64[i]))                      \
	X(i8x16_avgr_u, 123, SH_BIN, 0,                                                            \
	  EACH(16) r.u8[i] = (uint8_t)((a.u8[i] + b.u8[i] + 1) >> 1))                              \
	X(i16x8_extadd_pairwise_i8x16_s, 124, SH_UN, 0,                                            \
	  EACH(8) r.i16[i] = (int16_t)(a.i8[2 * i] + a.i8[2 * i + 1]))                             \
	X(i16x8_extadd_pairwise_i8x16_u, 125, SH_UN, 0,                                            \
	  EACH(8) r.u16[i] = (uint16_t)(a.u8[2 * i] + a.u8[2 * i + 1]))                            \
	X(i32x4_extadd_pairwise_i16x8_s, 126, SH_UN, 0,                                            \
	  EACH(4) r.i32[i] = a.i16[2 * i] + a.i16[2 * i + 1])                                      \
	X(i32x4_extadd_pairwise_i16x8_u, 127, SH_UN, 0,                                            \
	  EACH(4) r.u32[i] = (uint32_t)a.u16[2 * i] + a.u16[2 * i + 1])                            \
	X(i16x8_abs, 128, SH_UN, 0,                                                                \
	  EACH(8) r.u16[i] = a.i16[i] < 0 ? (uint16_t)-a.u16[i] : a.u16[i])                        \
	X(i16x8_neg, 129, SH_UN, 0, EACH(8) r.u16[i] = (uint16_t)-a.u16[i])                        \
	X(i16x8_q15mulr_sat_s, 130, SH_BIN, 0,                                                     \
	  EACH(8) r.i16[i] = (int16_t)SAT((a.i16[i] * b.i16[i] + 0x4000) >> 15, -32768, 32767))    \
	X(i16x8_all_true, 131, SH_TEST, 0, {                                                       \
		res.i32 = 1;                                                                       \
		EACH(8) if (!a.u16[i]) res.i32 = 0;                                                \
	})                                                                                         \
	X(i16x8_bitmask, 132, SH_TEST, 0, {                                                        \
		res.i32 = 0;                                                                       \
		EACH(8) res.i32 |= (a.u16[i] >> 15) << i;                                          \
	})                                                                                         \
	X(                                                                                         \
	    i16x8_narrow_i32x4_s, 133, SH_BIN, 0, EACH(4) {                                        \
		    r.i16[i] = (int16_t)SAT(a.i32[i], -32768, 32767);                              \
		    r.i16[i + 4] = (int16_t)SAT(b.i32[i], -32768, 32767);                          \
	    })                                                                                     \
	X(                                                                                         \
	    i16x8_narrow_i32x4_u, 134, SH_BIN, 0, EACH(4) {                                        \
		    r.u16[i] = (uint16_t)SAT(a.i32[i], 0, 65535);                                  \
		    r.u16[i + 4] = (uint16_t)SAT(b.i32[i], 0, 65535);                              \
	    })                                                                                     \
	X(i16x8_extend_low_i8x16_s, 135, SH_UN, 0, EACH(8) r.i16[i] = a.i8[i])                     \
	X(i16x8_extend_high_i8x16_s, 136, SH_UN, 0, EACH(8) r.i16[i] = a.i8[i + 8])                \
	X(i16x8_extend_low_i8x16_u, 137, SH_UN, 0, EACH(8) r.u16[i] = a.u8[i])                     \
	X(i16x8_extend_high_i8x16_u, 138, SH_UN, 0, EACH(8) r.u16[i] = a.u8[i + 8])                \
	X(i16x8_shl, 139, SH_SHIFT, 0, EACH(8) r.u16[i] = (uint16_t)(a.u16[i] << (s.i32 & 15)))    \
	X(i16x8_shr_s, 140, SH_SHIFT, 0, EACH(8) r.i16[i] = (int16_t)(a.i16[i] >> (s.i32 & 15)))   \
	X(i16x8_shr_u, 141, SH_SHIFT, 0, EACH(8) r.u16[i] = (uint16_t)(a.u16[i] >> (s.i32 & 15)))  \
	X(i16x8_add, 142, SH_BIN, 0, EACH(8) r.u16[i] = (uint16_t)(a.u16[i] + b.u16[i]))           \
	X(i16x8_add_sat_s, 143, SH_BIN, 0,                                                         \
	  EACH(8) r.i16[i] = (int16_t)SAT(a.i16[i] + b.i16[i], -32768, 32767))                     \
	X(i16x8_add_sat_u, 144, SH_BIN, 0,                                                         \
	  EACH(8) r.u16[i] = (uint16_t)SAT(a.u16[i] + b.u16[i], 0, 65535))                         \
	X(i16x8_sub, 145, SH_BIN, 0, EACH(8) r.u16[i] = (uint16_t)(a.u16[i] - b.u16[i]))           \
	X(i16x8_sub_sat_s, 146, SH_BIN, 0,                                                         \
	  EACH(8) r.i16[i] = (int16_t)SAT(a.i16[i] - b.i16[i], -32768, 32767))                     \
	X(i16x8_sub_sat_u, 147, SH_BIN, 0,                                                         \
	  EACH(8) r.u16[i] = (uint16_t)SAT(a.u16[i] - b.u16[i], 0, 65535))                         \
	X(f64x2_nearest, 148, SH_UN, 0, EACH(2) r.f64[i] = f64_nearest(a.f64[i]))                  \
	X(i16x8_mul, 149, SH_BIN, 0, EACH(8) r.u16[i] = (uint16_t)((uint32_t)a.u16[i] * b.u16[i])) \
	X(i16x8_min_s, 150, SH_BIN, 0,                                                             \
	  EACH(8) r.i16[i] = a.i16[i] < b.i16[i] ? a.i16[i] : b.i16[i])                            \
	X(i16x8_min_u, 151, SH_BIN, 0,                                                             \
	  EACH(8) r.u16[i] = a.u16[i] < b.u16[i] ? a.u16[i] : b.u16[i])                            \
	X(i16x8_max_s, 152, SH_BIN, 0,                                                             \
	  EACH(8) r.i16[i] = a.i16[i] > b.i16[i] ? a.i16[i] : b.i16[i])                            \
	X(i16x8_max_u, 153, SH_BIN, 0,                                                             \
	  EACH(8) r.u16[i] = a.u16[i] > b.u16[i] ? a.u16[i] : b.u16[i])                            \
	X(i16x8_avgr_u, 155, SH_BIN, 0,                                                            \
	  EACH(8) r.u16[i] = (uint16_t)((a.u16[i] + b.u16[i] + 1) >> 1))                           \
	X(i16x8_extmul_low_i8x16_s, 156, SH_BIN, 0,                                                \
	  EACH(8) r.i16[i] = (int16_t)(a.i8[i] * b.i8[i]))                                         \
	X(i16x8_extmul_high_i8x16_s, 157, SH_BIN, 0,                                               \
	  EACH(8) r.i16[i] = (int16_t)(a.i8[i + 8] * b.i8[i + 8]))                                 \
	X(i16x8_extmul_low_i8x16_u, 158, SH_BIN, 0,                                                \
	  EACH(8) r.u16[i] = (uint16_t)(a.u8[i] * b.u8[i]))                                        \
	X(i16x8_extmul_high_i8x16_u, 159, SH_BIN, 0,                                               \
	  EACH(8) r.u16[i] = (uint16_t)(a.u8[i + 8] * b.u8[i + 8]))                                \
	X(i32x4_abs, 160, SH_UN, 0, EACH(4) r.u32[i] = a.i32[i] < 0 ? 0u - a.u32[i] : a.u32[i])    \
	X(i32x4_neg, 161, SH_UN, 0, EACH(4) r.u32[i] = 0u - a.u32[i])                              \
	X(i32x4_all_true, 163, SH_TEST, 0, {                                                       \
		res.i32 = 1;                                                                       \
		EACH(4) if (!a.u32[i]) res.i32 = 0;                                                \
	})                                                                                         \
	X(i32x4_bitmask, 164, SH_TEST, 0, {                                                        \
		res.i32 = 0;                                                                       \
		EACH(4) res.i32 |= (int32_t)((a.u32[i] >> 31) << i);                               \
	})                                                                                         \
	X(i32x4_extend_low_i16x8_s, 167, SH_UN, 0, EACH(4) r.i32[i] = a.i16[i])                    \
	X(i32x4_extend_high_i16x8_s, 168, SH_UN, 0, EACH(4) r.i32[i] = a.i16[i + 4])               \
	X(i32x4_extend_low_i16x8_u, 169, SH_UN, 0, EACH(4) r.u32[i] = a.u16[i])                    \
	X(i32x4_extend_high_i16x8_u, 170, SH_UN, 0, EACH(4) r.u32[i] = a.u16[i + 4])               \
	X(i32x4_shl, 171, SH_SHIFT, 0, EACH(4) r.u32[i] = a.u32[i] << (s.i32 & 31))                \
	X(i32x4_shr_s, 172, SH_SHIFT, 0, EACH(4) r.i32[i] = a.i32[i] >> (s.i32 & 31))              \
	X(i32x4_shr_u, 173, SH_SHIFT, 0, EACH(4) r.u32[i] = a.u32[i] >> (s.i32 & 31))              \
	X(i32x4_add, 174, SH_BIN, 0, EACH(4) r.u32[i] = a.u32[i] + b.u32[i])                       \
	X(i32x4_sub, 177, SH_BIN, 0, EACH(4) r.u32[i] = a.u32[i] - b.u32[i])                       \
	X(i32x4_mul, 181, SH_BIN, 0, EACH(4) r.u32[i] = a.u32[i] * b.u32[i])                       \
	X(i32x4_min_s, 182, SH_BIN, 0,                                                             \
	  EACH(4) r.i32[i] = a.i32[i] < b.i32[i] ? a.i32[i] : b.i32[i])                            \
	X(i32x4_min_u, 183, SH_BIN, 0,                                                             \
	  EACH(4) r.u32[i] = a.u32[i] < b.u32[i] ? a.u32[i] : b.u32[i])                            \
	X(i32x4_max_s, 184, SH_BIN, 0,                                                             \
	  EACH(4) r.i32[i] = a.i32[i] > b.i32[i] ? a.i32[i] : b.i32[i])                            \
	X(i32x4_max_u, 185, SH_BIN, 0,                                                             \
	  EACH(4) r.u32[i] = a.u32[i] > b.u32[i] ? a.u32[i] : b.u32[i])                            \
	X(i32x4_dot_i16x8_s, 186, SH_BIN, 0,                                                       \
	  EACH(4) r.u32[i] = (uint32_t)(a.i16[2 * i] * b.i16[2 * i]) +                             \
	                     (uint32_t)(a.i16[2 * i + 1] * b.i16[2 * i + 1]))                      \
	X(i32x4_extmul_low_i16x8_s, 188, SH_BIN, 0, EACH(4) r.i32[i] = a.i16[i] * b.i16[i])        \
	X(i32x4_extmul_high_i16x8_s, 189, SH_BIN, 0,                                               \
	  EACH(4) r.i32[i] = a.i16[i + 4] * b.i16[i + 4])                                          \
	X(i32x4_extmul_low_i16x8_u, 190, SH_BIN, 0,                                                \
	  EACH(4) r.u32[i] = (uint32_t)a.u16[i] * b.u16[i])                                        \
	X(i32x4_extmul_high_i16x8_u, 191, SH_BIN, 0,                                               \
	  EACH(4) r.u32[i] = (uint32_t)a.u16[i + 4] * b.u16[i + 4])                                \
	X(i64x2_abs, 192, SH_UN, 0, EACH(2) r.u64[i] = a.i64[i] < 0 ? 0u - a.u64[i] : a.u64[i])    \
	X(i64x2_neg, 193, SH_UN, 0, EACH(2) r.u64[i] = 0u - a.u64[i])                              \
	X(i64x2_all_true, 195, SH_TEST, 0, res.i32 = a.u64[0] != 0 && a.u64[1] != 0)               \
	X(i64x2_bitmask, 196, SH_TEST, 0,                                                          \
	  res.i32 = (int32_t)((a.u64[0] >> 63) | ((a.u64[1] >> 63) << 1)))                         \
	X(i64x2_extend_low_i32x4_s, 199, SH_UN, 0, EACH(2) r.i64[i] = a.i32[i])                    \
	X(i64x2_extend_high_i32x4_s, 200, SH_UN, 0, EACH(2) r.i64[i] = a.i32[i + 2])               \
	X(i64x2_extend_low_i32x4_u, 201, SH_UN, 0, EACH(2) r.u64[i] = a.u32[i])                    \
	X(i64x2_extend_high_i32x4_u, 202, SH_UN, 0, EACH(2) r.u64[i] = a.u32[i + 2])               \
	X(i64x2_shl, 203, SH_SHIFT, 0, EACH(2) r.u64[i] = a.u64[i] << (s.i32 & 63))                \
	X(i64x2_shr_s, 204, SH_SHIFT, 0, EACH(2) r.i64[i] = a.i64[i] >> (s.i32 & 63))              \
	X(i64x2_shr_u, 205, SH_SHIFT, 0, EACH(2) r.u64[i] = a.u64[i] >> (s.i32 & 63))              \
	X(i64x2_add, 206, SH_BIN, 0, EACH(2) r.u64[i] = a.u64[i] + b.u64[i])                       \
	X(i64x2_sub, 209, SH_BIN, 0, EACH(2) r.u64[i] = a.u64[i] - b.u64[i])                       \
	X(i64x2_mul, 213, SH_BIN, 0, EACH(2) r.u64[i] = a.u64[i] * b.u64[i])                       \
	X(i64x2_eq, 214, SH_BIN, 0, ICMP(i64, 2, ==))                                              \
	X(i64x2_ne, 215, SH_BIN, 0, ICMP(i64, 2, !=))                                              \
	X(i64x2_lt_s, 216, SH_BIN, 0, ICMP(i64, 2, <))                                             \
	X(i64x2_gt_s, 217, SH_BIN, 0, ICMP(i64, 2, >))                                             \
	X(i64x2_le_s, 218, SH_BIN, 0, ICMP(i64, 2, <=))                                            \
	X(i64x2_ge_s, 219, SH_BIN, 0, ICMP(i64, 2, >=))                                            \
	X(i64x2_extmul_low_i32x4_s, 220, SH_BIN, 0,                                                \
	  EACH(2) r.i64[i] = (int64_t)a.i32[i] * b.i32[i])                                         \
	X(i64x2_extmul_high_i32x4_s, 221, SH_BIN, 0,                                               \
	  EACH(2) r.i64[i] = (int64_t)a.i32[i + 2] * b.i32[i + 2])                                 \
	X(i64x2_extmul_low_i32x4_u, 222, SH_BIN, 0,                                                \
	  EACH(2) r.u64[i] = (uint64_t)a.u32[i] * b.u32[i])                                        \
	X(i64x2_extmul_high_i32x4_u, 223, SH_BIN, 0,                                               \
	  EACH(2) r.u64[i] = (uint64_t)a.u32[i + 2] * b.u32[i + 2])                                \
	X(f32x4_abs, 224, SH_UN, 0, EACH(4) r.u32[i] = a.u32[i] & 0x7fffffffu)                     \
	X(f32x4_neg, 225, SH_UN, 0, EACH(4) r.u32[i] = a.u32[i] ^ 0x80000000u)                     \
	X(f32x4_sqrt, 227, SH_UN, 0, EACH(4) r.f32[i] = sqrtf(a.f32[i]))                           \
	X(f32x4_add, 228, SH_BIN, 0,                                                               \
	  EACH(4) r.f32[i] = f32_nan_first(a.f32[i], b.f32[i], a.f32[i] + b.f32[i]))               \
	X(f32x4_sub, 229, SH_BIN, 0,                                                               \
	  EACH(4) r.f32[i] = f32_nan_first(a.f32[i], b.f32[i], a.f32[i] - b.f32[i]))               \
	X(f32x4_mul, 230, SH_BIN, 0,                                                               \
	  EACH(4) r.f32[i] = f32_nan_first(a.f32[i], b.f32[i], a.f32[i] * b.f32[i]))               \
	X(f32x4_div, 231, SH_BIN, 0,                                                               \
	  EACH(4) r.f32[i] = f32_nan_first(a.f32[i], b.f32[i], a.f32[i] / b.f32[i]))               \
	X(f32x4_min, 232, SH_BIN, 0, EACH(4) r.f32[i] = f32_min(a.f32[i], b.f32[i]))               \
	X(f32x4_max, 233, SH_BIN, 0, EACH(4) r.f32[i] = f32_max(a.f32[i], b.f32[i]))               \
	X(f32x4_pmin, 234, SH_BIN, 0,                                                              \
	  EACH(4) r.u32[i] = b.f32[i] < a.f32[i] ? b.u32[i] : a.u32[i])                            \
	X(f32x4_pmax, 235, SH_BIN, 0,                                                              \
	  EACH(4) r.u32[i] = a.f32[i] < b.f32[i] ? b.u32[i] : a.u32[i])                            \
	X(f64x2_abs, 236, SH_UN, 0, EACH(2) r.u64[i] = a.u64[i] & 0x7fffffffffffffffull)           \
	X(f64x2_neg, 237, SH_UN, 0, EACH(2) r.u64[i] = a.u64[i] ^ 0x8000000000000000ull)           \
	X(f64x2_sqrt, 239, SH_UN, 0, EACH(2) r.f64[i] = sqrt(a.f64[i]))                            \
	X(f64x2_add, 240, SH_BIN, 0,                                                               \
	  EACH(2) r.f64[i] = f64_nan_first(a.f64[i], b.f64[i], a.f64[i] + b.f64[i]))               \
	X(f64x2_sub, 241, SH_BIN, 0,                                                               \
	  EACH(2) r.f64[i] = f64_nan_first(a.f64[i], b.f64[i], a.f64[i] - b.f64[i]))               \
	X(f64x2_mul, 242, SH_BIN, 0,                                                               \
	  EACH(2) r.f64[i] = f64_nan_first(a.f64[i], b.f64[i], a.f64[i] * b.f64[i]))               \
	X(f64x2_div, 243, SH_BIN, 0,                                                               \
	  EACH(2) r.f64[i] = f64_nan_first(a.f64[i], b.f64[i], a.f64[i] / b.f64[i]))               \
	X(f64x2_min, 244, SH_BIN, 0, EACH(2) r.f64[i] = f64_min(a.f64[i], b.f64[i]))               \
	X(f64x2_max, 245, SH_BIN, 0, EACH(2) r.f64[i] = f64_max(a.f64[i], b.f64[i]))               \
	X(f64x2_pmin, 246, SH_BIN, 0,                                                              \
	  EACH(2) r.u64[i] = b.f64[i] < a.f64[i] ? b.u64[i] : a.u64[i])                            \
	X(f64x2_pmax, 247, SH_BIN, 0,                                                              \
	  EACH(2) r.u64[i] = a.f64[i] < b.f64[i] ? b.u64[i] : a.u64[i])                            \
	X(i32x4_trunc_sat_f32x4_s, 248, SH_UN, 0, EACH(4) r.u32[i] = sat_i32_s((double)a.f32[i]))  \
	X(i32x4_trunc_sat_f32x4_u, 249, SH_UN, 0, EACH(4) r.u32[i] = sat_i32_u((double)a.f32[i]))  \
	X(f32x4_convert_i32x4_s, 250, SH_UN, 0, EACH(4) r.f32[i] = (float)a.i32[i])                \
	X(f32x4_convert_i32x4_u, 251, SH_UN, 0, EACH(4) r.f32[i] = (float)a.u32[i])                \
	X(i32x4_trunc_sat_f64x2_s_zero, 252, SH_UN, 0, EACH(2) r.u32[i] = sat_i32_s(a.f64[i]))     \
	X(i32x4_trunc_sat_f64x2_u_zero, 253, SH_UN, 0, EACH(2) r.u32[i] = sat_i32_u(a.f64[i]))     \
	X(f64x2_convert_low_i32x4_s, 254, SH_UN, 0, EACH(2) r.f64[i] = (double)a.i32[i])           \
	X(f64x2_convert_low_i32x4_u, 255, SH_UN, 0, EACH(2) r.f64[i] = (double)a.u32[i])

#endif
