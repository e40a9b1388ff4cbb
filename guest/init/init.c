/* SPDX-License-Identifier: Apache-2.0 */
/*
 * init (pid 1) of capsa's demo VM: mounts /proc and /sys, counts the online CPUs,
 * prints "capsa demo: Linux is up on N vCPUs" on /dev/console and restarts the machine
 * (the VMM ends the VM on the reset).
 *
 * Freestanding (no libc), no SSE, tiny: on paravirtual KVM hosts every system call
 * runs at emulated speed. One source, two builds:
 *   -m32: system calls with int $0x80 (the only guest user space that works on such hosts)
 *   -m64: system calls with syscall (hosts with VMX/SVM)
 */
#include "freestanding.h"

/* Reads a small file into buf (NUL-terminated); returns its length or -1. */
static long slurp(const char *path, char *buf, long size)
{
	long fd = sys(NR_open, path, O_RDONLY, 0), n = 0, k;
	if (fd < 0)
		return -1;
	while (n < size - 1 && (k = sys(NR_read, fd, buf + n, size - 1 - n)) > 0)
		n += k;
	sys(NR_close, fd, 0, 0);
	buf[n] = 0;
	return n;
}

static const char *num(const char *p, ulong *v)
{
	*v = 0;
	while (*p >= '0' && *p <= '9')
		*v = *v * 10 + (ulong)(*p++ - '0');
	return p;
}

/* "0-3,5,7-8\n" -> 7 */
static ulong count_cpu_list(const char *p)
{
	ulong n = 0, a, b;
	while (*p >= '0' && *p <= '9') {
		p = num(p, &a);
		b = a;
		if (*p == '-')
			p = num(p + 1, &b);
		if (b >= a)
			n += b - a + 1;
		if (*p != ',')
			break;
		p++;
	}
	return n;
}

/* Counts lines starting with "processor" in /proc/cpuinfo. */
static ulong count_cpuinfo(const char *p)
{
	static const char key[] = "processor";
	ulong n = 0;
	int bol = 1;
	for (; *p; p++) {
		if (bol) {
			ulong i = 0;
			while (key[i] && p[i] == key[i])
				i++;
			n += !key[i];
		}
		bol = *p == '\n';
	}
	return n;
}

static char *utoa(ulong v, char *end)
{
	*--end = 0;
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

void init_main(long *sp)
{
	(void)sp;
	static char buf[8192];
	char nbuf[24];
	long fd = sys(NR_open, "/dev/console", O_RDWR, 0);
	if (fd < 0)
		fd = 1;
	sys(NR_mkdir, "/proc", 0555, 0);
	sys(NR_mkdir, "/sys", 0555, 0);
	sys5(NR_mount, (long)"proc", (long)"/proc", (long)"proc", 0, 0);
	sys5(NR_mount, (long)"sysfs", (long)"/sys", (long)"sysfs", 0, 0);

	ulong cpus = 0;
	if (slurp("/sys/devices/system/cpu/online", buf, sizeof(buf)) > 0)
		cpus = count_cpu_list(buf);
	if (!cpus && slurp("/proc/cpuinfo", buf, sizeof(buf)) > 0)
		cpus = count_cpuinfo(buf);

	say(fd, "capsa demo: Linux is up on ");
	say(fd, cpus ? utoa(cpus, nbuf + sizeof(nbuf)) : "an unknown number of");
	say(fd, " vCPUs\n");
	drain(fd);
	restart();
	say(fd, "capsa demo: reboot failed\n");
	sys(NR_exit, 1, 0, 0); /* the kernel panics, and panic=-1 restarts */
}
