/* SPDX-License-Identifier: Apache-2.0 */
/* The native side: a child process, sandboxed with seccomp strict mode
 * (read, write, exit, sigreturn only), maps the code page and the data
 * buffer at DT_CODE/DT_DATA and runs each sequence it reads from a socket
 * between a prologue that loads every register from a state block and an
 * epilogue that stores them back. A CPU exception becomes a signal whose
 * handler records the faulting state (trap number, registers) and resumes
 * in the epilogue's return path. */
#include "dt.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>
#include <linux/seccomp.h>

_Static_assert(offsetof(struct dt_regs, rflags) == 128, "asm offsets");
_Static_assert(offsetof(struct dt_regs, mxcsr) == 144, "asm offsets");
_Static_assert(offsetof(struct dt_regs, xmm) == 152, "asm offsets");

struct dt_native_req {
	uint32_t len;
	uint8_t code[DT_SEQ_MAX];
	struct dt_regs init;
	uint8_t data[DT_DATA_SIZE];
};

/* Shared with the assembly below (the child's copies). */
struct dt_regs dt_native_out __attribute__((used));
uint64_t dt_native_host_rsp __attribute__((used));
uint64_t dt_native_seq_addr __attribute__((used)) = DT_SEQ;
uint8_t dt_native_stack[256] __attribute__((used, aligned(16)));
/* The child's own code runs with every SSE exception masked again. */
uint32_t dt_native_mxcsr_default __attribute__((used)) = 0x1f80;
void dt_native_enter(const struct dt_regs *in);
void dt_native_exit(void);
void dt_native_resume(void);

#define XMM_LOAD(i)     "movdqu " #i "*16+152(%rdi), %xmm" #i "\n"
#define XMM_STORE(i)    "movdqu %xmm" #i ", dt_native_out+" #i "*16+152(%rip)\n"
#define GPR_STORE(r, i) "mov %" #r ", dt_native_out+" #i "*8(%rip)\n"
#define HOST_RETURN                                                                                \
	"cld\n"                                                                                    \
	"mov dt_native_host_rsp(%rip), %rsp\n"                                                     \
	"pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n ret\n"

__asm__(
    ".text\n"
    ".globl dt_native_enter\n"
    ".type dt_native_enter, @function\n"
    "dt_native_enter:\n"
    "push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "mov %rsp, dt_native_host_rsp(%rip)\n"
    "ldmxcsr 144(%rdi)\n" XMM_LOAD(0) XMM_LOAD(1) XMM_LOAD(2) XMM_LOAD(3) XMM_LOAD(4) XMM_LOAD(
        5) XMM_LOAD(6) XMM_LOAD(7) XMM_LOAD(8) XMM_LOAD(9) XMM_LOAD(10) XMM_LOAD(11) XMM_LOAD(12)
        XMM_LOAD(13) XMM_LOAD(14) XMM_LOAD(
            15) "lea 128(%rdi), %rsp\n"
                "popfq\n"
                "mov 0(%rdi), %rax\n mov 8(%rdi), %rcx\n mov 16(%rdi), %rdx\n mov 24(%rdi), %rbx\n"
                "mov 32(%rdi), %rsp\n mov 40(%rdi), %rbp\n mov 48(%rdi), %rsi\n"
                "mov 64(%rdi), %r8\n mov 72(%rdi), %r9\n mov 80(%rdi), %r10\n mov 88(%rdi), %r11\n"
                "mov 96(%rdi), %r12\n mov 104(%rdi), %r13\n mov 112(%rdi), %r14\n"
                "mov 120(%rdi), %r15\n mov 56(%rdi), %rdi\n"
                "jmp *dt_native_seq_addr(%rip)\n"
                ".globl dt_native_exit\n"
                "dt_native_exit:\n" GPR_STORE(rax, 0) GPR_STORE(rcx, 1) GPR_STORE(rdx, 2) GPR_STORE(
                    rbx, 3) GPR_STORE(rsp, 4) GPR_STORE(rbp, 5) GPR_STORE(rsi, 6) GPR_STORE(rdi, 7)
                    GPR_STORE(r8, 8) GPR_STORE(r9, 9) GPR_STORE(r10, 10) GPR_STORE(r11, 11)
                        GPR_STORE(r12, 12) GPR_STORE(r13, 13) GPR_STORE(r14, 14)
                            GPR_STORE(r15,
                                      15) "lea dt_native_stack+256(%rip), %rsp\n"
                                          "pushfq\n pop %rax\n mov %rax, dt_native_out+128(%rip)\n"
                                          "stmxcsr dt_native_out+144(%rip)\n"
                                          "ldmxcsr dt_native_mxcsr_default(%rip)\n" XMM_STORE(0)
                                              XMM_STORE(1) XMM_STORE(2) XMM_STORE(3) XMM_STORE(4)
                                                  XMM_STORE(5) XMM_STORE(6) XMM_STORE(7)
                                                      XMM_STORE(8) XMM_STORE(9) XMM_STORE(10)
                                                          XMM_STORE(11) XMM_STORE(12) XMM_STORE(13)
                                                              XMM_STORE(14) XMM_STORE(15)
                                                                  HOST_RETURN
    ".globl dt_native_resume\n"
    "dt_native_resume:\n" HOST_RETURN);

/* Child state set by the fault handler. */
static volatile int child_in_seq;
static volatile int child_vector; /* -1: none */
static volatile uint64_t child_err, child_cr2;
static uint8_t child_altstack[65536] __attribute__((aligned(16)));

static void raw_exit(int code)
{
	for (;;)
		syscall(SYS_exit, code);
}

/* glibc's greg order differs from the hardware encoding. */
static const int greg_of[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                REG_R12, REG_R13, REG_R14, REG_R15};

__attribute__((no_sanitize("address", "undefined"))) static void on_fault(int sig, siginfo_t *si,
                                                                          void *ctx)
{
	(void)si;
	ucontext_t *uc = ctx;
	greg_t *gr = uc->uc_mcontext.gregs;
	if (!child_in_seq)
		raw_exit(100 + sig);
	for (int i = 0; i < 16; i++)
		dt_native_out.gpr[i] = (uint64_t)gr[greg_of[i]];
	dt_native_out.rip = (uint64_t)gr[REG_RIP];
	dt_native_out.rflags = (uint64_t)gr[REG_EFL];
	if (uc->uc_mcontext.fpregs) {
		dt_native_out.mxcsr = uc->uc_mcontext.fpregs->mxcsr;
		uc->uc_mcontext.fpregs->mxcsr = dt_native_mxcsr_default;
		for (int i = 0; i < 16; i++)
			__builtin_memcpy(dt_native_out.xmm[i], &uc->uc_mcontext.fpregs->_xmm[i],
			                 16);
	}
	child_vector = (int)gr[REG_TRAPNO];
	child_err = (uint64_t)gr[REG_ERR];
	child_cr2 = (uint64_t)gr[REG_CR2];
	child_in_seq = 0;
	gr[REG_RIP] = (greg_t)(uintptr_t)dt_native_resume;
	gr[REG_RSP] = (greg_t)(uintptr_t)(dt_native_stack + 256);
	gr[REG_EFL] &= ~(greg_t)DT_DF;
}

static int xfer(int fd, void *buf, size_t len, int wr)
{
	uint8_t *p = buf;
	while (len) {
		long n = syscall(wr ? SYS_write : SYS_read, fd, p, len);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void child_main(int fd)
{
	static struct dt_native_req req;
	static struct dt_result res;
	void *code = mmap((void *)DT_CODE, DT_CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
	                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	void *data = mmap((void *)DT_DATA, DT_DATA_SIZE, PROT_READ | PROT_WRITE,
	                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (code != (void *)DT_CODE || data != (void *)DT_DATA)
		raw_exit(90);
	stack_t ss = {.ss_sp = child_altstack, .ss_size = sizeof(child_altstack)};
	struct sigaction sa = {.sa_sigaction = on_fault,
	                       .sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER};
	if (sigaltstack(&ss, NULL))
		raw_exit(91);
	int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL))
			raw_exit(92);
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
		raw_exit(93);
	for (;;) {
		if (xfer(fd, &req, sizeof(req), 0) || req.len > DT_SEQ_MAX)
			raw_exit(0);
		uint8_t *seq = (uint8_t *)DT_SEQ;
		__builtin_memcpy(seq, req.code, req.len);
		/* jmp *0(%rip) to the epilogue */
		static const uint8_t jmp[6] = {0xff, 0x25, 0, 0, 0, 0};
		uint64_t exit_addr = (uint64_t)(uintptr_t)dt_native_exit;
		__builtin_memcpy(seq + req.len, jmp, 6);
		__builtin_memcpy(seq + req.len + 6, &exit_addr, 8);
		__builtin_memcpy((void *)DT_DATA, req.data, DT_DATA_SIZE);
		child_vector = -1;
		child_in_seq = 1;
		dt_native_enter(&req.init);
		child_in_seq = 0;
		res.r = dt_native_out;
		res.end = child_vector < 0 ? DT_END_DONE : DT_END_EXCEPT;
		res.vector = child_vector;
		res.err = child_err;
		res.cr2 = child_cr2;
		if (child_vector < 0)
			res.r.rip = DT_SEQ + req.len;
		__builtin_memcpy(res.data, (void *)DT_DATA, DT_DATA_SIZE);
		if (xfer(fd, &res, sizeof(res), 1))
			raw_exit(0);
	}
}

struct dt_native {
	pid_t pid;
	int fd;
	int sent; /* the request went out */
	struct dt_native_req req;
};

static int spawn(struct dt_native *n, char *why, size_t whylen)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		snprintf(why, whylen, "socketpair: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		child_main(sv[1]);
		raw_exit(0);
	}
	close(sv[1]);
	n->pid = pid;
	n->fd = sv[0];
	return 0;
}

static void reap(struct dt_native *n, int *status)
{
	if (n->pid <= 0)
		return;
	close(n->fd);
	kill(n->pid, SIGKILL);
	waitpid(n->pid, status, 0);
	n->pid = -1;
}

struct dt_native *dt_native_start(char *why, size_t whylen)
{
	struct dt_native *n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if (spawn(n, why, whylen)) {
		free(n);
		return NULL;
	}
	return n;
}

static int io(int fd, void *buf, size_t len, int wr)
{
	uint8_t *p = buf;
	while (len) {
		struct pollfd pf = {.fd = fd, .events = wr ? POLLOUT : POLLIN};
		if (poll(&pf, 1, 5000) <= 0)
			return -1;
		ssize_t k = wr ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
		if (k <= 0) {
			if (k < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

void dt_native_submit(struct dt_native *n, const struct dt_seq *s)
{
	char why[128];
	n->sent = 0;
	if (n->pid <= 0 && spawn(n, why, sizeof(why)))
		return;
	n->req.len = s->len;
	memcpy(n->req.code, s->code, s->len);
	n->req.init = s->init;
	memcpy(n->req.data, s->data, DT_DATA_SIZE);
	n->sent = io(n->fd, &n->req, sizeof(n->req), 1) == 0;
}

int dt_native_run(struct dt_native *n, const struct dt_seq *s, struct dt_result *out)
{
	dt_native_submit(n, s);
	return dt_native_collect(n, out);
}

int dt_native_collect(struct dt_native *n, struct dt_result *out)
{
	if (n->pid <= 0)
		return -1;
	if (n->sent && io(n->fd, out, sizeof(*out), 0) == 0)
		return 0;
	int status = 0;
	reap(n, &status);
	memset(out, 0, sizeof(*out));
	out->end = DT_END_OTHER;
	if (WIFSIGNALED(status))
		snprintf(out->msg, sizeof(out->msg), "native child killed by signal %d",
		         WTERMSIG(status));
	else
		snprintf(out->msg, sizeof(out->msg), "native child exited with %d (or timed out)",
		         WEXITSTATUS(status));
	return 0;
}

void dt_native_stop(struct dt_native *n)
{
	if (!n)
		return;
	reap(n, &(int){0});
	free(n);
}
