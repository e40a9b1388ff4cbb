/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void vset(struct err *e, enum err_kind kind, int errnum, const char *fmt, va_list ap)
{
	if (!e)
		return;
	e->kind = kind;
	e->errnum = errnum;
	int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	if (errnum && n >= 0 && (size_t)n < sizeof(e->msg))
		snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, ": %s", strerror(errnum));
}

int err_set(struct err *e, enum err_kind kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(e, kind, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int err_sys(struct err *e, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	vset(e, ERR_SYSTEM, saved, fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}

int err_errno(struct err *e, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(e, ERR_SYSTEM, errnum < 0 ? -errnum : errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	if (!e)
		return -1;
	char ctx[ERR_MSG_MAX], old[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	/* ctx + ": " + old, cut to fit. */
	size_t n = strnlen(ctx, sizeof(e->msg) - 3);
	memcpy(e->msg, ctx, n);
	memcpy(e->msg + n, ": ", 2);
	n += 2;
	size_t rest = strnlen(old, sizeof(e->msg) - 1 - n);
	memcpy(e->msg + n, old, rest);
	e->msg[n + rest] = '\0';
	return -1;
}

void err_append(struct err *e, const char *fmt, ...)
{
	if (!e)
		return;
	size_t n = strnlen(e->msg, sizeof(e->msg) - 1);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg + n, sizeof(e->msg) - n, fmt, ap);
	va_end(ap);
}

void err_join(struct err *e, const char *msg)
{
	if (e && e->kind == ERR_NONE)
		err_set(e, ERR_INPUT, "%s", msg);
	else
		err_append(e, "; %s", msg);
}

void err_clear(struct err *e)
{
	if (e) {
		e->kind = ERR_NONE;
		e->errnum = 0;
		e->msg[0] = '\0';
	}
}

int err_exit_status(const struct err *e)
{
	return e->kind == ERR_INPUT ? 2 : 1;
}
