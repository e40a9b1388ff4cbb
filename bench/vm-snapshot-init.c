/* SPDX-License-Identifier: Apache-2.0 */
/*
 * init (pid 1) of the bench/vm-snapshot guest: a Linux that touches little memory
 * and whose only activity is a numbered line on the console, so that a restored or
 * migrated VM shows that it runs again. Prints "snapbench: ready", then
 * "tick N" (N = 1, 2, ...) for ever: one line every tick_ms milliseconds, or
 * back to back when tick_ms is 0 (the first line after a restore then comes as
 * soon as the vCPU runs, without waiting for a guest timer). tick_ms is a kernel
 * command line parameter, which Linux passes to init in its environment
 * (default 5).
 *
 * Freestanding on guest/init/freestanding.h; bench/vm-snapshot builds it 64-bit.
 */
#include "freestanding.h"

struct timespec64 {
	long sec, nsec;
};

/* The decimal value of environment variable `key`, or dflt when it is absent. */
static ulong env_ulong(long *sp, const char *key, ulong dflt)
{
	long argc = sp[0];
	char **env = (char **)(sp + argc + 2);
	ulong klen = slen(key);
	for (; *env; env++) {
		const char *e = *env;
		ulong i = 0;
		while (i < klen && e[i] == key[i])
			i++;
		if (i < klen || e[i] != '=')
			continue;
		ulong v = 0;
		for (e += i + 1; *e >= '0' && *e <= '9'; e++)
			v = v * 10 + (ulong)(*e - '0');
		return v;
	}
	return dflt;
}

void init_main(long *sp)
{
	ulong ms = env_ulong(sp, "tick_ms", 5);
	long fd = sys(NR_open, "/dev/console", O_RDWR, 0);
	if (fd < 0)
		fd = 1;
	say(fd, "snapbench: ready\n");
	struct timespec64 ts = {(long)(ms / 1000), (long)(ms % 1000) * 1000000};
	char line[32] = "tick ";
	for (ulong n = 1;; n++) {
		if (ms)
			sys(NR_nanosleep, &ts, 0, 0);
		char digits[24], *d = digits + sizeof(digits);
		ulong v = n, len = 5;
		do
			*--d = (char)('0' + v % 10);
		while (v /= 10);
		while (d < digits + sizeof(digits))
			line[len++] = *d++;
		line[len++] = '\n';
		sys(NR_write, fd, line, len);
	}
}
