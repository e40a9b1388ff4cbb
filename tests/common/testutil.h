/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers for capsa's cmocka test programs. */
#ifndef CAPSA_TESTUTIL_H
#define CAPSA_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/types.h>

/* Skip the current test, printing why ("# SKIP reason") for the runner's log.
 * Only for a facility the host lacks, never for a missing feature. */
#define skip_because(...)                                                                          \
	do {                                                                                       \
		printf("# SKIP ");                                                                 \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		fflush(stdout);                                                                    \
		skip();                                                                            \
	} while (0)

/* A measurement the runner shows in its summary: "# measured: ...". */
void test_measured(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Path helpers: $CAPSA_ROOT (repository root), $CAPSA_BIN (capsa binary). */
const char *test_root(void);
const char *test_capsa_bin(void);
/* A fresh temporary directory for this test (removed by the caller if wanted). */
char *test_tmpdir(void);
/* Remove such a directory with everything in it and free the path; 0 on success. */
int test_tmpdir_remove(char *dir);

struct run_result {
	int status;  /* exit status, or 128+signal */
	char *out;   /* captured stdout (NUL-terminated, malloc'd) */
	char *err;   /* captured stderr */
	double secs; /* wall time */
	int timed_out;
};

/* Run argv (argv[0] a path) with stdin from /dev/null, capturing both
 * outputs; kill it after timeout_s seconds. */
void run_cmd(struct run_result *r, char *const argv[], double timeout_s);
void run_result_free(struct run_result *r);

/* Write `len` bytes to a new file; returns 0 or -1. */
int write_file(const char *path, const void *data, size_t len);
/* Read a whole file (NUL-terminated); NULL on error. */
char *read_file(const char *path, size_t *len);

double now_secs(void);

#endif
