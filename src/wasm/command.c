/* SPDX-License-Identifier: Apache-2.0 */
/* Running a WASI command module from start to end: load the file, check it
 * is a command, instantiate it against WASI, call _start under an optional
 * fuel budget and timeout, and turn the way it ended into an exit status
 * and a message. Shared by `capsa wasm run` and wasm containers. */
#include "capsa/wasm_wasi.h"
#include "lib/file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WASI_MODULE "wasi_snapshot_preview1"

struct capsa_wasm_module *capsa_wasm_module_load_file(const char *path, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_sys(e, "opening %s", path);
		e->kind = ERR_INPUT;
		return NULL;
	}
	size_t len;
	char *buf = file_read_fd(fd, path, (1u << 30) - 1, &len, e); /* below 1 GiB */
	close(fd);
	if (!buf) { /* file_read_fd named the path and the reason ("Is a directory") */
		if (e->kind == ERR_INPUT)
			err_set(e, ERR_INPUT, "%s: module larger than 1 GiB", path);
		return NULL;
	}
	struct capsa_wasm_module *m = capsa_wasm_module_load((const uint8_t *)buf, len, e);
	free(buf);
	if (!m)
		err_prefix(e, "%s", path);
	return m;
}

/* The exported function NAME of m, or -1. */
static int64_t module_func_export(const struct capsa_wasm_module *m, const char *name)
{
	struct capsa_wasm_export_desc x;
	for (uint32_t i = 0; i < capsa_wasm_module_export_count(m); i++) {
		capsa_wasm_module_export(m, i, &x);
		if (x.kind == CAPSA_WASM_EXTERN_FUNC && !strcmp(x.name, name))
			return x.index;
	}
	return -1;
}

int capsa_wasi_command_check(const struct capsa_wasm_module *m, struct err *e)
{
	int64_t start = module_func_export(m, "_start");
	struct capsa_wasm_functype ft;
	if (start < 0)
		return err_set(e, ERR_INPUT, "no exported _start function (not a WASI command)");
	if (capsa_wasm_module_functype(m, (uint32_t)start, &ft) < 0 || ft.nparams || ft.nresults)
		return err_set(e, ERR_INPUT, "_start must take and return nothing");
	struct capsa_wasm_import_desc im;
	for (uint32_t i = 0; i < capsa_wasm_module_import_count(m); i++) {
		capsa_wasm_module_import(m, i, &im);
		if (im.kind != CAPSA_WASM_EXTERN_FUNC || strcmp(im.module, WASI_MODULE))
			return err_set(e, ERR_INPUT,
			               "imports %s.%s, which is not a function of " WASI_MODULE,
			               im.module, im.name);
	}
	return 0;
}

/* Interrupts the store once the timeout has passed, unless told first. The
 * deadline is on CLOCK_MONOTONIC (a clock step cannot stretch or cut it),
 * and the thread never spins: a failing timed wait becomes an untimed one. */
struct watchdog {
	struct capsa_wasm_store *store;
	double secs; /* the CLI allows at most 1e9 s: now + secs fits a timespec */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	int running, done, fired;
};

static void *watchdog_main(void *arg)
{
	struct watchdog *w = arg;
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	time_t whole = (time_t)w->secs;
	until.tv_sec += whole;
	until.tv_nsec += (long)((w->secs - (double)whole) * 1e9);
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	int timed = 1;
	pthread_mutex_lock(&w->lock);
	while (!w->done) {
		int rc = timed ? pthread_cond_timedwait(&w->cond, &w->lock, &until)
		               : pthread_cond_wait(&w->cond, &w->lock);
		if (rc == ETIMEDOUT)
			break;
		if (rc)
			timed = 0;
	}
	/* Repeated every millisecond until the run ends: the signal that stops
	 * compiled code may arrive while it is in a runtime function, which
	 * then returns into compiled code that does not check the flag. */
	w->fired = !w->done;
	while (!w->done) {
		capsa_wasm_store_interrupt(w->store);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		int rc = pthread_cond_timedwait(&w->cond, &w->lock, &until);
		if (rc && rc != ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Arms the watchdog when there is a timeout. */
static void watchdog_start(struct watchdog *w)
{
	if (!(w->secs > 0))
		return;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	w->running = !pthread_create(&w->thread, NULL, watchdog_main, w);
}

static void watchdog_stop(struct watchdog *w)
{
	if (!w->running)
		return;
	pthread_mutex_lock(&w->lock);
	w->done = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	w->running = 0;
}

static void describe_trap(const struct capsa_wasm_trap_info *info, char *buf, size_t len)
{
	/* Offset 0: not known (an access caught by the guard region). */
	char where[32] = "";
	if (info->offset)
		snprintf(where, sizeof(where), " at offset 0x%x", info->offset);
	snprintf(buf, len, "wasm trap: %s in function %lld%s%s%s%s", info->message,
	         (long long)info->func_index, info->func_name ? " (" : "",
	         info->func_name ? info->func_name : "", info->func_name ? ")" : "", where);
}

int capsa_wasi_command_run(const struct capsa_wasi_command *cmd, struct capsa_wasi_outcome *out,
                           struct err *e)
{
	int rc = -1;
	struct capsa_wasm_limits lim = {.max_memory = cmd->max_memory, .engine = cmd->engine};
	struct capsa_wasi *wasi = NULL;
	struct capsa_wasm_trap_info info = {0};
	struct capsa_wasm_extern start;
	memset(out, 0, sizeof(*out));
	struct capsa_wasm_store *s = capsa_wasm_store_new(&lim, e);
	if (!s)
		return -1;
	wasi = capsa_wasi_new(s, cmd->wasi, e);
	if (!wasi)
		goto done;
	/* Fuel and the timeout bound the module's start function too. */
	capsa_wasm_store_set_fuel(s, cmd->fuel);
	struct watchdog wd = {.store = s, .secs = cmd->timeout};
	watchdog_start(&wd);
	enum capsa_wasm_trap t;
	struct capsa_wasm_instance *in =
	    capsa_wasm_instantiate(s, cmd->module, capsa_wasi_resolve, wasi, &info, e);
	if (!in && !info.trap) {
		watchdog_stop(&wd);
		goto done;
	}
	if (!in) { /* the start section trapped: it ran */
		t = info.trap;
		if (t != CAPSA_WASM_TRAP_EXIT)
			snprintf(out->message, sizeof(out->message), "%s", e->msg);
		err_clear(e);
	} else if (capsa_wasm_instance_export(in, "_start", &start) ||
	           start.kind != CAPSA_WASM_EXTERN_FUNC) {
		watchdog_stop(&wd);
		err_set(e, ERR_INPUT, "no exported _start function (not a WASI command)");
		goto done;
	} else {
		struct capsa_wasm_functype ft;
		capsa_wasm_func_type(start.u.func, &ft);
		if (ft.nparams || ft.nresults) {
			watchdog_stop(&wd);
			err_set(e, ERR_INPUT, "_start must take and return nothing");
			goto done;
		}
		union capsa_wasm_val cells[1];
		t = capsa_wasm_call(s, start.u.func, cells, &info);
		if (t != CAPSA_WASM_OK && t != CAPSA_WASM_TRAP_EXIT)
			describe_trap(&info, out->message, sizeof(out->message));
	}
	watchdog_stop(&wd);
	out->timed_out = t == CAPSA_WASM_TRAP_OUT_OF_FUEL && wd.fired;
	rc = 0;
	if (t == CAPSA_WASM_OK)
		out->status = 0;
	else if (t == CAPSA_WASM_TRAP_EXIT)
		out->status = info.exit_code & 0xff;
	else if (out->timed_out)
		out->status = CAPSA_WASI_EXIT_TIMEOUT;
	else
		out->status = CAPSA_WASI_EXIT_TRAP;
	if (out->timed_out)
		out->message[0] = '\0';
done:
	capsa_wasi_free(wasi);
	capsa_wasm_store_free(s);
	return rc;
}
