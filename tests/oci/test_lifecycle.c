/* SPDX-License-Identifier: Apache-2.0 */
/* Integration tests as root: the container lifecycle, what a container
 * gets (namespaces, mounts, devices, capabilities, user, rlimits) and
 * clean failures without leftovers. */
#include "oci_helpers.h"

static void test_run_output_and_status(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	struct bundle b;
	struct bundle_opts o = {.args = "[\"sh\",\"-c\",\"echo hello from $(hostname); exit 7\"]"};
	assert_int_equal(bundle_new(&b, &o), 0);
	struct run_result r;
	capsa(&r, &b, 30, "run", b.id, NULL);
	assert_int_equal(r.status, 7);
	assert_non_null(strstr(r.out, "hello from capsatest"));
	test_measured("capsa run (ASan build) took %.0f ms", r.secs * 1000);
	run_result_free(&r);
	assert_false(state_leftover(&b));
	assert_false(cgroup_leftover(b.id));
	bundle_free(&b);
}

static void test_container_view(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	struct bundle b;
	struct bundle_opts o = {
	    .args = "[\"sh\",\"-c\",\"echo pid=$$; grep CapEff /proc/self/status; "
	            "grep NoNewPrivs /proc/self/status; echo keys=$(wc -c < /proc/keys); "
	            "ls /sys/firmware | wc -l; "
	            "(echo 1 > /proc/sys/vm/overcommit_memory) 2>/dev/null && echo sys=rw || "
	            "echo sys=ro; touch /rootfile 2>/dev/null && echo root=rw || echo root=ro; "
	            "touch /tmp/x && echo tmp=rw; ls -l /dev/null /dev/zero /dev/urandom; "
	            "readlink /dev/ptmx; readlink /dev/fd; ls /dev/pts; ip link 2>/dev/null | grep "
	            "-c '^[0-9]'; "
	            "id; ulimit -n; umask; cat /proc/self/oom_score_adj\"]",
	    .process = ",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":123,\"hard\":456}],"
	               "\"oomScoreAdj\":123",
	    .caps = "[\"CAP_KILL\",\"CAP_CHOWN\"]",
	    .readonly = 1,
	};
	struct run_result r;
	run_new_bundle(&b, &o, &r, 30, "run");
	const char *want[] = {
	    "pid=1\n",
	    "CapEff:\t0000000000000021\n", /* CAP_CHOWN | CAP_KILL */
	    "NoNewPrivs:\t1\n",
	    "keys=0\n",
	    "sys=ro\n",
	    "root=ro\n",
	    "tmp=rw\n",
	    "crw-rw-rw-    1 root     root        1,   3",
	    "pts/ptmx\n/proc/self/fd\n",
	    "ptmx\n",
	    "uid=0(root) gid=0(root)",
	    "123\n",
	    "0022\n",
	};
	EXPECT_OUT_ALL(&r, want);
	/* only the loopback device in a new network namespace */
	assert_non_null(strstr(r.out, "\n1\n"));
	run_result_free(&r);
	bundle_free(&b);
}

static void test_user_and_groups(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	struct bundle b;
	struct bundle_opts o = {
	    .args = "[\"sh\",\"-c\",\"id -u; id -g; id -G; grep CapEff /proc/self/status\"]",
	    .process = ",\"user\":{\"uid\":1000,\"gid\":1001,\"additionalGids\":[5,77],"
	               "\"umask\":63}",
	};
	/* "user" given twice: the second wins in json-c, like in most parsers */
	struct run_result r;
	run_new_bundle(&b, &o, &r, 30, "run");
	assert_non_null(strstr(r.out, "1000\n1001\n"));
	assert_non_null(strstr(r.out, "1001 5 77"));
	/* capabilities are cleared for a non-root user unless configured */
	assert_non_null(strstr(r.out, "CapEff:\t0000000000000000"));
	run_result_free(&r);
	bundle_free(&b);
}

static void test_lifecycle(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	become_subreaper();
	struct bundle b;
	struct bundle_opts o = {.args = "[\"sleep\",\"60\"]"};
	assert_int_equal(bundle_new(&b, &o), 0);
	char pidfile[512];
	bundle_path(&b, "pid", pidfile, sizeof(pidfile));
	capsa_ok(&b, 30, "create", "create", "--bundle", b.dir, "--pid-file", pidfile, b.id, NULL);
	char *pid = read_pid_file(&b, "pid");
	struct run_result r;
	capsa(&r, &b, 10, "state", b.id, NULL);
	expect_ok(&r, "state");
	assert_non_null(strstr(r.out, "\"status\": \"created\""));
	char want[64];
	snprintf(want, sizeof(want), "\"pid\": %s,", pid);
	assert_non_null(strstr(r.out, want));
	run_result_free(&r);
	/* the process has not started yet */
	capsa_ok(&b, 10, "start", "start", b.id, NULL);
	capsa(&r, &b, 10, "state", b.id, NULL);
	assert_non_null(strstr(r.out, "\"status\": \"running\""));
	run_result_free(&r);
	capsa_fails(&b, 10, 2, "running", "start", b.id, NULL); /* already running */
	capsa(&r, &b, 10, "list", NULL);
	assert_non_null(strstr(r.out, b.id));
	assert_non_null(strstr(r.out, "running"));
	run_result_free(&r);
	capsa(&r, &b, 10, "list", "--format", "json", NULL);
	assert_true(r.out[0] == '[');
	assert_non_null(strstr(r.out, b.id));
	run_result_free(&r);
	capsa(&r, &b, 10, "ps", "--format", "json", b.id, NULL);
	snprintf(want, sizeof(want), "[%s]", pid);
	assert_non_null(strstr(r.out, want));
	run_result_free(&r);
	/* exec joins the namespaces: it sees sleep as pid 1 and the hostname */
	capsa(&r, &b, 20, "exec", b.id, "sh", "-c",
	      "tr '\\0' ' ' < /proc/1/cmdline; echo; hostname; exit 3", NULL);
	assert_int_equal(r.status, 3);
	assert_non_null(strstr(r.out, "sleep"));
	assert_non_null(strstr(r.out, "capsatest"));
	run_result_free(&r);
	capsa_fails(&b, 10, 2, "/no/such/binary", "exec", b.id, "/no/such/binary", NULL);
	/* pause / resume via the freezer */
	capsa_ok(&b, 10, "pause", "pause", b.id, NULL);
	capsa(&r, &b, 10, "state", b.id, NULL);
	assert_non_null(strstr(r.out, "\"status\": \"paused\""));
	run_result_free(&r);
	capsa_ok(&b, 10, "resume", "resume", b.id, NULL);
	/* update and events --stats */
	capsa_ok(&b, 10, "update", "update", "--memory", "67108864", "--pids-limit", "33", b.id,
	         NULL);
	capsa(&r, &b, 10, "events", "--stats", b.id, NULL);
	expect_ok(&r, "events");
	assert_non_null(strstr(r.out, "\"limit\":67108864"));
	assert_non_null(strstr(r.out, ",\"limit\":33}"));
	run_result_free(&r);
	/* update -r: a linux.resources object from a file */
	char res[512];
	bundle_path(&b, "resources.json", res, sizeof(res));
	write_text(res, "{\"pids\":{\"limit\":44}}");
	capsa_ok(&b, 10, "update -r", "update", "-r", res, b.id, NULL);
	capsa(&r, &b, 10, "events", "--stats", b.id, NULL);
	assert_non_null(strstr(r.out, ",\"limit\":44}"));
	run_result_free(&r);
	write_text(res, "{\"pids\":{\"limit\":\"many\"}}");
	capsa_fails(&b, 10, 2, "linux.resources.pids.limit", "update", "-r", res, b.id, NULL);
	/* delete refuses a running container */
	capsa_fails(&b, 10, 2, "running", "delete", b.id, NULL);
	capsa_ok(&b, 10, "kill", "kill", b.id, "KILL", NULL);
	wait_stopped(&b);
	capsa(&r, &b, 10, "state", b.id, NULL);
	assert_non_null(strstr(r.out, "\"status\": \"stopped\""));
	run_result_free(&r);
	capsa_ok(&b, 10, "delete", "delete", b.id, NULL);
	assert_false(state_leftover(&b));
	assert_false(cgroup_leftover(b.id));
	capsa_fails(&b, 10, 2, "does not exist", "state", b.id, NULL);
	free(pid);
	bundle_free(&b);
}

static void test_delete_force_and_kill_all(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	become_subreaper();
	struct bundle b;
	struct bundle_opts o = {.args = "[\"sh\",\"-c\",\"sleep 60 & sleep 61 & wait\"]"};
	assert_int_equal(bundle_new(&b, &o), 0);
	capsa_ok(&b, 30, "run --detach", "run", "--detach", b.id, NULL);
	struct run_result r;
	int n = 0;
	for (int i = 0; i < 100 && n < 3; i++) {
		capsa(&r, &b, 10, "ps", "--format", "json", b.id, NULL);
		n = 0;
		for (char *p = r.out; *p; p++)
			n += *p == ',';
		n = r.out[0] == '[' && r.out[1] != ']' ? n + 1 : 0;
		run_result_free(&r);
		usleep(10000);
	}
	assert_int_equal(n, 3);
	capsa_ok(&b, 10, "kill --all", "kill", "--all", b.id, "SIGSTOP", NULL);
	capsa_ok(&b, 20, "delete --force", "delete", "--force", b.id, NULL);
	reap_all();
	assert_false(state_leftover(&b));
	assert_false(cgroup_leftover(b.id));
	/* delete --force of a container that is already gone succeeds */
	capsa_ok(&b, 10, "delete --force again", "delete", "--force", b.id, NULL);
	bundle_free(&b);
}

struct fault {
	const char *name;
	struct bundle_opts o;
	const char *expect;
	int status;
};

static void test_faults_leave_nothing(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	become_subreaper();
	const struct fault faults[] = {
	    {"unknown namespace",
	     {.namespaces = "[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"bogus\"}]"},
	     "unknown namespace type 'bogus'",
	     2},
	    {"bad bind source",
	     {.mounts = ",{\"destination\":\"/x\",\"source\":\"/no/such/dir\",\"options\":["
	                "\"bind\"]}"},
	     "mounts[6].source",
	     2},
	    {"bad mount type",
	     {.mounts = ",{\"destination\":\"/x\",\"type\":\"nosuchfs\",\"source\":\"x\"}"},
	     "mounts[6]",
	     1},
	    {"unknown syscall",
	     {.lnx = ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{"
	             "\"names\":[\"frobnicate\"],\"action\":\"SCMP_ACT_ERRNO\"}]}"},
	     "unknown system call 'frobnicate'",
	     2},
	    {"missing command", {.args = "[\"/bin/nonexistent\"]"}, "process.args[0]", 2},
	    {"failing hook",
	     {.top = ",\"hooks\":{\"createRuntime\":[{\"path\":\"/bin/false\"}]}"},
	     "hooks.createRuntime[0]: /bin/false exited with status 1",
	     1},
	    {"hanging hook",
	     {.top = ",\"hooks\":{\"prestart\":[{\"path\":\"/bin/sleep\",\"args\":[\"sleep\","
	             "\"30\"],\"timeout\":1}]}"},
	     "timed out after 1 s",
	     1},
	    {"memory limit too small",
	     {.lnx = ",\"resources\":{\"memory\":{\"limit\":100}}"},
	     "linux.resources.memory.limit",
	     2},
	    {"unknown hugepage size",
	     {.lnx = ",\"resources\":{\"hugepageLimits\":[{\"pageSize\":\"3MB\",\"limit\":0}]}"},
	     "hugepageLimits[0].pageSize",
	     2},
	    {"bad sysctl",
	     {.lnx = ",\"sysctl\":{\"net.no.such.knob\":\"1\"}"},
	     "linux.sysctl.net.no.such.knob",
	     1},
	};
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		struct bundle b;
		assert_int_equal(bundle_new(&b, &faults[i].o), 0);
		struct run_result r;
		capsa(&r, &b, 30, "create", b.id, NULL);
		reap_all();
		if (r.status != faults[i].status || !strstr(r.err, faults[i].expect))
			fail_msg("%s: status %d, stderr '%s' (wanted %d and '%s')", faults[i].name,
			         r.status, r.err, faults[i].status, faults[i].expect);
		/* exactly one line */
		char *nl = strchr(r.err, '\n');
		if (!nl || nl[1] != '\0')
			fail_msg("%s: error is not one line: '%s'", faults[i].name, r.err);
		run_result_free(&r);
		if (state_leftover(&b) || cgroup_leftover(b.id))
			fail_msg("%s: left state or cgroup behind", faults[i].name);
		bundle_free(&b);
	}
	/* missing rootfs */
	struct bundle b;
	assert_int_equal(bundle_new(&b, NULL), 0);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s/rootfs", b.dir);
	assert_int_equal(system(cmd), 0);
	capsa_fails(&b, 30, 2, "root.path", "run", b.id, NULL);
	assert_false(state_leftover(&b));
	/* malformed config.json */
	write_text(bundle_path(&b, "config.json", cmd, sizeof(cmd)),
	           "{\"ociVersion\": \"1.0.0\", \"root\": ");
	capsa_fails(&b, 30, 2, "not valid JSON", "run", b.id, NULL);
	bundle_free(&b);
	test_measured("%zu faulty bundles: one-line errors, no state or cgroup left",
	              sizeof(faults) / sizeof(faults[0]) + 2);
}

static void test_init_dies_before_start(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	become_subreaper();
	struct bundle b;
	assert_int_equal(bundle_new(&b, NULL), 0);
	char pidfile[512];
	bundle_path(&b, "pid", pidfile, sizeof(pidfile));
	capsa_ok(&b, 30, "create", "create", "--pid-file", pidfile, b.id, NULL);
	char *pid = read_pid_file(&b, "pid");
	kill(atoi(pid), SIGKILL);
	usleep(50000);
	reap_all();
	struct run_result r;
	capsa(&r, &b, 10, "start", b.id, NULL);
	assert_int_not_equal(r.status, 0);
	assert_non_null(strstr(r.err, "stopped"));
	run_result_free(&r);
	capsa_ok(&b, 10, "delete", "delete", b.id, NULL);
	assert_false(state_leftover(&b));
	assert_false(cgroup_leftover(b.id));
	free(pid);
	bundle_free(&b);
}

static void test_usage_errors(void **state)
{
	(void)state;
	struct bundle b = {.dir = "/tmp", .root = "/tmp/capsa-test-none"};
	struct run_result r;
	const char *cmds[][4] = {{"create", NULL},
	                         {"kill", "x", "NOSIG", NULL},
	                         {"delete", "--bogus", "x", NULL},
	                         {"state", "bad/id", NULL},
	                         {"list", "--format", "xml", NULL}};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		capsa(&r, &b, 10, cmds[i][0], cmds[i][1], cmds[i][2], cmds[i][3], NULL);
		if (r.status != 2)
			fail_msg("%s: status %d, stderr %s", cmds[i][0], r.status, r.err);
		run_result_free(&r);
	}
	/* --log: errors also go to the log file, as JSON lines */
	char log[] = "/tmp/capsa-test-log-XXXXXX";
	int lfd = mkstemp(log);
	assert_true(lfd >= 0);
	close(lfd);
	char *largv[] = {(char *)test_capsa_bin(),
	                 "--root",
	                 "/tmp/capsa-test-none",
	                 "--log",
	                 log,
	                 "--log-format",
	                 "json",
	                 "state",
	                 "nosuch",
	                 NULL};
	run_files(&r, "/tmp", largv, 10);
	assert_int_equal(r.status, 2);
	run_result_free(&r);
	char *logged = read_file(log, NULL);
	unlink(log);
	assert_non_null(logged);
	assert_non_null(strstr(logged, "{\"level\":\"error\",\"msg\":\"container 'nosuch' does not "
	                               "exist\",\"time\":\""));
	free(logged);
	const char *all[] = {"create", "start",  "run",    "exec", "state",
	                     "kill",   "delete", "list",   "ps",   "pause",
	                     "resume", "update", "events", "spec", "features"};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		capsa(&r, &b, 10, all[i], "--help", NULL);
		if (r.status != 0 || !strstr(r.out, "Usage: capsa"))
			fail_msg("%s --help: status %d", all[i], r.status);
		run_result_free(&r);
	}
}

static void test_spec_and_features(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	struct bundle b;
	assert_int_equal(bundle_new(&b, NULL), 0);
	char p[512];
	unlink(bundle_path(&b, "config.json", p, sizeof(p)));
	struct run_result r;
	capsa_ok(&b, 10, "spec", "spec", NULL);
	capsa(&r, &b, 10, "spec", NULL);
	assert_int_equal(r.status, 2); /* refuses to overwrite */
	run_result_free(&r);
	/* the generated spec runs as it is (with a command that exits) */
	char *cfg = read_file(p, NULL);
	assert_non_null(cfg);
	char *sh = strstr(cfg, "\"sh\"");
	assert_non_null(sh);
	char *fixed = malloc(strlen(cfg) + 64);
	snprintf(fixed, strlen(cfg) + 64, "%.*s\"sh\", \"-c\", \"exit 5\"%s", (int)(sh - cfg), cfg,
	         sh + 4);
	write_text(p, "%s", fixed);
	capsa(&r, &b, 30, "run", b.id, NULL);
	assert_int_equal(r.status, 5);
	run_result_free(&r);
	free(cfg);
	free(fixed);
	capsa(&r, &b, 10, "features", NULL);
	expect_ok(&r, "features");
	assert_non_null(strstr(r.out, "\"ociVersionMax\": \"1.2.0\""));
	assert_non_null(strstr(r.out, "SCMP_ACT_NOTIFY"));
	assert_non_null(strstr(r.out, "\"time\""));
	run_result_free(&r);
	bundle_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_run_output_and_status),
	    cmocka_unit_test(test_container_view),
	    cmocka_unit_test(test_user_and_groups),
	    cmocka_unit_test(test_lifecycle),
	    cmocka_unit_test(test_delete_force_and_kill_all),
	    cmocka_unit_test(test_faults_leave_nothing),
	    cmocka_unit_test(test_init_dies_before_start),
	    cmocka_unit_test(test_usage_errors),
	    cmocka_unit_test(test_spec_and_features),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
