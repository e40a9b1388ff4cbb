/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/sandbox.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/userfaultfd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* What a vCPU or console thread may do: run the vCPU and read its state,
 * raise interrupts, talk to the console and eventfds, lock, wait, allocate,
 * and do file I/O for device backends. */
static const int allowed[] = {
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(pread64),
    SCMP_SYS(pwrite64),
    SCMP_SYS(preadv),
    SCMP_SYS(pwritev),
    SCMP_SYS(preadv2),
    SCMP_SYS(pwritev2),
    SCMP_SYS(fsync),
    SCMP_SYS(fdatasync),
    SCMP_SYS(fallocate),
    SCMP_SYS(lseek),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(futex),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigtimedwait),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(madvise),
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mprotect),
    SCMP_SYS(mremap),
    SCMP_SYS(brk),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(sched_yield),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(gettid),
    SCMP_SYS(getpid),
    SCMP_SYS(tgkill),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(io_uring_enter),
    SCMP_SYS(getrandom),
};

static const int socket_calls[] = {
    SCMP_SYS(socket),     SCMP_SYS(connect),     SCMP_SYS(bind),        SCMP_SYS(listen),
    SCMP_SYS(accept4),    SCMP_SYS(accept),      SCMP_SYS(sendto),      SCMP_SYS(recvfrom),
    SCMP_SYS(sendmsg),    SCMP_SYS(recvmsg),     SCMP_SYS(shutdown),    SCMP_SYS(setsockopt),
    SCMP_SYS(getsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(close),
    SCMP_SYS(fcntl),      SCMP_SYS(epoll_ctl),
};

static const unsigned long ioctls[] = {
    KVM_RUN,        KVM_IRQ_LINE, KVM_GET_REGS, KVM_GET_SREGS, KVM_TRANSLATE, KVM_IRQ_LINE_STATUS,
    KVM_SIGNAL_MSI, KVM_GET_FPU,  KVM_GET_MSRS, KVM_GET_LAPIC,
};

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	/* async-signal-safe: build the line by hand */
	char msg[96] = "capsa: a VMM thread made a system call outside its seccomp policy: ";
	size_t n = strlen(msg);
	int nr = si->si_syscall;
	char digits[12];
	int d = 0;
	do {
		digits[d++] = (char)('0' + nr % 10);
		nr /= 10;
	} while (nr && d < 11);
	while (d && n < sizeof(msg) - 2)
		msg[n++] = digits[--d];
	msg[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, msg, n);
	(void)w;
	_exit(1);
}

int sandbox_init(struct err *e)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL))
		return err_sys(e, "installing the SIGSYS handler");
	return 0;
}

int sandbox_enter_thread(unsigned extra, struct err *e)
{
	const char *off = getenv("CAPSA_NO_SECCOMP");
	if (off && *off && strcmp(off, "0"))
		return 0;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return err_set(e, ERR_SYSTEM, "seccomp_init failed");
	int rc = 0;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	for (size_t i = 0; (extra & SANDBOX_SOCKETS) &&
	                   i < sizeof(socket_calls) / sizeof(socket_calls[0]) && rc == 0;
	     i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, socket_calls[i], 0);
	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]) && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		                      SCMP_A1(SCMP_CMP_EQ, ioctls[i]));
	static const unsigned long net_ioctls[] = {TUNSETOFFLOAD, FIONREAD};
	for (size_t i = 0; (extra & SANDBOX_NET) && i < 2 && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		                      SCMP_A1(SCMP_CMP_EQ, net_ioctls[i]));
	static const unsigned long uffd_ioctls[] = {UFFDIO_COPY, UFFDIO_ZEROPAGE, UFFDIO_WAKE};
	for (size_t i = 0; (extra & SANDBOX_UFFD) && i < 3 && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		                      SCMP_A1(SCMP_CMP_EQ, uffd_ioctls[i]));
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc)
		return err_errno(e, rc, "loading the VMM thread seccomp filter");
	return 0;
}
