/* SPDX-License-Identifier: Apache-2.0 */
/* Serial output for the test guest: polled 16550 at COM1, a tiny printf. */
#include <stdarg.h>

#include "guest.h"
#include "io.h"

static volatile uint32_t print_lock;

static void lock(void)
{
	while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
}

static void unlock(void)
{
	__atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}

static void putc_raw(char c)
{
	/* Wait for THR empty (LSR bit 5); bounded so a missing UART cannot hang us. */
	for (int i = 0; i < 100000 && !(inb(COM1_PORT + 5) & 0x20); i++)
		cpu_relax();
	outb(COM1_PORT, (uint8_t)c);
}

static void puts_raw(const char *s)
{
	while (*s)
		putc_raw(*s++);
}

void gputs(const char *s)
{
	lock();
	puts_raw(s);
	unlock();
}

static void put_num(uint64_t v, unsigned base, int width, char pad, int neg)
{
	char buf[24];
	int n = 0;
	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		buf[n++] = '-';
	while (n < width && n < (int)sizeof(buf))
		buf[n++] = pad;
	while (n)
		putc_raw(buf[--n]);
}

/* Supports %s %c %d %u %x with optional 0/width and l/ll/z length modifiers. */
void gprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	lock();
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			putc_raw(*p);
			continue;
		}
		p++;
		char pad = ' ';
		int width = 0, lng = 0;
		if (*p == '0') {
			pad = '0';
			p++;
		}
		while (*p >= '0' && *p <= '9')
			width = width * 10 + (*p++ - '0');
		while (*p == 'l' || *p == 'z') {
			lng = 1;
			p++;
		}
		switch (*p) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			puts_raw(s ? s : "(null)");
			break;
		}
		case 'c':
			putc_raw((char)va_arg(ap, int));
			break;
		case 'd': {
			int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			put_num(v < 0 ? -(uint64_t)v : (uint64_t)v, 10, width, pad, v < 0);
			break;
		}
		case 'u':
		case 'x': {
			uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			put_num(v, *p == 'u' ? 10 : 16, width, pad, 0);
			break;
		}
		case '%':
			putc_raw('%');
			break;
		case '\0':
			p--;
			break;
		default:
			putc_raw('?');
		}
	}
	unlock();
	va_end(ap);
}
