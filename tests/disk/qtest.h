/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the disk tests: qemu-img/qemu-io runs, patterns, temp dirs. */
#ifndef CAPSA_TESTS_QTEST_H
#define CAPSA_TESTS_QTEST_H

#include "common/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QEMU_IMG "/usr/bin/qemu-img"
#define QEMU_IO  "/usr/bin/qemu-io"

#define REQUIRE_QEMU_IMG()                                                                         \
	do {                                                                                       \
		if (access(QEMU_IMG, X_OK) || access(QEMU_IO, X_OK))                               \
			skip_because("qemu-img/qemu-io (Debian qemu-utils) not installed");        \
	} while (0)

static inline int run_argv(char *const argv[], struct run_result *out)
{
	struct run_result r;
	run_cmd(&r, argv, 120);
	int st = r.status;
	if (st != 0 && st != 3)
		printf("# note: %s exited %d: %s%s\n", argv[0], st, r.out, r.err);
	if (out)
		*out = r;
	else
		run_result_free(&r);
	return st;
}

#define RUN(...)                                                                                   \
	({                                                                                         \
		char *const _a[] = {__VA_ARGS__, NULL};                                            \
		run_argv(_a, NULL);                                                                \
	})

static inline uint8_t pat(uint64_t o)
{
	uint32_t x = (uint32_t)o * 2654435761u ^ (uint32_t)(o >> 11);
	return (uint8_t)(x >> 13 ^ x >> 24);
}

static inline void rmtree(char *dir)
{
	RUN("/bin/rm", "-rf", dir);
	free(dir);
}

static inline char *tpath(const char *dir, const char *name)
{
	static char buf[8][4200];
	static int slot;
	char *b = buf[slot++ % 8];
	snprintf(b, sizeof(buf[0]), "%s/%s", dir, name);
	return b;
}

#endif
