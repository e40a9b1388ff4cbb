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

#endif
