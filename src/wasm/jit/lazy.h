/* SPDX-License-Identifier: Apache-2.0 */
/* Compiling functions on their first call (lazy.c). */
#ifndef CAPSA_WASM_JIT_LAZY_H
#define CAPSA_WASM_JIT_LAZY_H

#include "wasm/jit/jc.h"

/* Maps region rg of instance in and writes its stubs; every function's
 * entry (f->jit) compiles it when first called. 0, or -1 with e set (the
 * caller frees rg with jit_lazy_free and its mapping). */
int jit_lazy_region(struct jit_store *js, struct capsa_wasm_instance *in, struct jit_region *rg,
                    struct err *e);
void jit_lazy_free(struct jit_region *rg);
/* Compiles defined function i unless done (a function the compiler does
 * not take is left to the interpreter); compiles every function. */
void jit_lazy_compile(struct jit_region *rg, uint32_t i);
void jit_lazy_finish(struct jit_region *rg);
/* Called by the common stub with the slot of the entry stub taken. */
void jit_h_lazy(struct jit_ctx *ctx, struct jit_region *rg, void **slot);

#endif
