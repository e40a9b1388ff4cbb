/* SPDX-License-Identifier: Apache-2.0 */
/* The VMM threads' seccomp filters: a filter built ahead and loaded later
 * allows and refuses what the filter built on the spot does (each case in
 * a child process, since a filter cannot be removed). */
#include "common/testutil.h"

#include "vm/sandbox.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum how { ON_THE_SPOT, AHEAD };

/* In a child: confine it, make an allowed call (write to a pipe), then
 * socket(2), which the common set refuses unless SANDBOX_SOCKETS. Exit 0
 * when socket succeeded, 3 when the write failed; the SIGSYS reporter
 * exits 1 when the call is refused. */
static int run_child(enum how how, unsigned extra, int pipe_w)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct err e = {0};
		struct sandbox_filter f;
		if (sandbox_init(&e))
			_exit(4);
		if (how == AHEAD && sandbox_filter_build(extra, &f, &e))
			_exit(5);
		if (how == AHEAD ? sandbox_enter_filter(&f, &e) : sandbox_enter_thread(extra, &e))
			_exit(6);
		if (write(pipe_w, "x", 1) != 1)
			_exit(3);
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		_exit(s >= 0 ? 0 : 7);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void expect_same(unsigned extra, int want)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	for (int how = ON_THE_SPOT; how <= AHEAD; how++) {
		assert_int_equal(run_child((enum how)how, extra, p[1]), want);
		char c;
		assert_int_equal(read(p[0], &c, 1), 1); /* the allowed write went through */
	}
	close(p[0]);
	close(p[1]);
}

static void test_common_set_refuses_sockets(void **state)
{
	(void)state;
	expect_same(0, 1);
}

static void test_socket_extra_allows_them(void **state)
{
	(void)state;
	expect_same(SANDBOX_SOCKETS, 0);
}

static void test_filter_free_is_idempotent(void **state)
{
	(void)state;
	struct err e = {0};
	struct sandbox_filter f;
	assert_int_equal(sandbox_filter_build(SANDBOX_UFFD | SANDBOX_NET, &f, &e), 0);
	assert_non_null(f.prog);
	assert_true(f.len > 10);
	sandbox_filter_free(&f);
	assert_null(f.prog);
	assert_int_equal(f.len, 0);
	sandbox_filter_free(&f);
}

int main(void)
{
	unsetenv("CAPSA_NO_SECCOMP");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_common_set_refuses_sockets),
	    cmocka_unit_test(test_socket_extra_allows_them),
	    cmocka_unit_test(test_filter_free_is_idempotent),
	};
	return cmocka_run_group_tests_name("vm/sandbox", tests, NULL, NULL);
}
