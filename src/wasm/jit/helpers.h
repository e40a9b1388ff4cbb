/* SPDX-License-Identifier: Apache-2.0 */
/* Runtime functions compiled code calls (helpers.c). Operands come in
 * args[] (the caller's operand slots); a trap unwinds to the entry. */
#ifndef CAPSA_WASM_JIT_HELPERS_H
#define CAPSA_WASM_JIT_HELPERS_H

#include <stdint.h>

#include "wasm/jit/jc.h"

typedef uint64_t jit_helper_fn(struct jit_ctx *ctx, void *p1, void *p2, uint64_t *args);

jit_helper_fn jit_h_memory_init, jit_h_data_drop, jit_h_memory_copy, jit_h_memory_fill,
    jit_h_table_init, jit_h_elem_drop, jit_h_table_copy, jit_h_table_grow, jit_h_table_fill,
    jit_h_table_get, jit_h_table_set, jit_h_memory_grow;

void jit_h_call(struct jit_ctx *ctx, struct capsa_wasm_func *f, uint64_t *cells,
                struct capsa_wasm_instance *caller);
void jit_h_sigcheck(struct jit_ctx *ctx, struct capsa_wasm_func *f, const struct wtype *want);
_Noreturn void jit_h_trap(struct jit_ctx *ctx, int code, uintptr_t pc);
void jit_h_fuel(struct jit_ctx *ctx, uintptr_t pc);

#endif
