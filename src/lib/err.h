/* SPDX-License-Identifier: Apache-2.0 */
/* Error values: library code never prints or exits; it fills a struct err
 * with the errno (or 0) and a message naming what was being done, and returns
 * -1 (or NULL). Only the CLI turns an error into one line on stderr. */
#ifndef CAPSA_LIB_ERR_H
#define CAPSA_LIB_ERR_H

#include <stdarg.h>

#define ERR_MSG_MAX 512

/* Kinds let the CLI choose an exit status without parsing messages. */
enum err_kind {
	ERR_NONE = 0,
	ERR_INPUT,    /* bad user input: missing file, bad size, bad image (exit 2) */
	ERR_SYSTEM,   /* host facility failed: syscall, KVM ioctl (exit 1) */
	ERR_GUEST,    /* the guest did something fatal (exit 1) */
	ERR_INTERNAL, /* a bug in capsa */
};

struct err {
	enum err_kind kind;
	int errnum; /* errno value, or 0 */
	char msg[ERR_MSG_MAX];
};

/* Set an error; returns -1 so callers can `return err_set(...)`. */
int err_set(struct err *e, enum err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Set an ERR_SYSTEM error from the current errno, appending strerror. */
int err_sys(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Set an ERR_SYSTEM error from an explicit errno value (for APIs returning -errno). */
int err_errno(struct err *e, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Put context in front of an existing message: "ctx: old message". Returns -1. */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Add formatted text at the end of the message (cut to fit); the kind
 * stays. For joining several messages. */
void err_append(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Collect messages (warnings): set e to msg (kind ERR_INPUT) if it holds
 * none, else append "; msg". */
void err_join(struct err *e, const char *msg);
void err_clear(struct err *e);
/* Exit status the CLI uses for this error: 2 for bad input, 1 otherwise. */
int err_exit_status(const struct err *e);

#endif
