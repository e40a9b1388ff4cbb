/* SPDX-License-Identifier: Apache-2.0 */
/* WebAssembly modules as containers, with crun's annotations: the
 * container is created as any other, and its init runs process.args[0]
 * with capsa's wasm runtime and WASI instead of executing it. */
#ifndef CAPSA_OCI_WASM_HANDLER_H
#define CAPSA_OCI_WASM_HANDLER_H

#include "capsa/wasm_wasi.h"
#include "lib/err.h"
#include "oci/config.h"

enum oci_wasm_mode {
	OCI_WASM_NONE,   /* no handler annotation: a native process */
	OCI_WASM_ALWAYS, /* run.oci.handler=wasm, module.wasm.image/variant=compat */
	OCI_WASM_SMART,  /* wasm-smart, compat-smart: wasm when args[0] is a module */
};

/* The handler the annotations ask for; an unknown run.oci.handler is an
 * error (ERR_INPUT naming it), as in crun. */
int oci_wasm_mode(const struct oci_config *c, enum oci_wasm_mode *mode, struct err *e);

/* In the container init, before create returns: when the process is to
 * run as wasm, resolve process.args[0] in the container's root (PATH as for
 * a program) into exe, read and check the module (*out); *out stays NULL for
 * a native process. Errors name process.args[0]. */
int oci_wasm_prepare(const struct oci_config *c, struct capsa_wasm_module **out, char *exe,
                     size_t len, struct err *e);

/* In the container init, once it is the container's process (user,
 * capabilities, seccomp, cwd set): close what exec would have closed and run
 * the module's _start with process.args, process.env, the root preopened as
 * "/" and process.cwd as $PWD (WASI has no working directory), stdio as
 * given. The wasm memory is capped at
 * linux.resources.memory.limit. Returns 0 with *out telling how it ended,
 * or -1 when it could not start. */
int oci_wasm_run(const struct oci_config *c, const struct capsa_wasm_module *m, int preserve_fds,
                 struct capsa_wasi_outcome *out, struct err *e);

#endif
