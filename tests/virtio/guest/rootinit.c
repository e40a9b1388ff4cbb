/*
 * init (pid 1) for the slow virtio test: runs from an ext4 root on virtio-blk.
 * Prints /hello.txt, writes /written.txt (fsync), remounts / read-only so the
 * journal is checkpointed, and restarts the machine (capsa ends the VM).
 * Freestanding, no SSE; -m32 uses int $0x80 (paravirtual KVM hosts), -m64 syscall.
 */
typedef unsigned long ulong;

#if defined(__i386__)
enum {
	NR_read = 3,
	NR_write = 4,
	NR_open = 5,
	NR_close = 6,
	NR_sync = 36,
	NR_mount = 21,
	NR_reboot = 88,
	NR_fsync = 118
};
static long sc(long nr, long a, long b, long c, long d, long e)
{
	long r;
	__asm__ volatile("int $0x80"
	                 : "=a"(r)
	                 : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
	                 : "memory");
	return r;
}
__asm__(".text\n.globl _start\n_start:\n\tandl $-16, %esp\n\tcall main_init\n1:\tjmp 1b\n");
#else
enum {
	NR_read = 0,
	NR_write = 1,
	NR_open = 2,
	NR_close = 3,
	NR_fsync = 74,
	NR_sync = 162,
	NR_mount = 165,
	NR_reboot = 169
};
static long sc(long nr, long a, long b, long c, long d, long e)
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
__asm__(".text\n.globl _start\n_start:\n\tandq $-16, %rsp\n\tcall main_init\n1:\tjmp 1b\n");
#endif

#define O_WRONLY   01
#define O_CREAT    0100
#define O_TRUNC    01000
#define MS_RDONLY  1
#define MS_REMOUNT 32

static ulong len(const char *s)
{
	ulong n = 0;
	while (s[n])
		n++;
	return n;
}

static void out(const char *s)
{
	sc(NR_write, 1, (long)s, (long)len(s), 0, 0);
}

void main_init(void)
{
	static char buf[256];
	out("capsa-virtio: init running from the disk\n");
	long fd = sc(NR_open, (long)"/hello.txt", 0, 0, 0, 0), n = 0;
	if (fd >= 0) {
		n = sc(NR_read, fd, (long)buf, sizeof(buf) - 1, 0, 0);
		sc(NR_close, fd, 0, 0, 0, 0);
	}
	buf[n > 0 ? n : 0] = 0;
	out("capsa-virtio: hello.txt: ");
	out(buf);
	static const char msg[] = "written by the guest on virtio-blk\n";
	fd = sc(NR_open, (long)"/written.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644, 0, 0);
	if (fd >= 0 && sc(NR_write, fd, (long)msg, sizeof(msg) - 1, 0, 0) == sizeof(msg) - 1 &&
	    sc(NR_fsync, fd, 0, 0, 0, 0) == 0)
		out("capsa-virtio: wrote /written.txt\n");
	else
		out("capsa-virtio: writing /written.txt failed\n");
	if (fd >= 0)
		sc(NR_close, fd, 0, 0, 0, 0);
	sc(NR_sync, 0, 0, 0, 0, 0);
	if (sc(NR_mount, 0, (long)"/", 0, MS_REMOUNT | MS_RDONLY, 0) == 0)
		out("capsa-virtio: remounted / read-only\n");
	sc(NR_reboot, (long)0xfee1dead, 672274793, 0x01234567, 0, 0);
	for (;;)
		;
}
