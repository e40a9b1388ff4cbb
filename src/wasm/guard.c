/* SPDX-License-Identifier: Apache-2.0 */
/* Out-of-bounds accesses to guarded linear memories (memory.c) fault; this
 * turns such a fault into a wasm trap. Every interpreter entry pushes a
 * context (a jump buffer and the memory its current function uses) on a
 * per-thread list; the SIGSEGV/SIGBUS handler, running on a per-thread
 * alternate stack, jumps back to the innermost context when the faulting
 * address lies in that memory's reservation. Any other fault goes to the
 * handler that was installed before (an embedder's), or, if that was the
 * default, is re-raised with the default action so the process dies as it
 * would have. The handler is checked (and put back, chaining to whatever
 * replaced it) each time a guarded memory is created; an embedder that
 * replaces it while memories exist must chain to the previous handler for
 * wasm traps to keep working. */
#include "wasm/guard.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <ucontext.h>

#define ALT_STACK_BYTES (64u << 10)

static pthread_once_t guard_once = PTHREAD_ONCE_INIT;
static int guard_ok = -1, key_ok;
static struct sigaction old_segv, old_bus;
static pthread_key_t alt_key;
/* Innermost interpreter entry on this thread (signal handlers are per
 * process, faults are per thread). */
static __thread struct wasm_guard_ctx *guard_cur;
static __thread int alt_installed;

static void chain(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *old = sig == SIGBUS ? &old_bus : &old_segv;
	if (old->sa_flags & SA_SIGINFO) {
		old->sa_sigaction(sig, si, uc);
		return;
	}
	if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
		old->sa_handler(sig);
		return;
	}
	/* Default action: restore it; a fault re-executes and dies as usual,
	 * a signal that was sent is sent again. */
	signal(sig, SIG_DFL);
	if (si->si_code <= 0)
		raise(sig);
}

static void save_regs(struct wasm_guard_ctx *c, const void *ucv)
{
	const ucontext_t *uc = ucv;
	c->nregs = 0;
#if defined(__x86_64__)
	for (unsigned i = 0; i < NGREG && i < WASM_GUARD_NREGS; i++)
		c->regs[c->nregs++] = (uintptr_t)uc->uc_mcontext.gregs[i];
#elif defined(__aarch64__)
	for (unsigned i = 0; i < 31 && i < WASM_GUARD_NREGS; i++)
		c->regs[c->nregs++] = (uintptr_t)uc->uc_mcontext.regs[i];
#else
	(void)uc;
#endif
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	struct wasm_guard_ctx *c = guard_cur;
	if (c && si->si_code > 0 && c->resume && c->resume(c, uc, CAPSA_WASM_TRAP_MEMORY_OOB))
		return;
	if (c && si->si_code > 0) {
		const struct capsa_wasm_memory *m = c->mem;
		uintptr_t a = (uintptr_t)si->si_addr;
		if (m && m->guarded && a >= (uintptr_t)m->base &&
		    a - (uintptr_t)m->base < m->reserved) {
			save_regs(c, uc);
			siglongjmp(c->jb, 1);
		}
	}
	chain(sig, si, uc);
}

static void free_alt_stack(void *p)
{
	stack_t ss = {.ss_flags = SS_DISABLE};
	sigaltstack(&ss, NULL);
	munmap(p, ALT_STACK_BYTES);
}

static void make_key(void)
{
	if (pthread_key_create(&alt_key, free_alt_stack) == 0)
		key_ok = 1;
}

/* Installs on_fault for sig unless it is installed already; the handler in
 * place before (possibly one an embedder or a test framework installed
 * after the last check) becomes the one faults outside wasm go to. */
static int install(int sig, struct sigaction *old)
{
	struct sigaction cur, sa = {0};
	if (sigaction(sig, NULL, &cur))
		return -1;
	if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_fault)
		return 0;
	sa.sa_sigaction = on_fault;
	/* SA_NODEFER: jumping out of the handler leaves the mask as it was,
	 * so the jump buffer need not save it (no system call per entry). */
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	*old = cur;
	return sigaction(sig, &sa, NULL);
}

int wasm_guard_init(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_once(&guard_once, make_key);
	if (!key_ok)
		return -1;
	pthread_mutex_lock(&lock);
	int rc = install(SIGSEGV, &old_segv) || install(SIGBUS, &old_bus) ? -1 : 0;
	if (rc == 0)
		guard_ok = 0;
	pthread_mutex_unlock(&lock);
	return rc;
}

/* A fault on a thread without an alternate stack would still be handled on
 * its own stack, but one that overflowed that stack could not be. */
static void ensure_alt_stack(void)
{
	stack_t cur;
	alt_installed = 1;
	if (sigaltstack(NULL, &cur) || !(cur.ss_flags & SS_DISABLE))
		return;
	void *p = mmap(NULL, ALT_STACK_BYTES, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (p == MAP_FAILED)
		return;
	stack_t ss = {.ss_sp = p, .ss_size = ALT_STACK_BYTES, .ss_flags = 0};
	if (sigaltstack(&ss, NULL)) {
		munmap(p, ALT_STACK_BYTES);
		return;
	}
	pthread_setspecific(alt_key, p);
}

void wasm_guard_push(struct wasm_guard_ctx *c)
{
	c->mem = NULL;
	c->func = NULL;
	c->nregs = 0;
	c->resume = NULL;
	c->prev = guard_cur;
	if (guard_ok == 0 && !alt_installed)
		ensure_alt_stack();
	guard_cur = c;
}

void wasm_guard_pop(struct wasm_guard_ctx *c)
{
	guard_cur = c->prev;
}

struct wasm_guard_ctx *wasm_guard_current(void)
{
	return guard_cur;
}
