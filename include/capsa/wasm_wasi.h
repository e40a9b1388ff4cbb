/* SPDX-License-Identifier: Apache-2.0 */
/* WASI preview1 ("wasi_snapshot_preview1") host functions for capsa's
 * WebAssembly runtime. Paths are resolved beneath the preopened directories
 * with openat2(RESOLVE_BENEATH), so neither ".." nor symlinks can leave them. */
#ifndef CAPSA_WASM_WASI_H
#define CAPSA_WASM_WASI_H

#include "capsa/wasm.h"

struct capsa_wasi_preopen {
	const char *host;  /* directory on the host */
	const char *guest; /* name the program sees, e.g. "/data" or "." */
};

struct capsa_wasi_config {
	int argc;
	char *const *argv;
	int envc;
	char *const *envp;
	int npreopens;
	const struct capsa_wasi_preopen *preopens;
	int stdin_fd, stdout_fd, stderr_fd; /* host fds for 0, 1, 2 */
};

struct capsa_wasi;

/* Opens the preopened directories; ERR_INPUT when one cannot be opened. */
struct capsa_wasi *capsa_wasi_new(struct capsa_wasm_store *s, const struct capsa_wasi_config *cfg,
                                  struct err *e);
void capsa_wasi_free(struct capsa_wasi *w);

/* An import resolver (env = the capsa_wasi) for module
 * "wasi_snapshot_preview1"; unknown WASI functions resolve to a stub
 * returning ENOSYS. Other modules are not resolved. */
int capsa_wasi_resolve(void *env, const char *module, const char *name,
                       enum capsa_wasm_extern_kind kind, struct capsa_wasm_extern *out);

/* Running a WASI command (a module exporting _start) from start to end:
 * what `capsa wasm run` and a wasm container (src/oci/wasm_handler.c) do. */

/* Exit statuses of a command that did not call proc_exit. */
#define CAPSA_WASI_EXIT_TRAP    134 /* trapped, as an abort would */
#define CAPSA_WASI_EXIT_TIMEOUT 124 /* stopped by the timeout, as timeout(1) */

/* Read and validate the module file PATH (below 1 GiB). Errors are
 * ERR_INPUT and start with the path. */
struct capsa_wasm_module *capsa_wasm_module_load_file(const char *path, struct err *e);
/* Is m a WASI command capsa can link: an exported _start taking and
 * returning nothing, and only imports of wasi_snapshot_preview1 functions?
 * ERR_INPUT naming what is wrong otherwise. */
int capsa_wasi_command_check(const struct capsa_wasm_module *m, struct err *e);

struct capsa_wasi_command {
	const struct capsa_wasm_module *module;
	const struct capsa_wasi_config *wasi;
	uint64_t max_memory;           /* bytes a linear memory may grow to (0: 4 GiB) */
	int64_t fuel;                  /* negative: unlimited */
	double timeout;                /* seconds of running time (0: none) */
	enum capsa_wasm_engine engine; /* DEFAULT: the JIT where available */
};
struct capsa_wasi_outcome {
	int status;                /* exit status: proc_exit's code, 0, or one of the above */
	int timed_out;             /* the timeout stopped it (status CAPSA_WASI_EXIT_TIMEOUT) */
	char message[ERR_MSG_MAX]; /* why it trapped, for humans; empty when it exited */
};
/* Instantiate and run _start. Returns 0 when the module ran (however it
 * ended: *out says), -1 with e set when it could not be started (no
 * _start, unlinkable imports, a preopen that cannot be opened). */
int capsa_wasi_command_run(const struct capsa_wasi_command *cmd, struct capsa_wasi_outcome *out,
                           struct err *e);

#endif
