/* SPDX-License-Identifier: Apache-2.0 */
/* The numeric instructions, shared by the compiler (validation: operand and
 * result types) and the interpreter (handlers). Opcodes with the 0xfc prefix
 * are written 0xfcNN.
 *   BIN(name, opcode, operand type, result type, C expression of a, b)
 *   UN(name, opcode, operand type, result type, C expression of a)
 *   BIN_T / UN_T: same, but the handler is written by hand (it may trap). */
#ifndef CAPSA_WASM_OPS_H
#define CAPSA_WASM_OPS_H

#include "wasm/simd.h"

#define WASM_NUMERIC_OPS(BIN, UN, BIN_T, UN_T)                                                     \
	UN(i32_eqz, 0x45, i32, i32, a == 0)                                                        \
	BIN(i32_eq, 0x46, i32, i32, a == b)                                                        \
	BIN(i32_ne, 0x47, i32, i32, a != b)                                                        \
	BIN(i32_lt_s, 0x48, i32, i32, (int32_t)a < (int32_t)b)                                     \
	BIN(i32_lt_u, 0x49, i32, i32, a < b)                                                       \
	BIN(i32_gt_s, 0x4a, i32, i32, (int32_t)a > (int32_t)b)                                     \
	BIN(i32_gt_u, 0x4b, i32, i32, a > b)                                                       \
	BIN(i32_le_s, 0x4c, i32, i32, (int32_t)a <= (int32_t)b)                                    \
	BIN(i32_le_u, 0x4d, i32, i32, a <= b)                                                      \
	BIN(i32_ge_s, 0x4e, i32, i32, (int32_t)a >= (int32_t)b)                                    \
	BIN(i32_ge_u, 0x4f, i32, i32, a >= b)                                                      \
	UN(i64_eqz, 0x50, i64, i32, a == 0)                                                        \
	BIN(i64_eq, 0x51, i64, i32, a == b)                                                        \
	BIN(i64_ne, 0x52, i64, i32, a != b)                                                        \
	BIN(i64_lt_s, 0x53, i64, i32, (int64_t)a < (int64_t)b)                                     \
	BIN(i64_lt_u, 0x54, i64, i32, a < b)                                                       \
	BIN(i64_gt_s, 0x55, i64, i32, (int64_t)a > (int64_t)b)                                     \
	BIN(i64_gt_u, 0x56, i64, i32, a > b)                                                       \
	BIN(i64_le_s, 0x57, i64, i32, (int64_t)a <= (int64_t)b)                                    \
	BIN(i64_le_u, 0x58, i64, i32, a <= b)                                                      \
	BIN(i64_ge_s, 0x59, i64, i32, (int64_t)a >= (int64_t)b)                                    \
	BIN(i64_ge_u, 0x5a, i64, i32, a >= b)                                                      \
	BIN(f32_eq, 0x5b, f32, i32, a == b)                                                        \
	BIN(f32_ne, 0x5c, f32, i32, a != b)                                                        \
	BIN(f32_lt, 0x5d, f32, i32, a < b)                                                         \
	BIN(f32_gt, 0x5e, f32, i32, a > b)                                                         \
	BIN(f32_le, 0x5f, f32, i32, a <= b)                                                        \
	BIN(f32_ge, 0x60, f32, i32, a >= b)                                                        \
	BIN(f64_eq, 0x61, f64, i32, a == b)                                                        \
	BIN(f64_ne, 0x62, f64, i32, a != b)                                                        \
	BIN(f64_lt, 0x63, f64, i32, a < b)                                                         \
	BIN(f64_gt, 0x64, f64, i32, a > b)                                                         \
	BIN(f64_le, 0x65, f64, i32, a <= b)                                                        \
	BIN(f64_ge, 0x66, f64, i32, a >= b)                                                        \
	UN(i32_clz, 0x67, i32, i32, a ? (uint32_t)__builtin_clz(a) : 32u)                          \
	UN(i32_ctz, 0x68, i32, i32, a ? (uint32_t)__builtin_ctz(a) : 32u)                          \
	UN(i32_popcnt, 0x69, i32, i32, (uint32_t)__builtin_popcount(a))                            \
	BIN(i32_add, 0x6a, i32, i32, a + b)                                                        \
	BIN(i32_sub, 0x6b, i32, i32, a - b)                                                        \
	BIN(i32_mul, 0x6c, i32, i32, a *b)                                                         \
	BIN_T(i32_div_s, 0x6d, i32, i32)                                                           \
	BIN_T(i32_div_u, 0x6e, i32, i32)                                                           \
	BIN_T(i32_rem_s, 0x6f, i32, i32)                                                           \
	BIN_T(i32_rem_u, 0x70, i32, i32)                                                           \
	BIN(i32_and, 0x71, i32, i32, a &b)                                                         \
	BIN(i32_or, 0x72, i32, i32, a | b)                                                         \
	BIN(i32_xor, 0x73, i32, i32, a ^ b)                                                        \
	BIN(i32_shl, 0x74, i32, i32, a << (b & 31))                                                \
	BIN(i32_shr_s, 0x75, i32, i32, (uint32_t)((int32_t)a >> (b & 31)))                         \
	BIN(i32_shr_u, 0x76, i32, i32, a >> (b & 31))                                              \
	BIN(i32_rotl, 0x77, i32, i32, (a << (b & 31)) | (a >> ((32 - (b & 31)) & 31)))             \
	BIN(i32_rotr, 0x78, i32, i32, (a >> (b & 31)) | (a << ((32 - (b & 31)) & 31)))             \
	UN(i64_clz, 0x79, i64, i64, a ? (uint64_t)__builtin_clzll(a) : 64u)                        \
	UN(i64_ctz, 0x7a, i64, i64, a ? (uint64_t)__builtin_ctzll(a) : 64u)                        \
	UN(i64_popcnt, 0x7b, i64, i64, (uint64_t)__builtin_popcountll(a))                          \
	BIN(i64_add, 0x7c, i64, i64, a + b)                                                        \
	BIN(i64_sub, 0x7d, i64, i64, a - b)                                                        \
	BIN(i64_mul, 0x7e, i64, i64, a *b)                                                         \
	BIN_T(i64_div_s, 0x7f, i64, i64)                                                           \
	BIN_T(i64_div_u, 0x80, i64, i64)                                                           \
	BIN_T(i64_rem_s, 0x81, i64, i64)                                                           \
	BIN_T(i64_rem_u, 0x82, i64, i64)                                                           \
	BIN(i64_and, 0x83, i64, i64, a &b)                                                         \
	BIN(i64_or, 0x84, i64, i64, a | b)                                                         \
	BIN(i64_xor, 0x85, i64, i64, a ^ b)                                                        \
	BIN(i64_shl, 0x86, i64, i64, a << (b & 63))                                                \
	BIN(i64_shr_s, 0x87, i64, i64, (uint64_t)((int64_t)a >> (b & 63)))                         \
	BIN(i64_shr_u, 0x88, i64, i64, a >> (b & 63))                                              \
	BIN(i64_rotl, 0x89, i64, i64, (a << (b & 63)) | (a >> ((64 - (b & 63)) & 63)))             \
	BIN(i64_rotr, 0x8a, i64, i64, (a >> (b & 63)) | (a << ((64 - (b & 63)) & 63)))             \
	UN(f32_abs, 0x8b, f32, f32, f32_abs(a))                                                    \
	UN(f32_neg, 0x8c, f32, f32, f32_neg(a))                                                    \
	UN(f32_ceil, 0x8d, f32, f32, f32_ceil(a))                                                  \
	UN(f32_floor, 0x8e, f32, f32, f32_floor(a))                                                \
	UN(f32_trunc, 0x8f, f32, f32, f32_trunc(a))                                                \
	UN(f32_nearest, 0x90, f32, f32, f32_nearest(a))                                            \
	UN(f32_sqrt, 0x91, f32, f32, sqrtf(a))                                                     \
	BIN(f32_add, 0x92, f32, f32, a + b)                                                        \
	BIN(f32_sub, 0x93, f32, f32, a - b)                                                        \
	BIN(f32_mul, 0x94, f32, f32, a *b)                                                         \
	BIN(f32_div, 0x95, f32, f32, a / b)                                                        \
	BIN(f32_min, 0x96, f32, f32, f32_min(a, b))                                                \
	BIN(f32_max, 0x97, f32, f32, f32_max(a, b))                                                \
	BIN(f32_copysign, 0x98, f32, f32, f32_copysign(a, b))                                      \
	UN(f64_abs, 0x99, f64, f64, f64_abs(a))                                                    \
	UN(f64_neg, 0x9a, f64, f64, f64_neg(a))                                                    \
	UN(f64_ceil, 0x9b, f64, f64, f64_ceil(a))                                                  \
	UN(f64_floor, 0x9c, f64, f64, f64_floor(a))                                                \
	UN(f64_trunc, 0x9d, f64, f64, f64_trunc(a))                                                \
	UN(f64_nearest, 0x9e, f64, f64, f64_nearest(a))                                            \
	UN(f64_sqrt, 0x9f, f64, f64, sqrt(a))                                                      \
	BIN(f64_add, 0xa0, f64, f64, a + b)                                                        \
	BIN(f64_sub, 0xa1, f64, f64, a - b)                                                        \
	BIN(f64_mul, 0xa2, f64, f64, a *b)                                                         \
	BIN(f64_div, 0xa3, f64, f64, a / b)                                                        \
	BIN(f64_min, 0xa4, f64, f64, f64_min(a, b))                                                \
	BIN(f64_max, 0xa5, f64, f64, f64_max(a, b))                                                \
	BIN(f64_copysign, 0xa6, f64, f64, f64_copysign(a, b))                                      \
	UN(i32_wrap_i64, 0xa7, i64, i32, (uint32_t)a)                                              \
	UN_T(i32_trunc_f32_s, 0xa8, f32, i32)                                                      \
	UN_T(i32_trunc_f32_u, 0xa9, f32, i32)                                                      \
	UN_T(i32_trunc_f64_s, 0xaa, f64, i32)                                                      \
	UN_T(i32_trunc_f64_u, 0xab, f64, i32)                                                      \
	UN(i64_extend_i32_s, 0xac, i32, i64, (uint64_t)(int64_t)(int32_t)a)                        \
	UN(i64_extend_i32_u, 0xad, i32, i64, (uint64_t)a)                                          \
	UN_T(i64_trunc_f32_s, 0xae, f32, i64)                                                      \
	UN_T(i64_trunc_f32_u, 0xaf, f32, i64)                                                      \
	UN_T(i64_trunc_f64_s, 0xb0, f64, i64)                                                      \
	UN_T(i64_trunc_f64_u, 0xb1, f64, i64)                                                      \
	UN(f32_convert_i32_s, 0xb2, i32, f32, (float)(int32_t)a)                                   \
	UN(f32_convert_i32_u, 0xb3, i32, f32, (float)a)                                            \
	UN(f32_convert_i64_s, 0xb4, i64, f32, (float)(int64_t)a)                                   \
	UN(f32_convert_i64_u, 0xb5, i64, f32, (float)a)                                            \
	UN(f32_demote_f64, 0xb6, f64, f32, (float)a)                                               \
	UN(f64_convert_i32_s, 0xb7, i32, f64, (double)(int32_t)a)                                  \
	UN(f64_convert_i32_u, 0xb8, i32, f64, (double)a)                                           \
	UN(f64_convert_i64_s, 0xb9, i64, f64, (double)(int64_t)a)                                  \
	UN(f64_convert_i64_u, 0xba, i64, f64, (double)a)                                           \
	UN(f64_promote_f32, 0xbb, f32, f64, (double)a)                                             \
	UN(i32_reinterpret_f32, 0xbc, f32, i32, f32_bits(a))                                       \
	UN(i64_reinterpret_f64, 0xbd, f64, i64, f64_bits(a))                                       \
	UN(f32_reinterpret_i32, 0xbe, i32, f32, f32_from(a))                                       \
	UN(f64_reinterpret_i64, 0xbf, i64, f64, f64_from(a))                                       \
	UN(i32_extend8_s, 0xc0, i32, i32, (uint32_t)(int32_t)(int8_t)a)                            \
	UN(i32_extend16_s, 0xc1, i32, i32, (uint32_t)(int32_t)(int16_t)a)                          \
	UN(i64_extend8_s, 0xc2, i64, i64, (uint64_t)(int64_t)(int8_t)a)                            \
	UN(i64_extend16_s, 0xc3, i64, i64, (uint64_t)(int64_t)(int16_t)a)                          \
	UN(i64_extend32_s, 0xc4, i64, i64, (uint64_t)(int64_t)(int32_t)a)                          \
	UN(i32_trunc_sat_f32_s, 0xfc00, f32, i32, sat_i32_s((double)a))                            \
	UN(i32_trunc_sat_f32_u, 0xfc01, f32, i32, sat_i32_u((double)a))                            \
	UN(i32_trunc_sat_f64_s, 0xfc02, f64, i32, sat_i32_s(a))                                    \
	UN(i32_trunc_sat_f64_u, 0xfc03, f64, i32, sat_i32_u(a))                                    \
	UN(i64_trunc_sat_f32_s, 0xfc04, f32, i64, sat_i64_s((double)a))                            \
	UN(i64_trunc_sat_f32_u, 0xfc05, f32, i64, sat_i64_u((double)a))                            \
	UN(i64_trunc_sat_f64_s, 0xfc06, f64, i64, sat_i64_s(a))                                    \
	UN(i64_trunc_sat_f64_u, 0xfc07, f64, i64, sat_i64_u(a))

/* Loads and stores: name, opcode, value type, bytes, C access type. */
#define WASM_MEMORY_OPS(LOAD, STORE)                                                               \
	LOAD(i32_load, 0x28, i32, 4, uint32_t, uint32_t)                                           \
	LOAD(i64_load, 0x29, i64, 8, uint64_t, uint64_t)                                           \
	LOAD(f32_load, 0x2a, f32, 4, uint32_t, uint32_t)                                           \
	LOAD(f64_load, 0x2b, f64, 8, uint64_t, uint64_t)                                           \
	LOAD(i32_load8_s, 0x2c, i32, 1, int8_t, uint32_t)                                          \
	LOAD(i32_load8_u, 0x2d, i32, 1, uint8_t, uint32_t)                                         \
	LOAD(i32_load16_s, 0x2e, i32, 2, int16_t, uint32_t)                                        \
	LOAD(i32_load16_u, 0x2f, i32, 2, uint16_t, uint32_t)                                       \
	LOAD(i64_load8_s, 0x30, i64, 1, int8_t, uint64_t)                                          \
	LOAD(i64_load8_u, 0x31, i64, 1, uint8_t, uint64_t)                                         \
	LOAD(i64_load16_s, 0x32, i64, 2, int16_t, uint64_t)                                        \
	LOAD(i64_load16_u, 0x33, i64, 2, uint16_t, uint64_t)                                       \
	LOAD(i64_load32_s, 0x34, i64, 4, int32_t, uint64_t)                                        \
	LOAD(i64_load32_u, 0x35, i64, 4, uint32_t, uint64_t)                                       \
	STORE(i32_store, 0x36, i32, 4, uint32_t)                                                   \
	STORE(i64_store, 0x37, i64, 8, uint64_t)                                                   \
	STORE(f32_store, 0x38, f32, 4, uint32_t)                                                   \
	STORE(f64_store, 0x39, f64, 8, uint64_t)                                                   \
	STORE(i32_store8, 0x3a, i32, 1, uint8_t)                                                   \
	STORE(i32_store16, 0x3b, i32, 2, uint16_t)                                                 \
	STORE(i64_store8, 0x3c, i64, 1, uint8_t)                                                   \
	STORE(i64_store16, 0x3d, i64, 2, uint16_t)                                                 \
	STORE(i64_store32, 0x3e, i64, 4, uint32_t)

/* Every operation of the internal form. */
#define WASM_CONTROL_OPS(X)                                                                        \
	X(unreachable)                                                                             \
	X(nop)                                                                                     \
	X(br)                                                                                      \
	X(br_if)                                                                                   \
	X(br_unless)                                                                               \
	X(br_table)                                                                                \
	X(loop)                                                                                    \
	X(ret)                                                                                     \
	X(call)                                                                                    \
	X(call_indirect)                                                                           \
	X(copy)                                                                                    \
	X(copy128)                                                                                 \
	X(const64)                                                                                 \
	X(const128)                                                                                \
	X(select)                                                                                  \
	X(select128)                                                                               \
	X(global_get)                                                                              \
	X(global_set)                                                                              \
	X(global_get128)                                                                           \
	X(global_set128)                                                                           \
	X(memory_size)                                                                             \
	X(memory_grow)                                                                             \
	X(memory_fill)                                                                             \
	X(memory_copy)                                                                             \
	X(memory_init)                                                                             \
	X(data_drop)                                                                               \
	X(table_get)                                                                               \
	X(table_set)                                                                               \
	X(table_size)                                                                              \
	X(table_grow)                                                                              \
	X(table_fill)                                                                              \
	X(table_copy)                                                                              \
	X(table_init)                                                                              \
	X(elem_drop)                                                                               \
	X(ref_is_null)                                                                             \
	X(ref_func)                                                                                \
	X(selk)                                                                                    \
	X(i32_add3)                                                                                \
	X(i8x16_shuffle)

/* Fused i32 compare-and-branch: name, C condition on a, b (uint32_t),
 * name of the inverse comparison. */
#define WASM_BRANCH_CMPS(X)                                                                        \
	X(eq, a == b, ne)                                                                          \
	X(ne, a != b, eq)                                                                          \
	X(lt_s, (int32_t)a < (int32_t)b, ge_s)                                                     \
	X(lt_u, a < b, ge_u)                                                                       \
	X(gt_s, (int32_t)a > (int32_t)b, le_s)                                                     \
	X(gt_u, a > b, le_u)                                                                       \
	X(le_s, (int32_t)a <= (int32_t)b, gt_s)                                                    \
	X(le_u, a <= b, gt_u)                                                                      \
	X(ge_s, (int32_t)a >= (int32_t)b, lt_s)                                                    \
	X(ge_u, a >= b, lt_u)

/* i32 operations that take their second operand straight from memory (an
 * i32.load just before, folded in): name, C expression of a, b. */
#define WASM_LDBIN_OPS(X)                                                                          \
	X(add, a + b)                                                                              \
	X(sub, a - b)                                                                              \
	X(mul, a *b)                                                                               \
	X(and, a &b)                                                                               \
	X(or, a | b)                                                                               \
	X(xor, a ^ b)

/* Fused memory operations, each checked and unchecked (_g):
 * dst = load(p) OP load(q) and store(p, x + y). */
#define WASM_FUSED_MEM_OPS(X) X(i32_add_ldld) X(i32_mul_ldld) X(i32_store_add)

/* Every load has four forms, every store two: bounds-checked, and
 * unchecked (_g) for memories whose guard region makes the check free;
 * instantiation picks the form (RELOC_MEMOP). */
#define OPENUM_X(n)        OP_##n,
#define OPENUM_BIN(n, ...) OP_##n, OP_##n##_imm,
#define OPENUM_UN(n, ...)  OP_##n,
#define OPENUM_LS(n, ...)  OP_##n, OP_##n##_g,
#define OPENUM_LD(n, ...)  OP_##n, OP_##n##_ai, OP_##n##_g, OP_##n##_ai_g,
#define OPENUM_LDBIN(n, ...)                                                                       \
	OP_i32_##n##_ld, OP_i32_##n##_ldai, OP_i32_##n##_ld_g, OP_i32_##n##_ldai_g,
#define OPENUM_BR(n, ...)    OP_br_##n, OP_br_##n##_imm,
#define OPENUM_SIMD(n, ...)  OP_##n,
#define OPENUM_ADDBR(n, ...) OP_addi_br_##n,
#define OPENUM_SELK(n, ...)  OP_selk_##n,
#define OPENUM_FM(n)         OP_##n, OP_##n##_g,
enum wasm_op {
	WASM_CONTROL_OPS(OPENUM_X) WASM_NUMERIC_OPS(OPENUM_BIN, OPENUM_UN, OPENUM_BIN, OPENUM_UN)
	    WASM_MEMORY_OPS(OPENUM_LD, OPENUM_LS) WASM_BRANCH_CMPS(OPENUM_BR)
	        WASM_BRANCH_CMPS(OPENUM_ADDBR) WASM_BRANCH_CMPS(OPENUM_SELK)
	            WASM_LDBIN_OPS(OPENUM_LDBIN) WASM_FUSED_MEM_OPS(OPENUM_FM)
	                WASM_SIMD_OPS(OPENUM_SIMD) OP_COUNT_
};

#endif
