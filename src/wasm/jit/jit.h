/* SPDX-License-Identifier: Apache-2.0 */
/* The compiler to x86-64 machine code: what the rest of the runtime sees. */
#ifndef CAPSA_WASM_JIT_H
#define CAPSA_WASM_JIT_H

#include <stdint.h>

#include "wasm/internal.h"

struct jit_store;

/* Whether this host can run compiled code (x86-64 with SSE4.1, POPCNT,
 * LZCNT and BMI1). */
int wasm_jit_host_ok(void);
/* Modules with at least this many bytes of function bodies are compiled
 * on two threads when a CPU is idle (docs/wasm.md, "Compile speed"). */
#define WASM_JIT_PARALLEL_BYTES (96u << 10)
/* Prepares a new instance: its functions are compiled on their first
 * call, or (eager stores) every function now; those the compiler does not
 * take stay interpreted. 0 or -1 with e set when out of memory. */
int wasm_jit_instance(struct capsa_wasm_store *s, struct capsa_wasm_instance *in, struct err *e);
/* Makes store s compile every function of its next instances at
 * instantiation (as CAPSA_JIT_DUMP does); 0 or -1 with e set. */
int wasm_jit_eager(struct capsa_wasm_store *s, struct err *e);
/* How many threads compile an instance whole: 0 decides by its size and
 * the host's idle CPUs (the default), 1 one thread, 2 two threads whenever
 * it has two functions or more; 0 or -1 with e set. */
int wasm_jit_threads(struct capsa_wasm_store *s, int n, struct err *e);
/* Whether wasm_jit_call runs f's machine code now: f is compiled, and its
 * code counts fuel or the store has no fuel limit (code compiled without
 * fuel checks leaves a metered call to the interpreter). */
int wasm_jit_runs(const struct capsa_wasm_store *s, const struct capsa_wasm_func *f);
/* Calls a compiled function (f->jit != NULL) like wasm_interp_call. */
enum capsa_wasm_trap wasm_jit_call(struct capsa_wasm_store *s, struct capsa_wasm_func *f,
                                   uint64_t *cells, struct capsa_wasm_trap_info *info);
void wasm_jit_store_free(struct jit_store *js);
/* Interrupts through a signal (intr.c): installs the handler once per
 * process (0 on success); marks the calling thread as running the store's
 * compiled code, and no longer; sends the signal to that thread, if any
 * (async-signal-safe, like capsa_wasm_store_interrupt). */
int wasm_jit_intr_init(void);
void wasm_jit_intr_enter(struct capsa_wasm_store *s);
void wasm_jit_intr_leave(struct capsa_wasm_store *s);
void wasm_jit_intr_send(struct capsa_wasm_store *s);
/* Functions of the instance left to the interpreter (0 when the store
 * interprets everything); compiles those not compiled yet first. */
uint32_t wasm_jit_uncompiled(const struct capsa_wasm_instance *in);

#endif
