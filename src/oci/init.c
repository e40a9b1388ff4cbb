/* SPDX-License-Identifier: Apache-2.0 */
/* The container init before exec: runs in the new namespaces, builds the
 * root file system, waits for start, then becomes the container process. */
#include "oci/init.h"
#include "oci/hooks.h"
#include "oci/process.h"
#include "oci/rootfs.h"
#include "oci/sync.h"
#include "oci/terminal.h"
#include "oci/util.h"
#include "oci/wasm_handler.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static int set_time_offsets(const struct oci_config *c, struct err *e)
{
	char buf[256];
	size_t o = 0;
	for (size_t i = 0; i < c->n_time_offsets; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s %lld %u\n",
		                      c->time_offsets[i].clock, (long long)c->time_offsets[i].secs,
		                      c->time_offsets[i].nanosecs);
	if (o && util_write_str("/proc/self/timens_offsets", buf, e) < 0)
		return err_prefix(e, "linux.timeOffsets");
	return 0;
}

/* The exec phase of a wasm container: become the container's process as
 * for exec, then run the module in it; its exit status is the container's
 * and a trap or a module that cannot start is named on stderr. */
static void __attribute__((noreturn)) run_wasm(struct oci_init_args *a, struct capsa_wasm_module *m,
                                               char *exe, size_t exe_len, const char *state)
{
	struct err e = {0};
	struct oci_config *c = a->cfg;
	struct capsa_wasi_outcome out;
	if (oci_process_enter(c, &c->process, a->userns, a->preserve_fds, a->seccomp_listener,
	                      state, exe, exe_len, &e) < 0) {
		dprintf(2, "capsa: %s\n", e.msg);
		_exit(127);
	}
	if (oci_wasm_run(c, m, a->preserve_fds, &out, &e) < 0) {
		dprintf(2, "capsa: %s: %s\n", exe, e.msg);
		_exit(1);
	}
	if (out.message[0])
		dprintf(2, "capsa: %s: %s\n", exe, out.message);
	_exit(out.status);
}

void oci_init_main(struct oci_init_args *a)
{
	struct err e = {0};
	struct oci_config *c = a->cfg;
	char state[8192];
	int fifo = -1;

	if (a->new_userns)
		oci_sync_expect(a->sock, OCI_MSG_GO, NULL, 0); /* our id maps are written */
	if (a->join_self && oci_cgroup_join_self_v1(a->cg, &e) < 0)
		oci_child_fail(a->sock, &e);
	if (a->new_userns) {
		/* become root of the new user namespace when 0 is mapped */
		if (setresgid(0, 0, 0) == 0)
			setresuid(0, 0, 0);
	}
	for (int i = 0; i < a->n_join; i++) {
		if (setns(a->join_fds[i], a->join_types[i]) < 0) {
			err_sys(&e, "linux.namespaces: joining the %s namespace",
			        oci_ns_name(a->join_types[i]));
			oci_child_fail(a->sock, &e);
		}
		close(a->join_fds[i]);
		if (a->join_types[i] == CLONE_NEWUSER && setresgid(0, 0, 0) == 0)
			setresuid(0, 0, 0);
	}
	if (a->unshare_late & CLONE_NEWTIME) {
		if (unshare(CLONE_NEWTIME) < 0) {
			err_sys(&e, "linux.namespaces: creating the time namespace");
			oci_child_fail(a->sock, &e);
		}
		if (set_time_offsets(c, &e) < 0)
			oci_child_fail(a->sock, &e);
	}
	if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0) {
		err_sys(&e, "hostname: setting '%s'", c->hostname);
		oci_child_fail(a->sock, &e);
	}
	if (c->domainname && c->domainname[0] &&
	    setdomainname(c->domainname, strlen(c->domainname)) < 0) {
		err_sys(&e, "domainname: setting '%s'", c->domainname);
		oci_child_fail(a->sock, &e);
	}
	if (oci_process_limits(&c->process, &e) < 0)
		oci_child_fail(a->sock, &e);
	fifo = a->fifo;
	struct oci_rootfs_ctx ctx = {.cfg = c,
	                             .bundle = a->bundle,
	                             .cg = a->cg,
	                             .userns = a->userns,
	                             .idmap_fds = a->idmap_fds};
	/* A mount namespace, new or joined by path, gets the container's root
	 * built in it; without one the runtime's is inherited (runtime-spec) and
	 * the process is only chrooted (create refuses mounts then). */
	int setup_fs = oci_config_ns(c, CLONE_NEWNS) != NULL;
	if (setup_fs && oci_rootfs_setup(&ctx, &e) < 0)
		oci_child_fail(a->sock, &e);
	/* Nothing of the container may run outside its cgroup: hooks and a
	 * cgroup namespace wait for it here, otherwise just before READY (the
	 * move can take milliseconds; pivot_root and the rest overlap it). */
	if (a->need_sync)
		oci_sync_expect(a->sock, OCI_MSG_JOINED, NULL, 0);
	/* Hooks, a cgroup namespace and a seccomp listener need the runtime's
	 * go-ahead (and the state); otherwise the fifo wait orders things. */
	strcpy(state, "{}");
	if (a->need_sync) {
		oci_sync_hooks(a->sock, state, sizeof(state));
	}
	/* The runtime has moved us into our cgroup by now. */
	if (a->unshare_late & CLONE_NEWCGROUP && unshare(CLONE_NEWCGROUP) < 0) {
		err_sys(&e, "linux.namespaces: creating the cgroup namespace");
		oci_child_fail(a->sock, &e);
	}
	if (oci_hooks_run(c, OCI_HOOK_CREATE_CONTAINER, state, &e) < 0)
		oci_child_fail(a->sock, &e);
	if (setup_fs) {
		if (oci_rootfs_pivot(&ctx, a->no_pivot, &e) < 0 || oci_rootfs_finish(&ctx, &e) < 0)
			oci_child_fail(a->sock, &e);
	} else if (chroot(c->root_path) < 0 || chdir("/") < 0) {
		err_sys(&e, "root.path: entering %s (chroot)", c->root_path);
		oci_child_fail(a->sock, &e);
	}
	if (c->process.terminal) {
		if (oci_terminal_setup(a->console, &e) < 0)
			oci_child_fail(a->sock, &e);
		close(a->console);
	}
	/* Whatever can fail before the process starts fails create. */
	char exe[4096] = "";
	struct capsa_wasm_module *wasm = NULL;
	if (oci_wasm_prepare(c, &wasm, exe, sizeof(exe), &e) < 0 ||
	    (!wasm && oci_find_exec(&c->process, exe, sizeof(exe), &e) < 0) ||
	    oci_process_check(c, &c->process, &e) < 0)
		oci_child_fail(a->sock, &e);
	if (!a->need_sync)
		oci_sync_expect(a->sock, OCI_MSG_JOINED, NULL, 0);
	if (oci_msg_send(a->sock, OCI_MSG_READY, NULL) < 0)
		_exit(1);
	/* Wait for start: it writes one byte into the fifo. */
	char one;
	ssize_t r;
	do
		r = read(fifo, &one, 1);
	while (r < 0 && errno == EINTR);
	close(fifo);
	close(a->sock);
	if (r != 1)
		_exit(1);
	if (oci_hooks_run(c, OCI_HOOK_START_CONTAINER, state, &e) < 0) {
		dprintf(2, "capsa: %s\n", e.msg);
		_exit(1);
	}
	if (wasm)
		run_wasm(a, wasm, exe, sizeof(exe), state);
	oci_process_exec(c, &c->process, a->userns, a->preserve_fds, a->seccomp_listener, state,
	                 &e);
	dprintf(2, "capsa: %s\n", e.msg);
	_exit(127);
}
