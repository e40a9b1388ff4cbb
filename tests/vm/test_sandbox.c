/* SPDX-License-Identifier: Apache-2.0 */
/* The VMM threads' seccomp filter (vm/sandbox.h): each thread entering it
 * is confined (Seccomp: 2), the second with a set as the first; the common
 * set is allowed, a call outside it ends the process with the line naming
 * it, an extra set allows its calls. It runs in a child process (a filter
 * never goes away). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vm/sandbox.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* In a thread: confine it with `extra`, then open a socket. 0 when the
 * socket was opened, 1 when confining failed (a trap never returns). */
static void *confined_socket(void *arg)
{
	unsigned extra = (unsigned)*(const int *)arg;
	struct err e = {0};
	if (sandbox_enter_thread(extra, &e))
		return (void *)1;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd >= 0)
		close(fd);
	return (void *)(uintptr_t)(fd < 0 ? 2 : 0);
}

/* Is the calling thread, once confined, under a seccomp filter (Seccomp:
 * 2)? Its status file is opened before (openat is not in the common set)
 * and read after; the caller closes it (close is not either), its
 * descriptor left in *arg. */
static void *thread_mode(void *arg)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/self/task/%ld/status", (long)syscall(SYS_gettid));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	*(int *)arg = fd;
	struct err e = {0};
	if (fd < 0 || sandbox_enter_thread(0, &e))
		return (void *)1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	return (void *)(uintptr_t)(strstr(buf, "Seccomp:\t2") ? 0 : 3);
}

static uintptr_t run_thread(void *(*fn)(void *), unsigned extra)
{
	pthread_t t;
	void *rv = NULL;
	int arg = (int)extra;
	if (pthread_create(&t, NULL, fn, &arg) || pthread_join(t, &rv))
		return 99;
	if (fn == thread_mode && arg >= 0)
		close(arg);
	return (uintptr_t)rv;
}

/* Run `body` in a child with stderr into a pipe: its exit status, what it
 * wrote into err. */
static int in_child(int (*body)(void), char *err, size_t cap)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		struct err e = {0};
		_exit(sandbox_init(&e) ? 98 : body());
	}
	close(p[1]);
	ssize_t n = read(p[0], err, cap - 1);
	err[n > 0 ? n : 0] = 0;
	close(p[0]);
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* Two threads with the socket set both open sockets; two with the common
 * set are confined; then a third with the common set opens a socket and the
 * process ends naming the call. */
static int body_confined(void)
{
	if (run_thread(confined_socket, SANDBOX_SOCKETS) ||
	    run_thread(confined_socket, SANDBOX_SOCKETS))
		return 10;
	if (run_thread(thread_mode, 0) || run_thread(thread_mode, 0))
		return 11;
	run_thread(confined_socket, 0); /* traps: never comes back */
	return 12;
}

static void test_threads_confined(void **state)
{
	(void)state;
	char err[512];
	int st = in_child(body_confined, err, sizeof(err));
	if (st != 1)
		printf("# note: status %d: %s\n", st, err);
	assert_int_equal(st, 1);
	char want[96];
	snprintf(want, sizeof(want), "outside its seccomp policy: %d\n", (int)SYS_socket);
	assert_non_null(strstr(err, want));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_threads_confined),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
