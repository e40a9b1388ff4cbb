/* SPDX-License-Identifier: Apache-2.0 */
/* Interrupts of compiled code without fuel checks. Code compiled while the
 * store's fuel is unlimited has no check at function entries or loop back
 * edges; capsa_wasm_store_interrupt() stops it instead by sending
 * WASM_JIT_INTR_SIGNAL to the thread that runs the store's compiled code.
 * The handler, when the thread was executing a compiled function of an
 * interrupted store, moves it to the unwind stub with the trap "out of
 * fuel", the path a fault in a guard region takes (runtime.c, resume):
 * the trap ends the call, nothing resumes. Anywhere else (the runtime's
 * helpers, host functions, the interpreter) the handler does nothing and
 * the interrupt flag is seen there as before: the interpreter checks it
 * with each fuel slice, calls leaving compiled code check it when they
 * return, and blocking WASI calls wait on the interrupt descriptor.
 *
 * The handler is installed once per process; a handler for the signal
 * installed before gets every signal not meant for compiled code. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wasm/guard.h"
#include "wasm/jit/jit.h"

/* Ignored by default and otherwise rare in programs that embed a runtime;
 * documented in docs/wasm.md and include/capsa/wasm.h. */
#define WASM_JIT_INTR_SIGNAL SIGURG

static pthread_once_t intr_once = PTHREAD_ONCE_INIT;
static int intr_ok = -1;
static struct sigaction intr_old;

static void on_intr(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	struct wasm_guard_ctx *c = wasm_guard_current();
	if (c && c->resume && c->resume(c, uc, CAPSA_WASM_TRAP_OUT_OF_FUEL)) {
		errno = saved;
		return;
	}
	errno = saved;
	if (intr_old.sa_flags & SA_SIGINFO)
		intr_old.sa_sigaction(sig, si, uc);
	else if (intr_old.sa_handler != SIG_DFL && intr_old.sa_handler != SIG_IGN)
		intr_old.sa_handler(sig);
}

static void intr_install(void)
{
	struct sigaction sa = {0};
	sa.sa_sigaction = on_intr;
	/* SA_RESTART: a host call the signal meets goes on (those that wait
	 * also poll the interrupt descriptor). */
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	intr_ok = sigaction(WASM_JIT_INTR_SIGNAL, &sa, &intr_old) ? -1 : 0;
}

int wasm_jit_intr_init(void)
{
	pthread_once(&intr_once, intr_install);
	return intr_ok;
}

void wasm_jit_intr_enter(struct capsa_wasm_store *s)
{
	s->jit_tid = (int)syscall(SYS_gettid);
	/* Against capsa_wasm_store_interrupt: either it sees this thread, or
	 * the caller (wasm_jit_call) sees the store interrupted. */
	atomic_thread_fence(memory_order_seq_cst);
}

void wasm_jit_intr_leave(struct capsa_wasm_store *s)
{
	s->jit_tid = 0;
}

void wasm_jit_intr_send(struct capsa_wasm_store *s)
{
	atomic_thread_fence(memory_order_seq_cst);
	int tid = s->jit_tid;
	if (tid && intr_ok == 0)
		syscall(SYS_tgkill, (long)getpid(), (long)tid, (long)WASM_JIT_INTR_SIGNAL);
}
