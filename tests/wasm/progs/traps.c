/* SPDX-License-Identifier: Apache-2.0 */
/* Test program: misbehaves as asked (loop forever, recurse without end,
 * divide by zero, touch memory out of bounds, call abort). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int recurse(volatile int n)
{
	volatile char pad[64];
	pad[0] = (char)n;
	return recurse(n + 1) + pad[0];
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	volatile int zero = 0;
	if (!strcmp(what, "loop")) {
		volatile unsigned x = 0;
		for (;;)
			x++;
	}
	if (!strcmp(what, "recurse"))
		return recurse(0);
	if (!strcmp(what, "div"))
		return 10 / zero;
	if (!strcmp(what, "oob")) {
		volatile char *p = (char *)0x7ffffff0;
		return p[0x10000000];
	}
	if (!strcmp(what, "abort"))
		abort();
	puts("nothing to do");
	return 0;
}
