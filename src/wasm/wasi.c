/* SPDX-License-Identifier: Apache-2.0 */
/* WASI preview1 host functions: arguments, environment, clocks, random,
 * exit, and the table of all preview1 functions (files and paths in
 * wasi_fs.c and wasi_meta.c, poll_oneoff in wasi_poll.c). Still ENOSYS:
 * proc_raise and the sock_* calls (no sockets are ever handed to a guest).
 * Guest pointers are checked against the caller's linear memory; guest
 * paths are resolved with openat2(RESOLVE_BENEATH) under a preopen. */
#include "capsa/wasm_wasi.h"
#include "wasm/wasi_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#define ARGS union capsa_wasm_val *a
static int ret(ARGS, int err)
{
	a[0].i32 = err;
	return CAPSA_WASM_OK;
}

static int strings_sizes(struct wmem *M, char *const *v, int n, uint32_t pc, uint32_t ps)
{
	uint32_t size = 0;
	for (int i = 0; i < n; i++)
		size += (uint32_t)strlen(v[i]) + 1;
	if (wput32(M, pc, (uint32_t)n) || wput32(M, ps, size))
		return WASI_EFAULT;
	return 0;
}

static int strings_get(struct wmem *M, char *const *v, int n, uint32_t ptrs, uint32_t buf)
{
	for (int i = 0; i < n; i++) {
		uint32_t len = (uint32_t)strlen(v[i]) + 1;
		uint8_t *dst = wptr(M, buf, len);
		if (!dst || wput32(M, ptrs + 4u * (uint32_t)i, buf))
			return WASI_EFAULT;
		memcpy(dst, v[i], len);
		buf += len;
	}
	return 0;
}

static enum capsa_wasm_trap w_args_sizes_get(struct capsa_wasm_caller *caller, void *env, ARGS)
{
	MEMORY;
	return ret(
	    a, strings_sizes(&M, W->cfg.argv, W->cfg.argc, (uint32_t)a[0].i32, (uint32_t)a[1].i32));
}

static enum capsa_wasm_trap w_args_get(struct capsa_wasm_caller *caller, void *env, ARGS)
{
	MEMORY;
	return ret(
	    a, strings_get(&M, W->cfg.argv, W->cfg.argc, (uint32_t)a[0].i32, (uint32_t)a[1].i32));
}

static enum capsa_wasm_trap w_environ_sizes_get(struct capsa_wasm_caller *caller, void *env, ARGS)
{
	MEMORY;
	return ret(
	    a, strings_sizes(&M, W->cfg.envp, W->cfg.envc, (uint32_t)a[0].i32, (uint32_t)a[1].i32));
}

static enum capsa_wasm_trap w_environ_get(struct capsa_wasm_caller *caller, void *env, ARGS)
{
	MEMORY;
	return ret(
	    a, strings_get(&M, W->cfg.envp, W->cfg.envc, (uint32_t)a[0].i32, (uint32_t)a[1].i32));
}

static int clock_of(uint32_t id, clockid_t *out)
{
	static const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
	                                CLOCK_THREAD_CPUTIME_ID};
	if (id > 3)
		return WASI_EINVAL;
	*out = ids[id];
	return 0;
}

/* clock_res_get and clock_time_get: ask `query` about the clock in a[0] and
 * store nanoseconds at the guest address in a[out]. */
static enum capsa_wasm_trap clock_call(struct capsa_wasm_caller *caller, ARGS,
                                       int (*query)(clockid_t, struct timespec *), int out)
{
	MEMORY;
	clockid_t id;
	struct timespec ts;
	int err = clock_of((uint32_t)a[0].i32, &id);
	if (err)
		return ret(a, err);
	if (query(id, &ts))
		return ret(a, wasi_errno(errno));
	uint64_t v = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return ret(a, wput64(&M, (uint32_t)a[out].i32, v) ? WASI_EFAULT : 0);
}

static enum capsa_wasm_trap w_clock_res_get(struct capsa_wasm_caller *caller, void *env, ARGS)
{
	(void)env;
	return clock_call(caller, a, clock_getres, 1);
}

static enum capsa_wasm_trap w_clock_time_get(struct capsa_wasm_caller *caller, void *env, ARGS)
{
	(void)env; /* a[1] is the precision, which the host clocks ignore */
	return clock_call(caller, a, clock_gettime, 2);
}

static enum capsa_wasm_trap w_random_get(struct capsa_wasm_caller *caller, void *env, ARGS)
{
	MEMORY;
	(void)env;
	uint32_t len = (uint32_t)a[1].i32;
	uint8_t *p = wptr(&M, (uint32_t)a[0].i32, len);
	if (!p)
		return ret(a, WASI_EFAULT);
	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ret(a, wasi_errno(errno));
		}
		p += n;
		len -= (uint32_t)n;
	}
	return ret(a, 0);
}

static enum capsa_wasm_trap w_proc_exit(struct capsa_wasm_caller *caller, void *env, ARGS)
{
	(void)env;
	capsa_wasm_caller_exit(caller, a[0].i32);
	return CAPSA_WASM_TRAP_EXIT;
}

static enum capsa_wasm_trap w_sched_yield(struct capsa_wasm_caller *caller, void *env, ARGS)
{
	(void)caller;
	(void)env;
	sched_yield();
	return ret(a, 0);
}

static enum capsa_wasm_trap w_nosys(struct capsa_wasm_caller *caller, void *env, ARGS)
{
	(void)caller;
	(void)env;
	return ret(a, WASI_ENOSYS);
}

struct wasi_fn {
	const char *name;
	const char *params, *results; /* i = i32, I = i64 */
	capsa_wasm_host_fn fn;
};

static const struct wasi_fn wasi_fns[] = {
    {"args_get", "ii", "i", w_args_get},
    {"args_sizes_get", "ii", "i", w_args_sizes_get},
    {"environ_get", "ii", "i", w_environ_get},
    {"environ_sizes_get", "ii", "i", w_environ_sizes_get},
    {"clock_res_get", "ii", "i", w_clock_res_get},
    {"clock_time_get", "iIi", "i", w_clock_time_get},
    {"fd_advise", "iIIi", "i", wasi_fd_advise},
    {"fd_allocate", "iII", "i", wasi_fd_allocate},
    {"fd_close", "i", "i", wasi_fd_close},
    {"fd_datasync", "i", "i", wasi_fd_datasync},
    {"fd_fdstat_get", "ii", "i", wasi_fd_fdstat_get},
    {"fd_fdstat_set_flags", "ii", "i", wasi_fd_fdstat_set_flags},
    {"fd_fdstat_set_rights", "iII", "i", wasi_fd_fdstat_set_rights},
    {"fd_filestat_get", "ii", "i", wasi_fd_filestat_get},
    {"fd_filestat_set_size", "iI", "i", wasi_fd_filestat_set_size},
    {"fd_filestat_set_times", "iIIi", "i", wasi_fd_filestat_set_times},
    {"fd_pread", "iiiIi", "i", wasi_fd_pread},
    {"fd_prestat_get", "ii", "i", wasi_fd_prestat_get},
    {"fd_prestat_dir_name", "iii", "i", wasi_fd_prestat_dir_name},
    {"fd_pwrite", "iiiIi", "i", wasi_fd_pwrite},
    {"fd_read", "iiii", "i", wasi_fd_read},
    {"fd_readdir", "iiiIi", "i", wasi_fd_readdir},
    {"fd_renumber", "ii", "i", wasi_fd_renumber},
    {"fd_seek", "iIii", "i", wasi_fd_seek},
    {"fd_sync", "i", "i", wasi_fd_sync},
    {"fd_tell", "ii", "i", wasi_fd_tell},
    {"fd_write", "iiii", "i", wasi_fd_write},
    {"path_create_directory", "iii", "i", wasi_path_create_directory},
    {"path_filestat_get", "iiiii", "i", wasi_path_filestat_get},
    {"path_filestat_set_times", "iiiiIIi", "i", wasi_path_filestat_set_times},
    {"path_link", "iiiiiii", "i", wasi_path_link},
    {"path_open", "iiiiiIIii", "i", wasi_path_open},
    {"path_readlink", "iiiiii", "i", wasi_path_readlink},
    {"path_remove_directory", "iii", "i", wasi_path_remove_directory},
    {"path_rename", "iiiiii", "i", wasi_path_rename},
    {"path_symlink", "iiiii", "i", wasi_path_symlink},
    {"path_unlink_file", "iii", "i", wasi_path_unlink_file},
    {"poll_oneoff", "iiii", "i", wasi_poll_oneoff},
    {"proc_exit", "i", "", w_proc_exit},
    {"proc_raise", "i", "i", w_nosys},
    {"sched_yield", "", "i", w_sched_yield},
    {"random_get", "ii", "i", w_random_get},
    {"sock_accept", "iii", "i", w_nosys},
    {"sock_recv", "iiiiii", "i", w_nosys},
    {"sock_send", "iiiii", "i", w_nosys},
    {"sock_shutdown", "ii", "i", w_nosys},
};
#define NFNS (sizeof(wasi_fns) / sizeof(wasi_fns[0]))

int capsa_wasi_resolve(void *env, const char *module, const char *name,
                       enum capsa_wasm_extern_kind kind, struct capsa_wasm_extern *out)
{
	struct capsa_wasi *w = env;
	if (strcmp(module, "wasi_snapshot_preview1") || kind != CAPSA_WASM_EXTERN_FUNC)
		return -1;
	for (size_t i = 0; i < NFNS; i++) {
		if (strcmp(wasi_fns[i].name, name))
			continue;
		if (!w->funcs[i]) {
			uint8_t p[16], r[2];
			size_t np = strlen(wasi_fns[i].params), nr = strlen(wasi_fns[i].results);
			for (size_t k = 0; k < np; k++)
				p[k] =
				    wasi_fns[i].params[k] == 'I' ? CAPSA_WASM_I64 : CAPSA_WASM_I32;
			for (size_t k = 0; k < nr; k++)
				r[k] = CAPSA_WASM_I32;
			struct capsa_wasm_functype t = {(uint32_t)np, (uint32_t)nr, p, r};
			struct err e;
			w->funcs[i] = capsa_wasm_func_new(w->store, &t, wasi_fns[i].fn, w, &e);
			if (!w->funcs[i])
				return -1;
		}
		out->kind = CAPSA_WASM_EXTERN_FUNC;
		out->u.func = w->funcs[i];
		return 0;
	}
	return -1;
}

struct capsa_wasi *capsa_wasi_new(struct capsa_wasm_store *s, const struct capsa_wasi_config *cfg,
                                  struct err *e)
{
	struct capsa_wasi *w = calloc(1, sizeof(*w));
	if (!w || !(w->funcs = calloc(NFNS, sizeof(*w->funcs)))) {
		free(w);
		err_set(e, ERR_SYSTEM, "out of memory");
		return NULL;
	}
	w->store = s;
	w->cfg = *cfg;
	if (wasi_fds_init(w, e)) {
		capsa_wasi_free(w);
		return NULL;
	}
	return w;
}

void capsa_wasi_free(struct capsa_wasi *w)
{
	if (!w)
		return;
	wasi_fds_free(w);
	free(w->funcs);
	free(w);
}
