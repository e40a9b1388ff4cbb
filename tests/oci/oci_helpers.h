/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the OCI runtime tests: a busybox-static bundle in a temporary
 * directory, a wrapper around the capsa binary and the checks the tests
 * share (a step that must succeed or fail with a named error, expected
 * output lines, waiting for a container to stop). Header-only so that each
 * test program stays one file. */
#ifndef CAPSA_TESTS_OCI_HELPERS_H
#define CAPSA_TESTS_OCI_HELPERS_H

#include "common/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUSYBOX "/bin/busybox"

struct bundle {
	char dir[256];
	char root[300]; /* --root state directory */
	char id[64];
};

/* Extra JSON pieces spliced into config.json (each may be NULL). */
struct bundle_opts {
	const char *args;       /* JSON array, default ["true"] */
	const char *process;    /* extra members of "process" (leading comma) */
	const char *lnx;        /* extra members of "linux" (leading comma) */
	const char *top;        /* extra top-level members (leading comma) */
	const char *namespaces; /* replaces the namespace list */
	const char *mounts;     /* extra mounts (leading comma) */
	const char *caps;       /* JSON array for all capability sets */
	int readonly;
};

static inline int have_busybox(void)
{
	return access(BUSYBOX, X_OK) == 0;
}

static inline void write_text(const char *path, const char *fmt, ...)
{
	va_list ap;
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

/* Build rootfs/ with busybox and its applet links. */
static inline int bundle_rootfs(struct bundle *b)
{
	char p[512], cmd[1024];
	const char *dirs[] = {"rootfs",     "rootfs/bin", "rootfs/proc", "rootfs/dev",
	                      "rootfs/sys", "rootfs/tmp", "rootfs/etc",  "rootfs/root"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", b->dir, dirs[i]);
		mkdir(p, 0755);
	}
	snprintf(cmd, sizeof(cmd),
	         "cp %s %s/rootfs/bin/busybox && cd %s/rootfs/bin && "
	         "for a in $(./busybox --list); do [ -e $a ] || ln -s busybox $a; done",
	         BUSYBOX, b->dir, b->dir);
	if (system(cmd) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s/rootfs/etc/passwd", b->dir);
	write_text(p, "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n");
	snprintf(p, sizeof(p), "%s/rootfs/etc/group", b->dir);
	write_text(p, "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n");
	return 0;
}

/* The namespaces of a bundle unless bundle_opts.namespaces says otherwise;
 * NAMESPACES_AND(T) adds one of type T. */
#define DEFAULT_NAMESPACES                                                                         \
	"{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"           \
	"{\"type\":\"network\"}"
#define NAMESPACES_AND(T) "[" DEFAULT_NAMESPACES ",{\"type\":\"" T "\"}]"

/* bundle_opts.mounts: the container's cgroups at /sys/fs/cgroup, read-only. */
#define CGROUP_RO_MOUNT                                                                            \
	",{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","          \
	"\"options\":[\"ro\"]}"

static const char default_caps[] =
    "[\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FOWNER\",\"CAP_FSETID\",\"CAP_KILL\","
    "\"CAP_SETGID\",\"CAP_SETUID\",\"CAP_SETPCAP\",\"CAP_NET_BIND_SERVICE\",\"CAP_NET_RAW\","
    "\"CAP_SYS_CHROOT\",\"CAP_MKNOD\",\"CAP_AUDIT_WRITE\",\"CAP_SETFCAP\"]";

static inline void bundle_config(struct bundle *b, const struct bundle_opts *o)
{
	char p[512];
	const char *caps = o && o->caps ? o->caps : default_caps;
	snprintf(p, sizeof(p), "%s/config.json", b->dir);
	write_text(
	    p,
	    "{\"ociVersion\":\"1.2.0\","
	    "\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},"
	    "\"args\":%s,\"env\":[\"PATH=/bin\",\"HOME=/root\"],\"cwd\":\"/\","
	    "\"capabilities\":{\"bounding\":%s,\"effective\":%s,\"permitted\":%s},"
	    "\"noNewPrivileges\":true%s},"
	    "\"root\":{\"path\":\"rootfs\",\"readonly\":%s},"
	    "\"hostname\":\"capsatest\","
	    "\"mounts\":["
	    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	    "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
	    "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
	    "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
	    "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\"]},"
	    "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
	    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
	    "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
	    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
	    "{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}%s],"
	    "\"linux\":{\"namespaces\":%s,"
	    "\"maskedPaths\":[\"/proc/kcore\",\"/proc/keys\",\"/sys/firmware\"],"
	    "\"readonlyPaths\":[\"/proc/sys\",\"/proc/bus\"]%s}%s}",
	    o && o->args ? o->args : "[\"true\"]", caps, caps, caps,
	    o && o->process ? o->process : "", o && o->readonly ? "true" : "false",
	    o && o->mounts ? o->mounts : "",
	    o && o->namespaces ? o->namespaces : "[" DEFAULT_NAMESPACES "]",
	    o && o->lnx ? o->lnx : "", o && o->top ? o->top : "");
}

static int bundle_seq;

/* A new bundle with a rootfs; returns 0 or -1. */
static inline int bundle_new(struct bundle *b, const struct bundle_opts *o)
{
	char *t = test_tmpdir();
	if (!t)
		return -1;
	snprintf(b->dir, sizeof(b->dir), "%s", t);
	free(t);
	chmod(b->dir, 0755); /* reachable from a user namespace too */
	snprintf(b->root, sizeof(b->root), "%s/state", b->dir);
	snprintf(b->id, sizeof(b->id), "t%d-%d", (int)getpid(), ++bundle_seq);
	if (bundle_rootfs(b) < 0)
		return -1;
	bundle_config(b, o);
	return 0;
}

static inline void bundle_free(struct bundle *b)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", b->dir);
}

/* Run argv with stdout/stderr going to files (a container init may keep
 * them open long after capsa exits, so pipes would not do). */
static inline void run_files(struct run_result *r, const char *dir, char *const argv[],
                             double timeout)
{
	char out[512], err[512];
	static int seq;
	memset(r, 0, sizeof(*r));
	snprintf(out, sizeof(out), "%s/.out.%d", dir, ++seq);
	snprintf(err, sizeof(err), "%s/.err.%d", dir, seq);
	double t0 = now_secs();
	pid_t pid = fork();
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int n = open("/dev/null", O_RDONLY);
		if (o < 0 || e < 0 || n < 0 || chdir(dir) < 0)
			_exit(126);
		dup2(n, 0);
		dup2(o, 1);
		dup2(e, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	int st = 0;
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (now_secs() - t0 > timeout) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			r->timed_out = 1;
			break;
		}
		usleep(2000);
	}
	r->secs = now_secs() - t0;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = read_file(out, NULL);
	r->err = read_file(err, NULL);
	if (!r->out)
		r->out = strdup("");
	if (!r->err)
		r->err = strdup("");
	unlink(out);
	unlink(err);
}

static inline void capsa_v(struct run_result *r, struct bundle *b, double timeout, va_list ap)
{
	char *argv[64];
	int n = 0;
	argv[n++] = (char *)test_capsa_bin();
	argv[n++] = "--root";
	argv[n++] = b->root;
	for (char *a; n < 62 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	argv[n] = NULL;
	run_files(r, b->dir, argv, timeout);
}

/* Run capsa --root B->root ARGS... (NULL-terminated) in the bundle dir. */
static inline void capsa(struct run_result *r, struct bundle *b, double timeout, ...)
{
	va_list ap;
	va_start(ap, timeout);
	capsa_v(r, b, timeout, ap);
	va_end(ap);
}

/* Fail (showing the output) unless R exited with status 0 in time. */
static inline void expect_ok(const struct run_result *r, const char *what)
{
	if (r->status != 0 || r->timed_out)
		fail_msg("%s: status %d%s\nstdout: %s\nstderr: %s", what, r->status,
		         r->timed_out ? " (timed out)" : "", r->out, r->err);
}

/* Fail unless R exited with STATUS and its stderr contains WANT. */
static inline void expect_error(const struct run_result *r, int status, const char *want)
{
	if (r->status != status || !strstr(r->err, want))
		fail_msg("status %d, stderr '%s' (wanted %d and '%s')", r->status, r->err, status,
		         want);
}

/* Fail unless each of the N strings in WANT is in R's stdout. */
static inline void expect_out_all(const struct run_result *r, const char *const want[], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strstr(r->out, want[i]))
			fail_msg("missing '%s' in:\n%s\nstderr: %s", want[i], r->out, r->err);
}
#define EXPECT_OUT_ALL(r, want) expect_out_all(r, want, sizeof(want) / sizeof(want[0]))

/* capsa ARGS... (NULL-terminated) must succeed; WHAT names the step. */
static inline void capsa_ok(struct bundle *b, double timeout, const char *what, ...)
{
	struct run_result r;
	va_list ap;
	va_start(ap, what);
	capsa_v(&r, b, timeout, ap);
	va_end(ap);
	expect_ok(&r, what);
	run_result_free(&r);
}

/* capsa ARGS... (NULL-terminated) must exit with STATUS, naming WANT on stderr. */
static inline void capsa_fails(struct bundle *b, double timeout, int status, const char *want, ...)
{
	struct run_result r;
	va_list ap;
	va_start(ap, want);
	capsa_v(&r, b, timeout, ap);
	va_end(ap);
	expect_error(&r, status, want);
	run_result_free(&r);
}

/* A new bundle from O whose "capsa run" must succeed; R holds its output
 * (the caller frees R and B). */
static inline void run_new_bundle(struct bundle *b, const struct bundle_opts *o,
                                  struct run_result *r, double timeout, const char *what)
{
	assert_int_equal(bundle_new(b, o), 0);
	capsa(r, b, timeout, "run", b->id, NULL);
	expect_ok(r, what);
}

/* BUF = the path of NAME in the bundle directory. */
static inline char *bundle_path(const struct bundle *b, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", b->dir, name);
	return buf;
}

/* The contents of the pid file NAME in the bundle (must exist; free it). */
static inline char *read_pid_file(const struct bundle *b, const char *name)
{
	char p[512];
	char *pid = read_file(bundle_path(b, name, p, sizeof(p)), NULL);
	assert_non_null(pid);
	assert_true(atoi(pid) > 1);
	return pid;
}

/* bundle_opts.mounts: the bundle directory bound at /hostdir. */
static inline const char *hostdir_mount(const struct bundle *b, char *buf, size_t len)
{
	snprintf(buf, len,
	         ",{\"destination\":\"/hostdir\",\"source\":\"%s\",\"options\":[\"bind\"]}",
	         b->dir);
	return buf;
}

/* A listening unix socket at PATH (must succeed). */
static inline int listen_unix(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	return fd;
}

/* Does a cgroup directory for the container exist in any hierarchy? */
static inline int cgroup_leftover(const char *id)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
	         "ls -d /sys/fs/cgroup/*/capsa/%s /sys/fs/cgroup/capsa/%s "
	         ">/dev/null 2>&1",
	         id, id);
	return system(cmd) == 0;
}

static inline int state_leftover(struct bundle *b)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", b->root, b->id);
	return access(p, F_OK) == 0;
}

/* Is /sys/fs/cgroup a cgroup2 (unified only) mount? */
static inline int cgroup_v2_host(void)
{
	struct statfs sf;
	return statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == 0x63677270; /* CGROUP2 */
}

static inline int is_root(void)
{
	return geteuid() == 0;
}

/* Reap container inits that get reparented to us. */
static inline void become_subreaper(void)
{
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}
static inline void reap_all(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Wait (reaping) until the container is stopped; fail after about 5 s. */
static inline void wait_stopped(struct bundle *b)
{
	struct run_result r;
	for (int i = 0; i < 500; i++) {
		reap_all();
		capsa(&r, b, 10, "state", b->id, NULL);
		int stopped = strstr(r.out, "\"status\": \"stopped\"") != NULL;
		run_result_free(&r);
		if (stopped)
			return;
		usleep(10000);
	}
	fail_msg("container %s did not stop", b->id);
}

/* A daemon a test starts (dockerd, containerd): output to LOG; it gets
 * SIGTERM if the test dies before stopping it. */
static inline pid_t daemon_start(char *const argv[], const char *log)
{
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int n = open("/dev/null", O_RDONLY);
		if (fd < 0 || n < 0)
			_exit(126);
		dup2(n, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* SIGTERM, up to SECS seconds to exit, then SIGKILL. */
static inline void daemon_stop(pid_t pid, double secs)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (double t0 = now_secs(); now_secs() - t0 < secs; usleep(20000))
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Detach every mount at or below DIR (what a killed daemon left). */
static inline void unmount_below(const char *dir)
{
	for (int round = 0; round < 8; round++) {
		char *t = read_file("/proc/self/mountinfo", NULL);
		int found = 0;
		size_t n = strlen(dir);
		for (char *line = t; line && *line;) {
			char *end = strchr(line, '\n');
			if (end)
				*end = '\0';
			char mp[1024];
			if (sscanf(line, "%*s %*s %*s %*s %1023s", mp) == 1 &&
			    !strncmp(mp, dir, n) && (mp[n] == '/' || mp[n] == '\0') &&
			    umount2(mp, MNT_DETACH) == 0)
				found = 1;
			line = end ? end + 1 : NULL;
		}
		free(t);
		if (!found)
			return;
	}
}

/* wasm containers: clang with wasi-libc builds tests/oci/progs/wasm_hello.c. */
static inline int have_wasm_toolchain(void)
{
	return access("/usr/bin/clang", X_OK) == 0 && access("/usr/bin/wasm-ld", X_OK) == 0 &&
	       access("/usr/lib/wasm32-wasi/libc.a", R_OK) == 0;
}

/* Compile the test program into OUT, as wasm32-wasi or natively. */
static inline int compile_wasm_hello(const char *out, int wasm)
{
	char src[512];
	snprintf(src, sizeof(src), "%s/tests/oci/progs/wasm_hello.c", test_root());
	char *wargv[] = {"/usr/bin/clang",
	                 "--target=wasm32-wasi",
	                 "--sysroot=/usr",
	                 "-O2",
	                 src,
	                 "-o",
	                 (char *)out,
	                 NULL};
	char *nargv[] = {"/usr/bin/clang", "-O2", "-static", src, "-o", (char *)out, NULL};
	struct run_result r;
	run_cmd(&r, wasm ? wargv : nargv, 120);
	if (r.status)
		printf("# compiling %s: %s\n", src, r.err);
	int st = r.status;
	run_result_free(&r);
	return st;
}

/* A root holding only the module (/hello.wasm), the file it reads
 * (/data/input.txt) and the directory it writes to (/work). */
static inline int wasm_rootfs(const char *dir)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/data", dir);
	if ((mkdir(dir, 0755) < 0 && errno != EEXIST) || mkdir(p, 0755) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/work", dir);
	if (mkdir(p, 0755) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/data/input.txt", dir);
	write_text(p, "input from the image\n");
	snprintf(p, sizeof(p), "%s/hello.wasm", dir);
	return compile_wasm_hello(p, 1);
}

#define REQUIRE_ROOT_AND_BUSYBOX()                                                                 \
	do {                                                                                       \
		if (!is_root())                                                                    \
			skip_because("needs root for namespaces and cgroups");                     \
		if (!have_busybox())                                                               \
			skip_because("busybox-static is not installed (%s)", BUSYBOX);             \
	} while (0)

#endif
