/* SPDX-License-Identifier: Apache-2.0 */
/* WebAssembly modules as containers. crun's annotations choose it, so that
 * images and Kubernetes setups made for crun work unchanged:
 * run.oci.handler=wasm or module.wasm.image/variant=compat always run
 * process.args[0] as a module; the -smart variants only when it is one (by
 * its magic bytes), so that sidecars in the same pod stay native. */
#include "oci/wasm_handler.h"
#include "oci/process.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *annotation(const struct oci_config *c, const char *key)
{
	for (size_t i = 0; i < c->n_annotations; i++)
		if (!strcmp(c->annotation_keys[i], key))
			return c->annotation_values[i];
	return NULL;
}

int oci_wasm_mode(const struct oci_config *c, enum oci_wasm_mode *mode, struct err *e)
{
	/* run.oci.handler wins over the image's variant, as in crun. */
	const char *h = annotation(c, "run.oci.handler");
	*mode = OCI_WASM_NONE;
	if (h) {
		if (!strcmp(h, "wasm"))
			*mode = OCI_WASM_ALWAYS;
		else if (!strcmp(h, "wasm-smart"))
			*mode = OCI_WASM_SMART;
		else
			return err_set(e, ERR_INPUT,
			               "config.json: annotations.run.oci.handler: '%s' is not a "
			               "handler of capsa (wasm, wasm-smart)",
			               h);
		return 0;
	}
	const char *v = annotation(c, "module.wasm.image/variant");
	if (v && !strcmp(v, "compat"))
		*mode = OCI_WASM_ALWAYS;
	else if (v && !strcmp(v, "compat-smart"))
		*mode = OCI_WASM_SMART;
	return 0;
}

enum { NOT_WASM, WASM_MODULE, WASM_COMPONENT };

/* What the file's header says it is (wasm magic "\0asm", then a version
 * whose upper half, the layer, is 1 for a component), or -1 with errno. */
static int wasm_kind(const char *path)
{
	unsigned char h[8];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, h, sizeof(h));
	int saved = errno;
	close(fd);
	errno = saved;
	if (n < 0)
		return -1;
	if (n < 4 || memcmp(h, "\0asm", 4))
		return NOT_WASM;
	return n == 8 && (h[6] || h[7]) ? WASM_COMPONENT : WASM_MODULE;
}

int oci_wasm_prepare(const struct oci_config *c, struct capsa_wasm_module **out, char *exe,
                     size_t len, struct err *e)
{
	enum oci_wasm_mode mode;
	*out = NULL;
	if (!c->has_process)
		return 0;
	if (oci_wasm_mode(c, &mode, e) < 0)
		return -1;
	if (mode == OCI_WASM_NONE)
		return 0;
	/* A module is read, not executed: it need not be executable. */
	if (oci_find_program(&c->process, 0, exe, len, e) < 0)
		return -1;
	int kind = wasm_kind(exe);
	if (kind < 0)
		return err_set(e, ERR_INPUT, "process.args[0]: %s: %s", exe, strerror(errno));
	if (kind == NOT_WASM && mode == OCI_WASM_SMART) {
		exe[0] = '\0'; /* looked up again as a program, after the change of cwd */
		return 0;
	}
	if (kind == NOT_WASM)
		return err_set(e, ERR_INPUT,
		               "process.args[0]: %s is not a WebAssembly module (no \\0asm "
		               "magic), and the annotations ask for the wasm handler",
		               exe);
	if (kind == WASM_COMPONENT)
		return err_set(e, ERR_INPUT,
		               "process.args[0]: %s is a WebAssembly component (WASI 0.2); capsa "
		               "runs WASI preview1 command modules",
		               exe);
	struct capsa_wasm_module *m = capsa_wasm_module_load_file(exe, e);
	if (!m)
		return err_prefix(e, "process.args[0]");
	if (capsa_wasi_command_check(m, e) < 0) {
		capsa_wasm_module_free(m);
		return err_prefix(e, "process.args[0]: %s", exe);
	}
	*out = m;
	return 0;
}

static int count(char *const *v)
{
	int n = 0;
	while (v && v[n])
		n++;
	return n;
}

int oci_wasm_run(const struct oci_config *c, const struct capsa_wasm_module *m, int preserve_fds,
                 struct capsa_wasi_outcome *out, struct err *e)
{
	const struct oci_process *p = &c->process;
	/* What exec would have closed (oci_process_enter marked it close-on-exec). */
	if (syscall(SYS_close_range, 3 + preserve_fds, ~0U, 0) < 0)
		for (int fd = 3 + preserve_fds; fd < 65536; fd++)
			close(fd);
	/* WASI preview1 has no working directory: wasi-libc starts in "/" of
	 * the preopens. process.cwd reaches the module as $PWD, which Go's
	 * wasip1 port reads at start (and a C program can chdir() to). */
	struct capsa_wasi_preopen root = {.host = "/", .guest = "/"};
	int envc = count(p->env), has_pwd = 0;
	for (int i = 0; i < envc; i++)
		has_pwd |= !strncmp(p->env[i], "PWD=", 4);
	char **env = calloc((size_t)envc + 2, sizeof(char *));
	char pwd[4200];
	if (!env)
		return err_set(e, ERR_SYSTEM, "out of memory");
	memcpy(env, p->env, (size_t)envc * sizeof(char *));
	if (!has_pwd) {
		snprintf(pwd, sizeof(pwd), "PWD=%s", p->cwd);
		env[envc++] = pwd;
	}
	struct capsa_wasi_config wasi = {
	    .argc = count(p->args),
	    .argv = p->args,
	    .envc = envc,
	    .envp = env,
	    .npreopens = 1,
	    .preopens = &root,
	    .stdin_fd = 0,
	    .stdout_fd = 1,
	    .stderr_fd = 2,
	};
	int64_t lim = c->resources.mem_limit;
	struct capsa_wasi_command cmd = {
	    .module = m,
	    .wasi = &wasi,
	    .max_memory = lim != OCI_UNSET && lim > 0 ? (uint64_t)lim : 0,
	    .fuel = -1,
	};
	int rc = capsa_wasi_command_run(&cmd, out, e);
	free(env);
	return rc;
}
