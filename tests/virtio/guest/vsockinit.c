/* init (pid 1) for the slow vsock test: Linux's own virtio-vsock driver
 * against capsa's device. Connects to host port 5000 and reads the echo of a
 * message; connects to port 5001, where nobody listens, and reports the error;
 * listens on port 1234, accepts one host connection, answers "guest got: " and
 * what it read; then restarts the machine. Lines start with "capsa-vsock: ".
 * Freestanding, no SSE: 32-bit (int $0x80) for paravirtual KVM hosts, 64-bit
 * (syscall) otherwise. */
typedef unsigned long ulong;

#if defined(__i386__)
enum {
	NR_read = 3,
	NR_write = 4,
	NR_open = 5,
	NR_close = 6,
	NR_reboot = 88,
	NR_socket = 359,
	NR_bind = 361,
	NR_connect = 362,
	NR_listen = 363,
	NR_accept4 = 364
};
static long sys5(long nr, long a, long b, long c, long d, long e)
{
	long r;
	__asm__ volatile("int $0x80"
	                 : "=a"(r)
	                 : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
	                 : "memory");
	return r;
}
__asm__(".text\n.globl _start\n_start:\n\txorl %ebp, %ebp\n\tandl $-16, %esp\n"
        "\tcall init_main\n1:\thlt\n\tjmp 1b\n");
#elif defined(__x86_64__)
enum {
	NR_read = 0,
	NR_write = 1,
	NR_open = 2,
	NR_close = 3,
	NR_reboot = 169,
	NR_socket = 41,
	NR_bind = 49,
	NR_connect = 42,
	NR_listen = 50,
	NR_accept4 = 288
};
static long sys5(long nr, long a, long b, long c, long d, long e)
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
__asm__(".text\n.globl _start\n_start:\n\txorl %ebp, %ebp\n\tandq $-16, %rsp\n"
        "\tcall init_main\n1:\thlt\n\tjmp 1b\n");
#else
#error "x86 only"
#endif

#define sys(nr, a, b, c) sys5(nr, (long)(a), (long)(b), (long)(c), 0, 0)
#define AF_VSOCK         40
#define SOCK_STREAM      1

struct sockaddr_vm {
	unsigned short family, reserved;
	unsigned port, cid;
	unsigned char zero[4];
};

static int con;

static ulong slen(const char *s)
{
	ulong n = 0;
	while (s[n])
		n++;
	return n;
}

static void say(const char *s)
{
	sys(NR_write, con, s, slen(s));
}

static void num(long v)
{
	char b[24];
	int i = 23, neg = v < 0;
	b[i] = 0;
	if (neg)
		v = -v;
	do
		b[--i] = (char)('0' + v % 10);
	while (v /= 10);
	if (neg)
		b[--i] = '-';
	say(b + i);
}

static long connect_host(unsigned port)
{
	long fd = sys(NR_socket, AF_VSOCK, SOCK_STREAM, 0);
	struct sockaddr_vm a = {AF_VSOCK, 0, port, 2, {0}};
	long r = sys(NR_connect, fd, &a, sizeof(a));
	if (r < 0) {
		sys(NR_close, fd, 0, 0);
		return r;
	}
	return fd;
}

void init_main(void);
void init_main(void)
{
	con = (int)sys(NR_open, "/dev/console", 2, 0);
	long fd = connect_host(5000);
	say("capsa-vsock: connect 5000: ");
	num(fd < 0 ? fd : 0);
	say("\n");
	if (fd >= 0) {
		const char *m = "hello from linux over vsock";
		char buf[64] = {0};
		sys(NR_write, fd, m, slen(m));
		long n = 0, k;
		while (n < (long)slen(m) && (k = sys(NR_read, fd, buf + n, 63 - n)) > 0)
			n += k;
		say("capsa-vsock: echo: ");
		say(buf);
		say("\n");
		sys(NR_close, fd, 0, 0);
	}
	say("capsa-vsock: connect 5001: ");
	num(connect_host(5001));
	say("\n");
	long l = sys(NR_socket, AF_VSOCK, SOCK_STREAM, 0);
	struct sockaddr_vm any = {AF_VSOCK, 0, 1234, 0xffffffffu, {0}};
	if (sys(NR_bind, l, &any, sizeof(any)) == 0 && sys(NR_listen, l, 4, 0) == 0) {
		say("capsa-vsock: listening on 1234\n");
		long c = sys5(NR_accept4, l, 0, 0, 0, 0);
		if (c >= 0) {
			char buf[64] = {0};
			long n = sys(NR_read, c, buf, 63);
			const char *m = "guest got: ";
			sys(NR_write, c, m, slen(m));
			if (n > 0)
				sys(NR_write, c, buf, n);
			sys(NR_close, c, 0, 0);
			say("capsa-vsock: host said: ");
			say(buf);
			say("\n");
		}
	}
	say("capsa-vsock: done\n");
	sys5(NR_reboot, 0xfee1dead, 672274793, 0x01234567, 0, 0);
}
