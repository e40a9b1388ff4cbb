/* SPDX-License-Identifier: Apache-2.0 */
/* Compiling an instance whole at instantiation, on one thread or two
 * (whole.c). */
#ifndef CAPSA_WASM_JIT_WHOLE_H
#define CAPSA_WASM_JIT_WHOLE_H

#include <stdint.h>

#include "wasm/jit/jc.h"

/* Compiles every function of in into b (a mapping from the runtime's
 * map_room: the first half b->room long, as much again after it for a
 * second thread; or an empty buffer that grows), the shared stubs first,
 * labels[i] and labels[ndef + i] the entries of defined function i, and
 * compiled[i] whether it was compiled (else an interpreter stub). dump:
 * one thread (CAPSA_JIT_DUMP). *gap: where the unwritten pages between the
 * two threads' code start (0: none), unmapped by the caller. Fills rg's
 * sites and counts. 0 or -1 (out of memory, or more code than b's room). */
int jit_compile_all(struct jit_store *js, struct capsa_wasm_instance *in, struct xbuf *b,
                    struct jit_region *rg, uint32_t *labels, uint8_t *compiled, int dump,
                    size_t *gap);
/* The bytes of m's function bodies. */
uint64_t jit_bodies_len(const struct capsa_wasm_module *m);

/* Whether to compile an instance of m on two threads (wasm_jit_threads;
 * never for a dump, which is then the same every time): by default, when
 * its bodies have WASM_JIT_PARALLEL_BYTES or more and a CPU is idle now (on
 * a machine kept busy a second thread does not shorten the wall time,
 * docs/wasm.md "Compile speed"). Registers the signatures of m's types
 * first, so that the threads only look them up. */
int jit_want_helper(struct jit_store *js, const struct capsa_wasm_module *m, int dump);
/* The defined functions of m, largest bodies first: by size class (the
 * bit length of the size), in index order within a class. The threads
 * taking them in this order finish close together. Freed by the caller;
 * NULL when out of memory. */
uint32_t *jit_largest_first(const struct capsa_wasm_module *m);

#endif
