/* SPDX-License-Identifier: Apache-2.0 */
/* Compiling an instance on two threads: when, and in which order
 * (parallel.c). */
#ifndef CAPSA_WASM_JIT_PARALLEL_H
#define CAPSA_WASM_JIT_PARALLEL_H

#include <stdint.h>

#include "wasm/internal.h"

struct jit_store;

/* Whether to compile an instance of m on two threads (wasm_jit_threads;
 * never for a dump, which is then the same every time): by default, when
 * its bodies have WASM_JIT_PARALLEL_BYTES or more and a CPU is idle now (on
 * a machine kept busy a second thread does not shorten the wall time,
 * docs/wasm.md "Compile speed"). Registers the signatures of m's types
 * first, so that the threads only look them up. */
int jit_want_helper(struct jit_store *js, const struct capsa_wasm_module *m, int dump);
/* Whether a CPU this thread may run on is idle now: fewer tasks running
 * or ready to run (this one among them) than such CPUs. */
int jit_cpu_idle(void);
/* The defined functions of m, largest bodies first: by size class (the
 * bit length of the size), in index order within a class. The threads
 * taking them in this order finish close together. Freed by the caller;
 * NULL when out of memory. */
uint32_t *jit_largest_first(const struct capsa_wasm_module *m);

#endif
