/* SPDX-License-Identifier: Apache-2.0 */
/* Integration tests as root: resource limits enforced through cgroups,
 * seccomp, hooks and their order, the console socket, user namespaces and
 * idmapped mounts. */
#include "oci/terminal.h"
#include "oci_helpers.h"

#include <poll.h>

static void test_memory_hog_is_oom_killed(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	struct bundle b;
	/* dd allocates a 256 MiB block and fills it: far above the 32 MiB limit */
	struct bundle_opts o = {
	    .args = "[\"dd\",\"if=/dev/zero\",\"of=/dev/null\",\"bs=256M\",\"count=1\"]",
	    .lnx = ",\"resources\":{\"memory\":{\"limit\":33554432,\"swap\":33554432}}",
	};
	assert_int_equal(bundle_new(&b, &o), 0);
	struct run_result r;
	capsa(&r, &b, 60, "run", b.id, NULL);
	if (r.status != 128 + SIGKILL)
		fail_msg("expected SIGKILL (137), got %d: %s %s", r.status, r.out, r.err);
	run_result_free(&r);
	/* the same program succeeds with room to spare */
	o.lnx = ",\"resources\":{\"memory\":{\"limit\":536870912}}";
	bundle_config(&b, &o);
	capsa_ok(&b, 60, "dd with 512 MiB", "run", b.id, NULL);
	assert_false(cgroup_leftover(b.id));
	bundle_free(&b);
}

static void test_fork_bomb_stops_at_pids_max(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	struct bundle b;
	char args[512];
	const char *pids = cgroup_v2_host() ? "/sys/fs/cgroup" : "/sys/fs/cgroup/pids";
	/* the inner shell forks until it fails; builtins read the counters */
	snprintf(args, sizeof(args),
	         "[\"sh\",\"-c\",\"sh -c 'for i in $(seq 40); do sleep 5 & done' 2>/dev/null; "
	         "echo inner=$?; read c < %s/pids.current; read m < %s/pids.max; echo current=$c "
	         "max=$m; kill -9 -1; true\"]",
	         pids, pids);
	struct bundle_opts o = {
	    .args = args,
	    .mounts = CGROUP_RO_MOUNT,
	    .lnx = ",\"resources\":{\"pids\":{\"limit\":10}}",
	};
	struct run_result r;
	run_new_bundle(&b, &o, &r, 60, "fork bomb");
	const char *cur = strstr(r.out, "current=");
	int c = cur ? atoi(cur + 8) : -1;
	if (!strstr(r.out, "max=10") || c < 5 || c > 10 || strstr(r.out, "inner=0"))
		fail_msg("pids not capped at 10: %s / %s", r.out, r.err);
	test_measured("fork bomb stopped with %d processes (pids.max 10)", c);
	run_result_free(&r);
	bundle_free(&b);
}

static void test_cpu_and_cgroup_view(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	struct bundle b;
	int v2 = cgroup_v2_host();
	const char *v2args =
	    "[\"sh\",\"-c\",\"cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu.weight "
	    "/sys/fs/cgroup/cpuset.cpus /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.low; "
	    "echo 1 > /sys/fs/cgroup/pids.max 2>/dev/null || echo cgroupfs=ro\"]";
	struct bundle_opts o = {
	    .args = v2 ? v2args
	               : "[\"sh\",\"-c\",\"cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us "
	                 "/sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/cpu/cpu.shares "
	                 "/sys/fs/cgroup/cpuset/cpuset.cpus "
	                 "/sys/fs/cgroup/memory/memory.limit_in_bytes "
	                 "/sys/fs/cgroup/memory/memory.soft_limit_in_bytes; "
	                 "echo 1 > /sys/fs/cgroup/pids/pids.max 2>/dev/null || echo cgroupfs=ro\"]",
	    .mounts = CGROUP_RO_MOUNT,
	    .lnx = ",\"resources\":{\"cpu\":{\"quota\":25000,\"period\":50000,\"shares\":256,"
	           "\"cpus\":\"0\"},\"memory\":{\"limit\":100000000,\"reservation\":50000000}}",
	    .namespaces = NAMESPACES_AND("cgroup"),
	};
	struct run_result r;
	run_new_bundle(&b, &o, &r, 60, "cgroup view");
	/* memory limits are rounded to pages by the kernel */
	/* shares 256 are weight 10 on v2 */
	if (!strstr(r.out, v2 ? "25000 50000\n10\n0\n99999744\n49999872\ncgroupfs=ro\n"
	                      : "25000\n50000\n256\n0\n99999744\n49999872\ncgroupfs=ro\n"))
		fail_msg("unexpected cgroup values:\n%s\n%s", r.out, r.err);
	run_result_free(&r);
	bundle_free(&b);
}

/* A whole-disk block device of this machine ("MAJ:MIN"), or 0. */
static int find_disk(char *out, size_t len)
{
	const char *names[] = {"vda", "sda", "nvme0n1", "xvda", "vdb", "sdb", "hda"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char p[128];
		snprintf(p, sizeof(p), "/sys/block/%s/dev", names[i]);
		char *d = read_file(p, NULL);
		if (!d)
			continue;
		d[strcspn(d, "\n")] = '\0';
		snprintf(out, len, "%s", d);
		free(d);
		return 1;
	}
	return 0;
}

static void test_blkio_throttle(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	char disk[32], lnx[256], args[256];
	if (!find_disk(disk, sizeof(disk)))
		skip_because("no whole-disk block device found in /sys/block");
	unsigned maj = 0, min = 0;
	assert_int_equal(sscanf(disk, "%u:%u", &maj, &min), 2);
	snprintf(lnx, sizeof(lnx),
	         ",\"resources\":{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":%u,"
	         "\"minor\":%u,\"rate\":1048576}]}}",
	         maj, min);
	int v2 = cgroup_v2_host();
	snprintf(args, sizeof(args), "[\"cat\",\"%s\"]",
	         v2 ? "/sys/fs/cgroup/io.max"
	            : "/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device");
	struct bundle b;
	struct bundle_opts o = {
	    .args = args,
	    .lnx = lnx,
	    .mounts = CGROUP_RO_MOUNT,
	};
	struct run_result r;
	run_new_bundle(&b, &o, &r, 30, "blkio throttle");
	char want[64];
	snprintf(want, sizeof(want), v2 ? "%s rbps=1048576" : "%s 1048576", disk);
	if (!strstr(r.out, want))
		fail_msg("throttle not applied: '%s' (wanted '%s')", r.out, want);
	run_result_free(&r);
	bundle_free(&b);
}

static void test_seccomp_denies(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	struct bundle b;
	struct bundle_opts o = {
	    .args = "[\"sh\",\"-c\",\"mkdir /tmp/d 2>&1; echo mkdir=$?; chmod 0700 /tmp 2>&1; "
	            "echo chmod=$?; chmod 0777 /tmp; echo chmod2=$?\"]",
	    .lnx = ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":["
	           "\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],\"syscalls\":["
	           "{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\"},"
	           "{\"names\":[\"chmod\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":22,"
	           "\"args\":[{\"index\":1,\"value\":448,\"op\":\"SCMP_CMP_EQ\"}]},"
	           "{\"names\":[\"fchmodat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":22,"
	           "\"args\":[{\"index\":2,\"value\":448,\"op\":\"SCMP_CMP_EQ\"}]}]}",
	};
	struct run_result r;
	run_new_bundle(&b, &o, &r, 30, "seccomp");
	if (!strstr(r.out, "Operation not permitted") || !strstr(r.out, "mkdir=1") ||
	    !strstr(r.out, "Invalid argument") || !strstr(r.out, "chmod=1") ||
	    !strstr(r.out, "chmod2=0"))
		fail_msg("seccomp not enforced as configured:\n%s", r.out);
	run_result_free(&r);
	bundle_free(&b);
}

static void test_hooks_order_and_state(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	become_subreaper();
	struct bundle b;
	assert_int_equal(bundle_new(&b, NULL), 0);
	char top[4096], mounts[512];
	/* Runtime-namespace hooks write to the bundle; container ones to /hostdir. */
	snprintf(
	    top, sizeof(top),
	    ",\"hooks\":{"
	    "\"prestart\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"cat > %s/state.json; "
	    "echo prestart >> %s/hooks.log\"]}],"
	    "\"createRuntime\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo "
	    "createRuntime >> %s/hooks.log\"]}],"
	    "\"createContainer\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo "
	    "createContainer $(hostname) >> %s/hooks.log\"]}],"
	    "\"startContainer\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo "
	    "startContainer >> /hostdir/hooks.log\"]}],"
	    "\"poststart\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo poststart >> "
	    "%s/hooks.log\"]}],"
	    "\"poststop\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo poststop >> "
	    "%s/hooks.log\"],\"env\":[\"X=1\"]}]}",
	    b.dir, b.dir, b.dir, b.dir, b.dir, b.dir);
	struct bundle_opts o = {
	    .args = "[\"sh\",\"-c\",\"echo process >> /hostdir/hooks.log\"]",
	    .top = top,
	    .mounts = hostdir_mount(&b, mounts, sizeof(mounts)),
	};
	bundle_config(&b, &o);
	capsa_ok(&b, 30, "run with hooks", "run", b.id, NULL);
	char p[512];
	char *log = read_file(bundle_path(&b, "hooks.log", p, sizeof(p)), NULL);
	assert_non_null(log);
	/* process and poststart may race; the rest is ordered */
	const char *order[] = {"prestart\n", "createRuntime\n", "createContainer capsatest\n",
	                       "startContainer\n", "poststop\n"};
	const char *at = log;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *f = strstr(at, order[i]);
		if (!f)
			fail_msg("hook '%s' missing or out of order in:\n%s", order[i], log);
		at = f + strlen(order[i]);
	}
	assert_non_null(strstr(log, "poststart\n"));
	assert_non_null(strstr(log, "process\n"));
	free(log);
	char *st = read_file(bundle_path(&b, "state.json", p, sizeof(p)), NULL);
	assert_non_null(st);
	char want[128];
	snprintf(want, sizeof(want), "\"id\":\"%s\"", b.id);
	assert_non_null(strstr(st, want));
	assert_non_null(strstr(st, "\"status\":\"creating\""));
	assert_non_null(strstr(st, "\"pid\":"));
	free(st);
	bundle_free(&b);
}

static void test_console_socket(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	become_subreaper();
	struct bundle b;
	struct bundle_opts o = {
	    .args = "[\"sh\",\"-c\",\"tty; [ -t 0 ] && echo stdin-is-tty; echo done\"]",
	    .process = ",\"terminal\":true",
	};
	assert_int_equal(bundle_new(&b, &o), 0);
	char sock[512];
	int ls = listen_unix(bundle_path(&b, "console.sock", sock, sizeof(sock)));
	/* without a console socket a terminal is refused */
	capsa_fails(&b, 30, 2, "--console-socket", "create", b.id, NULL);
	capsa_ok(&b, 30, "create with console socket", "create", "--console-socket", sock, b.id,
	         NULL);
	int cs = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	assert_true(cs >= 0);
	char name[128] = "";
	int master = oci_recv_fd(cs, name, sizeof(name) - 1);
	assert_true(master >= 0);
	assert_non_null(strstr(name, "/dev/pts/"));
	capsa_ok(&b, 30, "start", "start", b.id, NULL);
	char out[4096];
	size_t n = 0;
	for (int i = 0; i < 200 && n < sizeof(out) - 1; i++) {
		struct pollfd pf = {master, POLLIN, 0};
		if (poll(&pf, 1, 50) <= 0)
			continue;
		ssize_t k = read(master, out + n, sizeof(out) - 1 - n);
		if (k <= 0)
			break;
		n += (size_t)k;
		out[n] = '\0';
		if (strstr(out, "done"))
			break;
	}
	out[n] = '\0';
	if (!strstr(out, "/dev/pts/0") || !strstr(out, "stdin-is-tty"))
		fail_msg("no terminal in the container: '%s'", out);
	close(master);
	close(cs);
	close(ls);
	usleep(100000);
	reap_all();
	capsa_ok(&b, 20, "delete", "delete", "--force", b.id, NULL);
	/* run in the foreground without a console socket relays the pty itself */
	struct run_result r;
	capsa(&r, &b, 30, "run", b.id, NULL);
	expect_ok(&r, "run with a terminal");
	if (!strstr(r.out, "/dev/pts/0") || !strstr(r.out, "stdin-is-tty") ||
	    !strstr(r.out, "done"))
		fail_msg("run did not relay the terminal: '%s' '%s'", r.out, r.err);
	run_result_free(&r);
	bundle_free(&b);
}

static void test_user_namespace(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	struct bundle b;
	struct bundle_opts o = {
	    .args = "[\"sh\",\"-c\",\"cat /proc/self/uid_map /proc/self/gid_map; id -u; "
	            "stat -c %u /bin/busybox; touch /tmp/f && stat -c %u /tmp/f\"]",
	    .namespaces = NAMESPACES_AND("user"),
	    .lnx = ",\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
	           "\"gidMappings\":[{\"containerID\":0,\"hostID\":200000,\"size\":65536}]",
	};
	struct run_result r;
	run_new_bundle(&b, &o, &r, 30, "userns");
	const char *want[] = {"0     100000      65536", "0     200000      65536", "\n0\n",
	                      "65534\n", "\n0\n"};
	EXPECT_OUT_ALL(&r, want);
	run_result_free(&r);
	/* exec enters the user namespace too */
	become_subreaper();
	struct bundle_opts o2 = o;
	o2.args = "[\"sleep\",\"60\"]";
	bundle_config(&b, &o2);
	capsa_ok(&b, 30, "run -d in a user namespace", "run", "-d", b.id, NULL);
	capsa(&r, &b, 30, "exec", b.id, "sh", "-c", "id -u; cat /proc/self/uid_map", NULL);
	expect_ok(&r, "exec in a user namespace");
	if (!strstr(r.out, "0\n         0     100000      65536"))
		fail_msg("exec not in the user namespace: %s", r.out);
	run_result_free(&r);
	capsa_ok(&b, 20, "delete", "delete", "--force", b.id, NULL);
	bundle_free(&b);
}

static void test_idmapped_mount(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	struct bundle b;
	assert_int_equal(bundle_new(&b, NULL), 0);
	char mounts[1024], dir[512];
	snprintf(dir, sizeof(dir), "%s/shared", b.dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(mounts, sizeof(mounts),
	         ",{\"destination\":\"/plain\",\"source\":\"%s\",\"options\":[\"bind\"]},"
	         "{\"destination\":\"/mapped\",\"source\":\"%s\",\"options\":[\"bind\"],"
	         "\"uidMappings\":[{\"containerID\":0,\"hostID\":1234,\"size\":1}],"
	         "\"gidMappings\":[{\"containerID\":0,\"hostID\":1234,\"size\":1}]}",
	         dir, dir);
	struct bundle_opts o = {.args = "[\"sh\",\"-c\",\"stat -c %u:%g /plain /mapped\"]",
	                        .mounts = mounts};
	bundle_config(&b, &o);
	struct run_result r;
	capsa(&r, &b, 30, "run", b.id, NULL);
	if (r.status != 0 && strstr(r.err, "idmapping") && strstr(r.err, "Invalid argument")) {
		run_result_free(&r);
		bundle_free(&b);
		skip_because("the file system of the test directory cannot be idmapped");
	}
	expect_ok(&r, "idmapped mount");
	if (!strstr(r.out, "0:0\n1234:1234\n"))
		fail_msg("idmap not visible: %s", r.out);
	run_result_free(&r);
	bundle_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_memory_hog_is_oom_killed),
	    cmocka_unit_test(test_fork_bomb_stops_at_pids_max),
	    cmocka_unit_test(test_cpu_and_cgroup_view),
	    cmocka_unit_test(test_blkio_throttle),
	    cmocka_unit_test(test_seccomp_denies),
	    cmocka_unit_test(test_hooks_order_and_state),
	    cmocka_unit_test(test_console_socket),
	    cmocka_unit_test(test_user_namespace),
	    cmocka_unit_test(test_idmapped_mount),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
