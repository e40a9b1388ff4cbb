/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the VM integration tests: run `capsa vm run` on a test guest. */
#ifndef CAPSA_TESTS_VMTEST_H
#define CAPSA_TESTS_VMTEST_H

#include "common/testutil.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VMTEST_MAX_ARGS 32

static inline const char *guest_path(const char *name)
{
	static char buf[8][4096];
	static int slot;
	char *b = buf[slot++ % 8];
	snprintf(b, sizeof(buf[0]), "%s/build/guests/%s", test_root(), name);
	return b;
}

static inline int have_kvm(void)
{
	return access("/dev/kvm", R_OK | W_OK) == 0;
}

/* The accelerator the current group of VM tests runs on ("kvm" or "emu"):
 * `capsa vm run` children inherit it through CAPSA_ACCEL. */
static inline const char *vm_test_accel(void)
{
	const char *a = getenv("CAPSA_ACCEL");
	return a && *a ? a : "auto";
}

static inline int accel_is_kvm(void)
{
	return !strcmp(vm_test_accel(), "kvm") || (!strcmp(vm_test_accel(), "auto") && have_kvm());
}

/* Does the guest run on paravirtual KVM (32-bit int $0x80 user space only,
 * docs/vm.md)? Never under the software CPU. */
static inline int vm_guest_pvm(void)
{
	return accel_is_kvm() && access("/sys/module/kvm_pvm", F_OK) == 0;
}

/* Tests that need KVM itself (not just a VM) skip on hosts without it. */
#define REQUIRE_KVM()                                                                              \
	do {                                                                                       \
		if (accel_is_kvm() && !have_kvm())                                                 \
			skip_because("host has no usable /dev/kvm");                               \
	} while (0)

/* Tests of Linux with 64-bit user space: paravirtual KVM cannot deliver
 * its system calls, so they skip there (docs/vm.md). */
#define REQUIRE_USER64_GUEST()                                                                     \
	do {                                                                                       \
		REQUIRE_KVM();                                                                     \
		if (vm_guest_pvm())                                                                \
			skip_because("paravirtual KVM cannot deliver system calls from 64-bit "    \
			             "guest user space (docs/vm.md)");                             \
	} while (0)

/* Runs a group of VM tests once per accelerator: the software CPU always,
 * KVM where /dev/kvm can be used. CAPSA_TEST_ACCELS ("emu", "kvm" or
 * both) narrows the choice, e.g. to reproduce one failure. */
static inline int run_vm_groups(const char *name, const struct CMUnitTest *tests, size_t n,
                                CMFixtureFunction setup, CMFixtureFunction teardown)
{
	const char *want = getenv("CAPSA_TEST_ACCELS");
	static const char *const accels[] = {"emu", "kvm"};
	int rc = 0;
	for (size_t a = 0; a < 2; a++) {
		if (want && *want && !strstr(want, accels[a]))
			continue;
		if (!strcmp(accels[a], "kvm") && !have_kvm()) {
			printf("# note: %s: not run under KVM: host has no usable /dev/kvm\n",
			       name);
			continue;
		}
		setenv("CAPSA_ACCEL", accels[a], 1);
		char gname[256];
		snprintf(gname, sizeof(gname), "%s [%s]", name, accels[a]);
		rc |= _cmocka_run_group_tests(gname, tests, n, setup, teardown);
	}
	return rc;
}
#define RUN_VM_GROUPS(name, tests, setup, teardown)                                                \
	run_vm_groups(name, tests, sizeof(tests) / sizeof((tests)[0]), setup, teardown)

/* A temporary directory for a whole group of tests: vm_tmp_setup and
 * vm_tmp_teardown as the group's fixtures, tmp(NAME) for paths in it
 * (eight rotating buffers). */
static char *vm_tmp_dir;

static inline int vm_tmp_setup(void **state)
{
	(void)state;
	vm_tmp_dir = test_tmpdir();
	return vm_tmp_dir ? 0 : -1;
}

static inline int vm_tmp_teardown(void **state)
{
	(void)state;
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", vm_tmp_dir);
	int rc = system(cmd);
	free(vm_tmp_dir);
	return rc == 0 ? 0 : -1;
}

static inline const char *tmp(const char *name)
{
	static char buf[8][4200];
	static int slot;
	char *b = buf[slot++ % 8];
	snprintf(b, sizeof(buf[0]), "%s/%s", vm_tmp_dir, name);
	return b;
}

/* run capsa with `pre` (npre words) and then the NULL-terminated list */
static inline void capsa_vrun(struct run_result *r, double timeout, const char *const *pre,
                              int npre, const char *first, va_list ap)
{
	char *argv[VMTEST_MAX_ARGS];
	int n = 0;
	argv[n++] = (char *)test_capsa_bin();
	for (int i = 0; i < npre; i++)
		argv[n++] = (char *)pre[i];
	for (const char *a = first; a && n < VMTEST_MAX_ARGS - 1; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	argv[n] = NULL;
	run_cmd(r, argv, timeout);
}

/* run `capsa ARGS...` (NULL-terminated), timeout in seconds */
static inline void capsa_run(struct run_result *r, double timeout, const char *first, ...)
{
	va_list ap;
	va_start(ap, first);
	capsa_vrun(r, timeout, NULL, 0, first, ap);
	va_end(ap);
}

/* run `capsa vm run ARGS...` (NULL-terminated), timeout in seconds */
static inline void vm_run_args(struct run_result *r, double timeout, const char *first, ...)
{
	static const char *const pre[] = {"vm", "run"};
	va_list ap;
	va_start(ap, first);
	capsa_vrun(r, timeout, pre, 2, first, ap);
	va_end(ap);
}

/* The guest kernel that `make test` builds (build/guest/kernel-path). */
static inline void guest_kernel(char *out, size_t cap)
{
	char kpath[4096];
	snprintf(kpath, sizeof(kpath), "%s/build/guest/kernel-path", test_root());
	char *dir = read_file(kpath, NULL);
	assert_non_null(dir); /* `make test` builds the guest kernel first */
	dir[strcspn(dir, "\n")] = '\0';
	snprintf(out, cap, "%s/vmlinux", dir);
	free(dir);
}

/* A 24 MiB ext4 image `img` made by `capsa image create` from the directory
 * `root` (created): Debian's busybox-static as /bin/busybox with a link for
 * each of `applets` (NULL-terminated), empty /dev /proc /sbin, `words` as
 * /etc/words and `init` as /init.sh (mode 0755). Fails the test on error. */
static inline void busybox_image(const char *root, const char *const *applets, const char *words,
                                 const char *init, const char *img)
{
	char p[4300];
	assert_int_equal(mkdir(root, 0755), 0);
	static const char *const dirs[] = {"bin", "dev", "proc", "etc", "sbin"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	snprintf(p, sizeof(p), "%s/bin/busybox", root);
	char *const cp[] = {"/bin/cp", "/bin/busybox", p, NULL};
	struct run_result r;
	run_cmd(&r, cp, 30);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	/* busybox --install needs a running busybox: the links are made here */
	for (size_t i = 0; applets[i]; i++) {
		snprintf(p, sizeof(p), "%s/bin/%s", root, applets[i]);
		assert_int_equal(symlink("busybox", p), 0);
	}
	snprintf(p, sizeof(p), "%s/etc/words", root);
	assert_int_equal(write_file(p, words, strlen(words)), 0);
	snprintf(p, sizeof(p), "%s/init.sh", root);
	assert_int_equal(write_file(p, init, strlen(init)), 0);
	assert_int_equal(chmod(p, 0755), 0);
	capsa_run(&r, 60, "image", "create", "--from", root, "--size", "24M", img, NULL);
	if (r.status)
		printf("# note: capsa image create: %s\n", r.err);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
}

/* `capsa vm run` on the test guest with `cmdline`; further options follow,
 * NULL-terminated. */
#define run_testguest(r, timeout, cmdline, ...)                                                    \
	vm_run_args(r, timeout, "--kernel", guest_path("testguest.elf"), "--cmdline", cmdline,     \
	            __VA_ARGS__)

/* Value after "key: " on its own line in text, copied into out. */
static inline int line_value(const char *text, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, key, kl) && p[kl] == ':' && p[kl + 1] == ' ') {
			const char *v = p + kl + 2;
			size_t l = strcspn(v, "\n");
			if (l >= cap)
				l = cap - 1;
			memcpy(out, v, l);
			out[l] = '\0';
			return 0;
		}
	}
	return -1;
}

/* Start `capsa vm run` on the test guest with `cmdline` and `cpus` vCPUs,
 * stdout into `out_fd`, stdin and stderr on /dev/null. Returns the pid. */
/* ... with up to three more arguments (NULL ends them early). */
static inline pid_t spawn_guest_with(int out_fd, const char *cmdline, const char *cpus,
                                     const char *a1, const char *a2, const char *a3)
{
	pid_t pid = fork();
	if (pid == 0) {
		dup2(out_fd, 1);
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 2);
		execl(test_capsa_bin(), "capsa", "vm", "run", "--kernel",
		      guest_path("testguest.elf"), "--cmdline", cmdline, "--cpus", cpus, a1, a2, a3,
		      (char *)NULL);
		_exit(127);
	}
	return pid;
}

static inline pid_t spawn_guest(int out_fd, const char *cmdline, const char *cpus)
{
	return spawn_guest_with(out_fd, cmdline, cpus, NULL, NULL, NULL);
}

/* Read fd into buf (NUL-terminated) until `marker` shows up, EOF, or
 * `timeout` seconds; 1 if the marker was seen. */
static inline int read_until(int fd, char *buf, size_t cap, const char *marker, double timeout)
{
	size_t got = 0;
	double t0 = now_secs();
	buf[0] = '\0';
	while (got < cap - 1 && now_secs() - t0 < timeout) {
		ssize_t k = read(fd, buf + got, cap - 1 - got);
		if (k <= 0)
			break;
		got += (size_t)k;
		buf[got] = '\0';
		if (strstr(buf, marker))
			return 1;
	}
	return strstr(buf, marker) != NULL;
}

/* Wait up to `timeout` s for `pid`; on timeout kill it and return 0. Puts the
 * wait status in *st and the time waited in *took. Returns the pid reaped. */
static inline pid_t wait_with_deadline(pid_t pid, double timeout, int *st, double *took)
{
	double t0 = now_secs();
	pid_t w = 0;
	while ((w = waitpid(pid, st, WNOHANG)) == 0 && now_secs() - t0 < timeout)
		usleep(1000);
	*took = now_secs() - t0;
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, st, 0);
	}
	return w;
}

#endif
