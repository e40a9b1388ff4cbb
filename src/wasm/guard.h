/* SPDX-License-Identifier: Apache-2.0 */
/* Faults in guarded linear memories become wasm traps (guard.c). */
#ifndef CAPSA_WASM_GUARD_H
#define CAPSA_WASM_GUARD_H

#include <setjmp.h>
#include <stdint.h>

#include "wasm/internal.h"

#define WASM_GUARD_NREGS 32

struct wasm_guard_ctx {
	sigjmp_buf jb;
	/* The memory the running function uses and that function, kept up to
	 * date by the interpreter at calls and returns. */
	const struct capsa_wasm_memory *volatile mem;
	struct capsa_wasm_func *volatile func;
	struct wasm_guard_ctx *prev;
	/* The general registers at the fault (none where the architecture is
	 * not known): the interpreter finds its instruction pointer among
	 * them to name the trapping instruction. */
	uintptr_t regs[WASM_GUARD_NREGS];
	unsigned nregs;
	/* Compiled code: given the signal context of any fault, moves one in
	 * its code to its trap path (trap code) and returns 1 (the handler then
	 * returns). */
	int (*resume)(struct wasm_guard_ctx *c, void *uc, int code);
	void *resume_env;
	/* The interpreter's fuel slice not yet spent, kept here (not in a
	 * register) so that a trap caught by a guard region gives it back. */
	volatile int64_t fuel_slice;
};

/* Installs the SIGSEGV/SIGBUS handler once per process; 0 on success. */
int wasm_guard_init(void);
/* Around each interpreter entry, after sigsetjmp(c->jb, 0). */
void wasm_guard_push(struct wasm_guard_ctx *c);
void wasm_guard_pop(struct wasm_guard_ctx *c);
/* The innermost context of the calling thread (NULL: none); for signal
 * handlers. */
struct wasm_guard_ctx *wasm_guard_current(void);

#endif
