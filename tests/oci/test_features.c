/* SPDX-License-Identifier: Apache-2.0 */
/* Integration tests as root: joining namespaces by path, time namespaces,
 * --no-pivot, exec --process, the v1 devices controller, overlay mounts,
 * seccomp user notification and rootless containers. */
#include "oci/terminal.h"
#include "oci_helpers.h"

#include <poll.h>
#include <seccomp.h>

static void test_join_namespace_by_path(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	become_subreaper();
	struct bundle a, b;
	struct bundle_opts oa = {.args = "[\"sleep\",\"60\"]"};
	assert_int_equal(bundle_new(&a, &oa), 0);
	char pidfile[512];
	bundle_path(&a, "pid", pidfile, sizeof(pidfile));
	capsa_ok(&a, 30, "run first", "run", "--detach", "--pid-file", pidfile, a.id, NULL);
	char *pid = read_pid_file(&a, "pid");
	char ns[1024];
	snprintf(ns, sizeof(ns),
	         "[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"ipc\",\"path\":"
	         "\"/proc/%d/ns/ipc\"},{\"type\":\"uts\",\"path\":\"/proc/%d/ns/uts\"},"
	         "{\"type\":\"network\",\"path\":\"/proc/%d/ns/net\"}]",
	         atoi(pid), atoi(pid), atoi(pid));
	/* the second container shares uts, ipc and net with the first */
	struct bundle_opts ob = {.args = "[\"sh\",\"-c\",\"readlink /proc/self/ns/net; "
	                                 "hostname\"]",
	                         .namespaces = ns};
	assert_int_equal(bundle_new(&b, &ob), 0);
	/* the hostname of a joined uts namespace is not set again */
	char *cfg = read_file(bundle_path(&b, "config.json", ns, sizeof(ns)), NULL);
	char *h = strstr(cfg, "\"hostname\":\"capsatest\",");
	assert_non_null(h);
	memmove(h, h + strlen("\"hostname\":\"capsatest\","), strlen(h + 23) + 1);
	write_text(ns, "%s", cfg);
	free(cfg);
	struct run_result r;
	capsa(&r, &b, 30, "run", b.id, NULL);
	expect_ok(&r, "run joining");
	char self_net[64], want[128];
	snprintf(self_net, sizeof(self_net), "/proc/%d/ns/net", atoi(pid));
	ssize_t n = readlink(self_net, want, sizeof(want) - 1);
	assert_true(n > 0);
	want[n] = '\0';
	if (!strstr(r.out, want) || !strstr(r.out, "capsatest"))
		fail_msg("not in the first container's namespaces (%s): %s", want, r.out);
	run_result_free(&r);
	/* a namespace path that does not exist is a clean error */
	struct bundle_opts bad = {.namespaces =
	                              "[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":"
	                              "\"uts\"},{\"type\":\"network\",\"path\":"
	                              "\"/no/such/ns\"}]"};
	bundle_config(&b, &bad);
	capsa_fails(&b, 30, 2, "/no/such/ns", "run", b.id, NULL);
	capsa_ok(&a, 20, "delete", "delete", "--force", a.id, NULL);
	free(pid);
	bundle_free(&a);
	bundle_free(&b);
}

static void test_time_namespace_and_no_pivot(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	if (access("/proc/self/ns/time", F_OK) != 0)
		skip_because("the kernel has no time namespaces");
	struct bundle b;
	struct bundle_opts o = {
	    .args = "[\"sh\",\"-c\",\"cut -d. -f1 /proc/uptime\"]",
	    .namespaces = "[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"time\"}]",
	    .top = ",\"hostname\":\"\"",
	    .lnx = ",\"timeOffsets\":{\"boottime\":{\"secs\":864000},\"monotonic\":{\"secs\":"
	           "864000}}",
	};
	assert_int_equal(bundle_new(&b, &o), 0);
	struct run_result r;
	capsa(&r, &b, 30, "run", "--no-pivot", b.id, NULL);
	expect_ok(&r, "time namespace");
	char *up = read_file("/proc/uptime", NULL);
	long host = atol(up), inside = atol(r.out);
	free(up);
	if (inside < host + 864000 - 5 || inside > host + 864000 + 60)
		fail_msg("uptime %ld inside vs %ld outside", inside, host);
	run_result_free(&r);
	bundle_free(&b);
}

static void test_exec_process_file_and_devices(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	become_subreaper();
	struct bundle b;
	struct bundle_opts o = {
	    .args = "[\"sleep\",\"60\"]",
	    .lnx = ",\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":"
	           "true,\"type\":\"c\",\"major\":1,\"minor\":5,\"access\":\"r\"},{\"allow\":true,"
	           "\"type\":\"c\",\"major\":1,\"minor\":11,\"access\":\"m\"}]},"
	           "\"devices\":[{\"type\":\"c\",\"path\":\"/dev/kmsg\",\"major\":1,\"minor\":11,"
	           "\"fileMode\":384}]",
	};
	assert_int_equal(bundle_new(&b, &o), 0);
	capsa_ok(&b, 30, "run -d", "run", "-d", b.id, NULL);
	char proc[512];
	write_text(bundle_path(&b, "process.json", proc, sizeof(proc)),
	           "{\"user\":{\"uid\":123,\"gid\":456},\"cwd\":\"/tmp\",\"env\":["
	           "\"PATH=/bin\",\"WHO=exec\"],\"args\":[\"sh\",\"-c\",\"echo $WHO $(id -u) "
	           "$(pwd); head -c 4 /dev/zero | wc -c; ls -l /dev/kmsg\"]}");
	struct run_result r;
	capsa(&r, &b, 30, "exec", "--process", proc, b.id, NULL);
	expect_ok(&r, "exec --process");
	if (!strstr(r.out, "exec 123 /tmp\n4\n") || !strstr(r.out, "crw-------"))
		fail_msg("unexpected exec output: %s / %s", r.out, r.err);
	run_result_free(&r);
	/* root may open the node, but the devices cgroup only allows /dev/zero */
	capsa(&r, &b, 30, "exec", b.id, "sh", "-c",
	      "cat /dev/kmsg 2>&1 | head -1; "
	      "head -c 2 /dev/zero | wc -c",
	      NULL);
	if (!strstr(r.out, "/dev/kmsg': Operation not permitted") || !strstr(r.out, "\n2\n"))
		fail_msg("devices cgroup not enforced: %s / %s", r.out, r.err);
	run_result_free(&r);
	/* --process and a command at once is a usage error */
	capsa(&r, &b, 10, "exec", "--process", proc, b.id, "true", NULL);
	assert_int_equal(r.status, 2);
	run_result_free(&r);
	capsa_ok(&b, 20, "delete", "delete", "--force", b.id, NULL);
	bundle_free(&b);
}

static void test_overlay_mount(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	struct bundle b;
	assert_int_equal(bundle_new(&b, NULL), 0);
	char mounts[2048], p[600];
	const char *d[] = {"lower", "upper", "work"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", b.dir, d[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	write_text(bundle_path(&b, "lower/from-lower", p, sizeof(p)), "low\n");
	snprintf(
	    mounts, sizeof(mounts),
	    ",{\"destination\":\"/ov\",\"type\":\"overlay\",\"source\":\"overlay\",\"options\":["
	    "\"lowerdir=%s/lower\",\"upperdir=%s/upper\",\"workdir=%s/work\"]}",
	    b.dir, b.dir, b.dir);
	struct bundle_opts o = {.args = "[\"sh\",\"-c\",\"cat /ov/from-lower && echo new > "
	                                "/ov/written\"]",
	                        .mounts = mounts};
	bundle_config(&b, &o);
	struct run_result r;
	capsa(&r, &b, 30, "run", b.id, NULL);
	if (r.status != 0 && strstr(r.err, "overlay") && strstr(r.err, "No such device")) {
		run_result_free(&r);
		bundle_free(&b);
		skip_because("the kernel has no overlay file system");
	}
	expect_ok(&r, "overlay");
	assert_non_null(strstr(r.out, "low"));
	run_result_free(&r);
	char *w = read_file(bundle_path(&b, "upper/written", p, sizeof(p)), NULL);
	assert_non_null(w);
	assert_string_equal(w, "new\n");
	free(w);
	bundle_free(&b);
}

static void test_seccomp_notify(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	become_subreaper();
	struct bundle b;
	assert_int_equal(bundle_new(&b, NULL), 0);
	char sock[512], lnx[1024], mounts[600];
	bundle_path(&b, "notify.sock", sock, sizeof(sock));
	snprintf(
	    lnx, sizeof(lnx),
	    ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"%s\","
	    "\"listenerMetadata\":\"meta-42\",\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],"
	    "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
	    sock);
	struct bundle_opts o = {.args = "[\"sh\",\"-c\",\"mkdir /tmp/x; echo mkdir=$? > "
	                                "/hostdir/out; ls /tmp | wc -l >> /hostdir/out\"]",
	                        .lnx = lnx,
	                        .mounts = hostdir_mount(&b, mounts, sizeof(mounts))};
	bundle_config(&b, &o);
	int ls = listen_unix(sock);
	capsa_ok(&b, 30, "create", "create", b.id, NULL);
	capsa_ok(&b, 30, "start", "start", b.id, NULL);
	int cs = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	assert_true(cs >= 0);
	char msg[8192] = "";
	int nfd = oci_recv_fd(cs, msg, sizeof(msg) - 1);
	assert_true(nfd >= 0);
	assert_non_null(strstr(msg, "\"seccompFd\""));
	assert_non_null(strstr(msg, "meta-42"));
	assert_non_null(strstr(msg, b.id));
	/* pretend the mkdir worked without doing it */
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	assert_int_equal(seccomp_notify_alloc(&req, &resp), 0);
	struct pollfd pf = {nfd, POLLIN, 0};
	assert_int_equal(poll(&pf, 1, 10000), 1);
	assert_int_equal(seccomp_notify_receive(nfd, req), 0);
	resp->id = req->id;
	resp->val = 0;
	resp->error = 0;
	resp->flags = 0;
	assert_int_equal(seccomp_notify_respond(nfd, resp), 0);
	seccomp_notify_free(req, resp);
	wait_stopped(&b);
	char p[600];
	char *out = read_file(bundle_path(&b, "out", p, sizeof(p)), NULL);
	assert_non_null(out);
	if (!strstr(out, "mkdir=0\n0\n"))
		fail_msg("notification not handled as answered: %s", out);
	free(out);
	close(nfd);
	close(cs);
	close(ls);
	capsa_ok(&b, 20, "delete", "delete", b.id, NULL);
	bundle_free(&b);
}

static void test_rootless(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	if (access("/usr/bin/setpriv", X_OK) != 0)
		skip_because("setpriv (util-linux) is missing");
	struct bundle b;
	struct bundle_opts o = {
	    .args = "[\"sh\",\"-c\",\"id -u; cat /proc/self/uid_map; hostname\"]",
	    .namespaces = NAMESPACES_AND("user"),
	    .lnx = ",\"uidMappings\":[{\"containerID\":0,\"hostID\":65534,\"size\":1}],"
	           "\"gidMappings\":[{\"containerID\":0,\"hostID\":65534,\"size\":1}]",
	};
	assert_int_equal(bundle_new(&b, &o), 0);
	assert_int_equal(mkdir(b.root, 0700), 0);
	assert_int_equal(chown(b.root, 65534, 65534), 0);
	char *argv[] = {"/usr/bin/setpriv",
	                "--reuid=65534",
	                "--regid=65534",
	                "--clear-groups",
	                (char *)test_capsa_bin(),
	                "--root",
	                b.root,
	                "run",
	                b.id,
	                NULL};
	struct run_result r;
	run_files(&r, b.dir, argv, 30);
	if (r.status != 0 && strstr(r.err, "ermi") &&
	    (strstr(r.err, "uid_map") || strstr(r.err, "(clone)"))) {
		char why[256];
		snprintf(why, sizeof(why), "%s", r.err);
		run_result_free(&r);
		bundle_free(&b);
		skip_because("unprivileged user namespaces are disabled here: %s", why);
	}
	expect_ok(&r, "rootless run");
	if (!strstr(r.out, "0\n         0      65534          1\ncapsatest\n"))
		fail_msg("rootless container view: %s", r.out);
	run_result_free(&r);
	/* limits need a delegated cgroup */
	o.lnx = ",\"uidMappings\":[{\"containerID\":0,\"hostID\":65534,\"size\":1}],"
	        "\"gidMappings\":[{\"containerID\":0,\"hostID\":65534,\"size\":1}],"
	        "\"resources\":{\"pids\":{\"limit\":5}}";
	bundle_config(&b, &o);
	run_files(&r, b.dir, argv, 30);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "not delegated"));
	run_result_free(&r);
	bundle_free(&b);
}

static void test_personality_and_scheduling(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	struct bundle b;
	struct bundle_opts o = {
	    .args = "[\"sh\",\"-c\",\"uname -m; ionice -p $$; cut -d' ' -f19,41 /proc/self/stat; "
	            "taskset -p $$\"]",
	    .process = ",\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":6},"
	               "\"scheduler\":{\"policy\":\"SCHED_BATCH\",\"nice\":7},"
	               "\"execCPUAffinity\":{\"initial\":\"0\",\"final\":\"0\"}",
	    .lnx = ",\"personality\":{\"domain\":\"LINUX32\"}",
	};
	struct run_result r;
	run_new_bundle(&b, &o, &r, 30, "personality and scheduling");
	/* nice 7 and policy 3 (SCHED_BATCH) from /proc/self/stat */
	const char *want[] = {"i686\n", "best-effort: prio 6", "\n7 3\n", "affinity mask: 1"};
	EXPECT_OUT_ALL(&r, want);
	run_result_free(&r);
	bundle_free(&b);
}

/* Another runtime with its own state, the same bundle and container id:
 * neither sees or disturbs the other. */
static void test_coexists_with_runc(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	const char *runc = access("/usr/sbin/runc", X_OK) == 0  ? "/usr/sbin/runc"
	                   : access("/usr/bin/runc", X_OK) == 0 ? "/usr/bin/runc"
	                                                        : NULL;
	if (!runc)
		skip_because("runc is not installed");
	become_subreaper();
	struct bundle b;
	struct bundle_opts o = {.args = "[\"sleep\",\"60\"]"};
	assert_int_equal(bundle_new(&b, &o), 0);
	char runc_root[600];
	snprintf(runc_root, sizeof(runc_root), "%s/runc-state", b.dir);
	struct run_result r;
	char *rc_run[] = {(char *)runc, "--root", runc_root, "run", "-d",
	                  "--bundle",   b.dir,    b.id,      NULL};
	run_files(&r, b.dir, rc_run, 60);
	int runc_ok = r.status == 0;
	if (!runc_ok && strstr(r.err, "cgroup"))
		fprintf(stderr, "runc: %s", r.err);
	run_result_free(&r);
	if (!runc_ok) {
		bundle_free(&b);
		skip_because("runc cannot run containers on this host");
	}
	/* a different cgroup path, so the two do not share one */
	capsa(&r, &b, 30, "run", "-d", b.id, NULL);
	run_result_free(&r);
	capsa(&r, &b, 10, "list", "--format", "json", NULL);
	int n = 0;
	for (char *p = r.out; (p = strstr(p, "\"id\":")); p++)
		n++;
	assert_int_equal(n, 1);
	run_result_free(&r);
	char *rc_list[] = {(char *)runc, "--root", runc_root, "list", "-q", NULL};
	run_files(&r, b.dir, rc_list, 30);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, b.id));
	run_result_free(&r);
	capsa_ok(&b, 20, "delete", "delete", "--force", b.id, NULL);
	/* runc's container is untouched */
	char *rc_state[] = {(char *)runc, "--root", runc_root, "state", b.id, NULL};
	run_files(&r, b.dir, rc_state, 30);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"running\""));
	run_result_free(&r);
	char *rc_del[] = {(char *)runc, "--root", runc_root, "delete", "--force", b.id, NULL};
	run_files(&r, b.dir, rc_del, 30);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	reap_all();
	bundle_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_join_namespace_by_path),
	    cmocka_unit_test(test_time_namespace_and_no_pivot),
	    cmocka_unit_test(test_exec_process_file_and_devices),
	    cmocka_unit_test(test_overlay_mount),
	    cmocka_unit_test(test_seccomp_notify),
	    cmocka_unit_test(test_rootless),
	    cmocka_unit_test(test_coexists_with_runc),
	    cmocka_unit_test(test_personality_and_scheduling),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
