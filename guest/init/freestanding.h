/* SPDX-License-Identifier: Apache-2.0 */
/*
 * System calls and a few helpers for capsa's freestanding guest inits (the demo
 * init and the slow tests' inits): no libc, no SSE. One source, two builds:
 *   -m32: int $0x80 (the only guest user space that works on paravirtual KVM
 *         hosts), with the direct socket system calls of Linux 4.3 and later
 *   -m64: syscall (hosts with VMX/SVM)
 * The including file defines `void init_main(long *sp)`; sp points at the
 * initial stack (argc, argv..., envp...).
 */
#ifndef CAPSA_GUEST_FREESTANDING_H
#define CAPSA_GUEST_FREESTANDING_H

typedef unsigned long ulong;

#if defined(__i386__)
enum {
	NR_exit = 1,
	NR_read = 3,
	NR_write = 4,
	NR_open = 5,
	NR_close = 6,
	NR_mount = 21,
	NR_sync = 36,
	NR_mkdir = 39,
	NR_ioctl = 54,
	NR_reboot = 88,
	NR_fsync = 118,
	NR_nanosleep = 162,
	NR_socket = 359,
	NR_bind = 361,
	NR_connect = 362,
	NR_listen = 363,
	NR_accept4 = 364,
	NR_setsockopt = 366,
	NR_shutdown = 373,
};

static inline long sys5(long nr, long a, long b, long c, long d, long e)
{
	long r;
	__asm__ volatile("int $0x80"
	                 : "=a"(r)
	                 : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
	                 : "memory");
	return r;
}

__asm__(".text\n.globl _start\n_start:\n\txorl %ebp, %ebp\n\tmovl %esp, %eax\n"
        "\tandl $-16, %esp\n\tsubl $12, %esp\n\tpushl %eax\n\tcall init_main\n"
        "1:\thlt\n\tjmp 1b\n");
#elif defined(__x86_64__)
enum {
	NR_read = 0,
	NR_write = 1,
	NR_open = 2,
	NR_close = 3,
	NR_ioctl = 16,
	NR_nanosleep = 35,
	NR_socket = 41,
	NR_connect = 42,
	NR_shutdown = 48,
	NR_bind = 49,
	NR_listen = 50,
	NR_setsockopt = 54,
	NR_exit = 60,
	NR_fsync = 74,
	NR_mkdir = 83,
	NR_sync = 162,
	NR_mount = 165,
	NR_reboot = 169,
	NR_accept4 = 288,
};

static inline long sys5(long nr, long a, long b, long c, long d, long e)
{
	long r;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	__asm__ volatile("syscall"
	                 : "=a"(r)
	                 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
	                 : "rcx", "r11", "memory");
	return r;
}

__asm__(".text\n.globl _start\n_start:\n\txorl %ebp, %ebp\n\tmovq %rsp, %rdi\n"
        "\tandq $-16, %rsp\n\tcall init_main\n1:\thlt\n\tjmp 1b\n");
#else
#error "x86 only"
#endif

#define sys(nr, a, b, c) sys5(nr, (long)(a), (long)(b), (long)(c), 0, 0)

#define O_RDONLY                 0
#define O_WRONLY                 01
#define O_RDWR                   02
#define O_CREAT                  0100
#define O_TRUNC                  01000
#define LINUX_REBOOT_MAGIC1      0xfee1dead
#define LINUX_REBOOT_MAGIC2      672274793
#define LINUX_REBOOT_CMD_RESTART 0x01234567

void init_main(long *sp);

static inline ulong slen(const char *s)
{
	ulong n = 0;
	while (s[n])
		n++;
	return n;
}

static inline void say(long fd, const char *s)
{
	sys(NR_write, fd, s, slen(s));
}

/* A signed decimal number. */
static inline void say_num(long fd, long v)
{
	char b[24];
	int i = 23, neg = v < 0;
	ulong u = neg ? (ulong)-v : (ulong)v;
	b[i] = 0;
	do
		b[--i] = (char)('0' + u % 10);
	while ((u /= 10) && i > 1);
	if (neg)
		b[--i] = '-';
	say(fd, b + i);
}

/* Wait until what was written to the terminal fd has gone out (tcdrain:
 * TCSBRK with a non-zero argument). A write to the console returns once
 * the tty holds the bytes; without this, the kernel's own messages on the
 * way down (printed at once) can overtake the end of the last line. */
static inline void drain(long fd)
{
	sys5(NR_ioctl, fd, 0x5409 /* TCSBRK */, 1, 0, 0);
}

/* Restart the machine (the VMM ends the VM on the reset). */
static inline void restart(void)
{
	sys5(NR_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_RESTART, 0, 0);
}

#endif
