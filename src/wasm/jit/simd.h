/* SPDX-License-Identifier: Apache-2.0 */
/* Compiled SIMD (simd.c, simd_ops.c, simd_rt.c): v128 values live in XMM
 * registers and 16-byte frame homes; each instruction is a short SSE
 * sequence, or a call to its portable implementation on the 16 bytes. */
#ifndef CAPSA_WASM_JIT_SIMD_H
#define CAPSA_WASM_JIT_SIMD_H

#include <stdint.h>

#include "wasm/jit/jc.h"

/* The SSE extensions compiled code may use. CAPSA_WASM_JIT_SSE2=1 in the
 * environment limits it to SSE2 (tests of the portable path). */
enum { JS_SSE2, JS_SSSE3, JS_SSE41 };
int jit_simd_level(void);

/* The scratch area a portable implementation works on (offsets). */
enum { JS_A = 0, JS_B = 16, JS_C = 32, JS_S = 48, JS_L = 56, JS_LANES = 64 };

typedef void jit_simd_fn(uint8_t *scratch);
/* The portable implementation of a 0xfd instruction (NULL for memory
 * accesses, which compiled code composes from others). */
jit_simd_fn *jit_simd_generic(uint32_t sub);
/* Its shape (enum simd_shape in wasm/simd.h), -1 if there is none. */
int jit_simd_shape(uint32_t sub);
uint32_t jit_simd_stub(struct xbuf *b);

/* simd.c: the scratch area; the portable path of a non-memory instruction
 * on the operands on the stack. */
struct xm jc_scratch(struct jc *c, int off);
void jc_simd_generic(struct jc *c, uint32_t sub, uint32_t lane, const uint8_t *lanes);
/* simd_ops.c: SSE code for the instruction; 0, or -1 when it has none
 * at this level (the caller then takes the portable path). */
int jc_simd_fast(struct jc *c, uint32_t sub, uint32_t lane, const uint8_t *lanes, int level);

#endif
