/* SPDX-License-Identifier: Apache-2.0 */
/* Configs that runc and crun run, and what they do with them: Docker's
 * zero values, the default specs of `runc spec` and `crun spec`, seccomp
 * without no_new_privs, ignored kernel memory limits, devices under a
 * deny-all rule, root propagation, inherited and joined namespaces, checks
 * before `create` returns, hooks after a failure, hugetlb on hybrid hosts,
 * messages, and the build's default goal. */
#include "oci_helpers.h"
#include "oci/config.h"
#include "oci/seccomp.h"

#include <json-c/json.h>
#include <sys/capability.h>

/* Docker 20.10 writes cpu.shares and blockIO.weight 0 for values the user
 * did not set (and 0 for other limits in older engines): 0 is "unset". */
static void test_docker_zero_values(void **state)
{
	(void)state;
	struct err e = {0};
	struct oci_config *c = oci_config_parse(
	    "{\"ociVersion\":\"1.0.2-dev\",\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{"
	    "\"memory\":{\"limit\":0,\"reservation\":0,\"swap\":0},\"cpu\":{\"shares\":0,"
	    "\"quota\":0,\"period\":0},\"pids\":{\"limit\":0},\"blockIO\":{\"weight\":0,"
	    "\"leafWeight\":0}}}}",
	    "/b", &e);
	if (!c)
		fail_msg("Docker's zero values refused: %s", e.msg);
	const int64_t *v[] = {&c->resources.mem_limit,        &c->resources.mem_reservation,
	                      &c->resources.mem_swap,         &c->resources.cpu_shares,
	                      &c->resources.cpu_quota,        &c->resources.cpu_period,
	                      &c->resources.pids_limit,       &c->resources.blkio_weight,
	                      &c->resources.blkio_leaf_weight};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_true(*v[i] == OCI_UNSET);
	oci_config_free(c);
	REQUIRE_ROOT_AND_BUSYBOX();
	struct bundle b;
	struct bundle_opts o = {
	    .args = "[\"sh\",\"-c\",\"echo zero-ok\"]",
	    .lnx = ",\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}],"
	           "\"memory\":{\"disableOOMKiller\":false},\"cpu\":{\"shares\":0},"
	           "\"pids\":{\"limit\":0},\"blockIO\":{\"weight\":0}}",
	};
	struct run_result r;
	run_new_bundle(&b, &o, &r, 30, "run with Docker's zero values");
	assert_non_null(strstr(r.out, "zero-ok"));
	run_result_free(&r);
	bundle_free(&b);
}

/* Replace BUNDLE/config.json by TOOL's `spec` output, made to run ARGS
 * without a terminal. Returns 0, or -1 when TOOL is not installed. */
static int spec_from(struct bundle *b, const char *tool, const char *args)
{
	char cfg[512], cmd[1024];
	if (access(tool, X_OK) != 0)
		return -1;
	bundle_path(b, "config.json", cfg, sizeof(cfg));
	unlink(cfg);
	snprintf(cmd, sizeof(cmd), "cd '%s' && %s spec >/dev/null 2>&1", b->dir, tool);
	assert_int_equal(system(cmd), 0);
	struct json_object *doc = json_object_from_file(cfg), *proc;
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "process", &proc));
	json_object_object_add(proc, "terminal", json_object_new_boolean(0));
	json_object_object_add(proc, "args", json_tokener_parse(args));
	assert_int_equal(json_object_to_file(cfg, doc), 0);
	json_object_put(doc);
	return 0;
}

/* `runc spec` and `crun spec` list ambient capabilities that are not
 * inheritable; runc and crun run them (without those ambient ones). */
static void test_runc_and_crun_default_specs(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	const char *tools[] = {"/usr/sbin/runc", "/usr/bin/crun"};
	int ran = 0;
	for (size_t i = 0; i < 2; i++) {
		struct bundle b;
		struct run_result r;
		assert_int_equal(bundle_new(&b, NULL), 0);
		if (spec_from(&b, tools[i],
		              "[\"sh\",\"-c\",\"grep -E '^Cap(Eff|Amb)' /proc/self/status\"]") <
		    0) {
			bundle_free(&b);
			continue;
		}
		capsa(&r, &b, 30, "run", b.id, NULL);
		expect_ok(&r, tools[i]);
		/* CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE; none ambient */
		assert_non_null(strstr(r.out, "CapEff:\t0000000020000420"));
		assert_non_null(strstr(r.out, "CapAmb:\t0000000000000000"));
		assert_non_null(strstr(r.err, "warning: process.capabilities.ambient"));
		run_result_free(&r);
		bundle_free(&b);
		ran++;
	}
	if (!ran)
		skip_because("neither runc nor crun is installed");
}

#define SECCOMP_PROFILE                                                                            \
	",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":["            \
	"\"mknodat\"],\"action\":\"SCMP_ACT_ERRNO\"}]}"

/* A filter loaded with noNewPrivileges false leaves no_new_privs off (setuid
 * programs keep working), as under runc; it is loaded even for a user that
 * gets no capabilities. */
static void test_seccomp_without_no_new_privs(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	const char *users[] = {"", ",\"user\":{\"uid\":1000,\"gid\":1000}"};
	for (int u = 0; u < 2; u++) {
		char proc[128];
		snprintf(proc, sizeof(proc), ",\"noNewPrivileges\":false%s", users[u]);
		struct bundle b;
		struct bundle_opts o = {
		    .args =
		        "[\"sh\",\"-c\",\"grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status\"]",
		    .process = proc,
		    .lnx = SECCOMP_PROFILE,
		};
		struct run_result r;
		run_new_bundle(&b, &o, &r, 30, "run with seccomp, noNewPrivileges false");
		assert_non_null(strstr(r.out, "NoNewPrivs:\t0"));
		assert_non_null(strstr(r.out, "Seccomp:\t2"));
		run_result_free(&r);
		bundle_free(&b);
	}
}

/* Without CAP_SYS_ADMIN a filter needs no_new_privs: loading fails and says
 * so instead of setting it behind the config's back. */
static void test_seccomp_needs_cap_sys_admin(void **state)
{
	(void)state;
	if (!is_root())
		skip_because("needs root to drop CAP_SYS_ADMIN from a full set");
	struct err e = {0};
	struct oci_config *c = oci_config_parse(
	    "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"linux\":{\"seccomp\":{"
	    "\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mknodat\"],"
	    "\"action\":\"SCMP_ACT_ERRNO\"}]}}}",
	    "/b", &e);
	assert_non_null(c);
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		cap_t caps = cap_get_proc();
		cap_value_t v = CAP_SYS_ADMIN;
		cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_CLEAR);
		if (cap_set_proc(caps) < 0)
			_exit(3);
		int nfd, r = oci_seccomp_load(c->seccomp, &nfd, &e);
		int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
		dprintf(p[1], "%d %d %s", r, nnp, e.msg);
		_exit(0);
	}
	close(p[1]);
	char buf[1024] = "";
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	waitpid(pid, NULL, 0);
	oci_config_free(c);
	assert_true(n > 0);
	buf[n] = '\0';
	if (strncmp(buf, "-1 0 ", 5) != 0 || !strstr(buf, "needs CAP_SYS_ADMIN"))
		fail_msg("loading without CAP_SYS_ADMIN gave '%s'", buf);
}

/* Kernel memory limits are accepted and ignored with a warning, which --log
 * records once as a warning. */
static void test_kernel_memory_ignored(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	struct bundle b;
	struct bundle_opts o = {
	    .args = "[\"sh\",\"-c\",\"echo kmem-ok\"]",
	    .lnx = ",\"resources\":{\"memory\":{\"limit\":268435456,\"kernel\":67108864,"
	           "\"kernelTCP\":16777216}}",
	};
	assert_int_equal(bundle_new(&b, &o), 0);
	char log[512];
	bundle_path(&b, "capsa.log", log, sizeof(log));
	struct run_result r;
	capsa(&r, &b, 30, "--log", log, "run", b.id, NULL);
	expect_ok(&r, "run with kernel memory limits");
	assert_non_null(strstr(r.out, "kmem-ok"));
	assert_non_null(strstr(r.err, "capsa: warning: linux.resources.memory.kernel"));
	char *text = read_file(log, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "warning: linux.resources.memory.kernel"));
	assert_null(strstr(text, "warning: warning"));
	free(text);
	run_result_free(&r);
	bundle_free(&b);
}

/* A node listed in linux.devices is created and usable under a deny-all
 * device rule (runc and crun allow what the config lists): /dev/net/tun,
 * which is not among the devices every container gets. */
static void test_listed_devices_under_deny_all(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	if (access("/dev/net/tun", R_OK | W_OK) != 0)
		skip_because("the host has no /dev/net/tun to open");
	struct bundle b;
	struct bundle_opts o = {
	    .args = "[\"sh\",\"-c\",\"ls -l /dev/mytun && exec 3<>/dev/mytun && echo opened\"]",
	    .lnx = ",\"devices\":[{\"path\":\"/dev/mytun\",\"type\":\"c\",\"major\":10,"
	           "\"minor\":200,\"fileMode\":438}],"
	           "\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]}",
	};
	struct run_result r;
	run_new_bundle(&b, &o, &r, 30, "run with a listed device under deny-all");
	assert_non_null(strstr(r.out, "crw-rw-rw-"));
	assert_non_null(strstr(r.out, "10, 200"));
	assert_non_null(strstr(r.out, "opened\n"));
	run_result_free(&r);
	bundle_free(&b);
}

/* Failed poststart and poststop hooks are warnings; the hooks after them
 * still run (runtime-spec, "Lifecycle"). */
static void test_hooks_after_a_failure(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	char hooks[2048], a[512], c[512];
	struct bundle b;
	assert_int_equal(bundle_new(&b, NULL), 0);
	bundle_path(&b, "poststart-ran", a, sizeof(a));
	bundle_path(&b, "poststop-ran", c, sizeof(c));
	snprintf(hooks, sizeof(hooks),
	         ",\"hooks\":{\"poststart\":[{\"path\":\"/bin/false\"},{\"path\":\"/bin/sh\","
	         "\"args\":[\"sh\",\"-c\",\"touch %s\"]}],\"poststop\":[{\"path\":\"/bin/false\"},"
	         "{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"touch %s\"]}]}",
	         a, c);
	struct bundle_opts o = {.top = hooks};
	bundle_config(&b, &o);
	struct run_result r;
	capsa(&r, &b, 30, "run", b.id, NULL);
	expect_ok(&r, "run with failing hooks");
	assert_int_equal(access(a, F_OK), 0);
	assert_int_equal(access(c, F_OK), 0);
	assert_non_null(strstr(r.err, "warning: hooks.poststart[0]"));
	assert_non_null(strstr(r.err, "hooks.poststop[0]: /bin/false exited with status 1"));
	run_result_free(&r);
	bundle_free(&b);
}

/* hugetlb limits where the controller is in cgroup v2 only (the hybrid
 * layout): it is enabled on the way down to the container's cgroup. */
static void test_hugetlb_limit(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	if (access("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK) != 0)
		skip_because("the machine has no 2 MB huge pages");
	char *v2 = read_file("/sys/fs/cgroup/unified/cgroup.controllers", NULL);
	if (!v2)
		v2 = read_file("/sys/fs/cgroup/cgroup.controllers", NULL);
	char *v1 = read_file("/proc/cgroups", NULL);
	int has = (v2 && strstr(v2, "hugetlb")) || (v1 && strstr(v1, "hugetlb"));
	free(v1);
	free(v2);
	if (!has)
		skip_because("the kernel has no hugetlb cgroup controller");
	/* a parent cgroup of its own, so that no earlier run has enabled the
	 * controller on the way down already */
	char lnx[256], parent[64], cmd[256];
	snprintf(parent, sizeof(parent), "capsa-hugetlb-%d", (int)getpid());
	snprintf(lnx, sizeof(lnx),
	         ",\"cgroupsPath\":\"/%s/c\",\"resources\":{\"hugepageLimits\":[{\"pageSize\":"
	         "\"2MB\",\"limit\":4194304}]}",
	         parent);
	struct bundle b;
	struct bundle_opts o = {
	    .args = "[\"sh\",\"-c\",\"cat $(find /sys/fs/cgroup -name 'hugetlb.2MB.max' -o -name "
	            "'hugetlb.2MB.limit_in_bytes' | head -n 1)\"]",
	    .mounts = CGROUP_RO_MOUNT,
	    .lnx = lnx,
	};
	struct run_result r;
	assert_int_equal(bundle_new(&b, &o), 0);
	capsa(&r, &b, 30, "run", b.id, NULL);
	snprintf(cmd, sizeof(cmd), "rmdir /sys/fs/cgroup/*/%s /sys/fs/cgroup/%s 2>/dev/null",
	         parent, parent);
	if (system(cmd) < 0)
		fail_msg("rmdir");
	expect_ok(&r, "run with a hugetlb limit");
	assert_non_null(strstr(r.out, "4194304"));
	run_result_free(&r);
	bundle_free(&b);
}

/* Lines of the host's mountinfo: a container must not leave mounts behind. */
static int host_mounts(void)
{
	char *t = read_file("/proc/self/mountinfo", NULL);
	int n = 0;
	for (char *p = t; p && *p; p++)
		n += *p == '\n';
	free(t);
	return n;
}

/* linux.rootfsPropagation: each value runs and ends up on the container's
 * root (shared made pivot_root fail with EINVAL). */
static void test_rootfs_propagation(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	static const struct {
		const char *value, *want, *unwanted;
	} cases[] = {
	    {"shared", " shared:", NULL},        {"rshared", " shared:", NULL},
	    {"slave", NULL, " shared:"},         {"private", NULL, " shared:"},
	    {"unbindable", " unbindable", NULL}, {"runbindable", " unbindable", NULL},
	};
	int before = host_mounts();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char lnx[128];
		snprintf(lnx, sizeof(lnx), ",\"rootfsPropagation\":\"%s\"", cases[i].value);
		struct bundle b;
		struct bundle_opts o = {
		    .args = "[\"sh\",\"-c\",\"grep -E '^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / ' "
		            "/proc/self/mountinfo\"]",
		    .lnx = lnx,
		};
		struct run_result r;
		run_new_bundle(&b, &o, &r, 30, cases[i].value);
		if ((cases[i].want && !strstr(r.out, cases[i].want)) ||
		    (cases[i].unwanted && strstr(r.out, cases[i].unwanted)))
			fail_msg("rootfsPropagation %s: the root is '%s'", cases[i].value, r.out);
		run_result_free(&r);
		bundle_free(&b);
	}
	assert_int_equal(host_mounts(), before);
}

/* A namespace type left out of linux.namespaces is the runtime's: here the
 * mount namespace (the process is chrooted), and create refuses mounts that
 * would land in the host's. */
static void test_inherited_mount_namespace(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	become_subreaper();
	struct bundle b;
	assert_int_equal(bundle_new(&b, NULL), 0);
	char cfg[512], pidfile[512];
	bundle_path(&b, "config.json", cfg, sizeof(cfg));
	bundle_path(&b, "pid", pidfile, sizeof(pidfile));
	write_text(cfg,
	           "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{"
	           "\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\",\"-c\",\"ls /bin/busybox && "
	           "sleep 30\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\"},"
	           "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\"}]}}");
	capsa_ok(&b, 30, "create without a mount namespace", "create", "--pid-file", pidfile, b.id,
	         NULL);
	char *pid = read_pid_file(&b, "pid");
	char mine[64], theirs[64], p[64];
	snprintf(p, sizeof(p), "/proc/%s/ns/mnt", pid);
	ssize_t n1 = readlink("/proc/self/ns/mnt", mine, sizeof(mine) - 1);
	ssize_t n2 = readlink(p, theirs, sizeof(theirs) - 1);
	assert_true(n1 > 0 && n2 > 0);
	mine[n1] = theirs[n2] = '\0';
	assert_string_equal(mine, theirs);
	/* exec enters the same chroot */
	capsa_ok(&b, 10, "start", "start", b.id, NULL);
	struct run_result r;
	char marker[512];
	write_text(bundle_path(&b, "rootfs/only-in-rootfs", marker, sizeof(marker)), "x");
	capsa(&r, &b, 30, "exec", b.id, "ls", "/only-in-rootfs", NULL);
	expect_ok(&r, "exec without a mount namespace");
	assert_non_null(strstr(r.out, "/only-in-rootfs"));
	run_result_free(&r);
	capsa_ok(&b, 10, "delete", "delete", "--force", b.id, NULL);
	free(pid);
	/* mounts without a mount namespace of its own */
	write_text(cfg,
	           "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{"
	           "\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"true\"],\"cwd\":\"/\"},"
	           "\"mounts\":[{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"t\"}],"
	           "\"linux\":{\"namespaces\":[{\"type\":\"pid\"}]}}");
	capsa_fails(&b, 30, 2, "config.json: mounts: needs a mount namespace", "run", b.id, NULL);
	assert_false(state_leftover(&b));
	bundle_free(&b);
}

/* Joining a mount namespace by path still builds the container's root in
 * it (runc does); the namespace here is held by an unshare'd sleep. */
static void test_joined_mount_namespace(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	if (access("/usr/bin/unshare", X_OK) != 0)
		skip_because("util-linux unshare is not installed");
	pid_t holder = fork();
	assert_true(holder >= 0);
	if (holder == 0) {
		execl("/usr/bin/unshare", "unshare", "--mount", "--propagation", "private", "sleep",
		      "60", (char *)NULL);
		_exit(127);
	}
	char mine[64], theirs[64], p[64];
	snprintf(p, sizeof(p), "/proc/%d/ns/mnt", (int)holder);
	ssize_t n1 = readlink("/proc/self/ns/mnt", mine, sizeof(mine) - 1), n2 = 0;
	for (int i = 0; i < 500; i++) { /* until unshare has unshared */
		n2 = readlink(p, theirs, sizeof(theirs) - 1);
		if (n2 > 0 && (theirs[n2] = '\0', n1 > 0) &&
		    (mine[n1] = '\0', strcmp(mine, theirs)))
			break;
		usleep(10000);
	}
	char ns[256];
	snprintf(ns, sizeof(ns),
	         "[{\"type\":\"pid\"},{\"type\":\"mount\",\"path\":\"%s\"},{\"type\":\"uts\"}]", p);
	struct bundle b;
	struct bundle_opts o = {.args = "[\"sh\",\"-c\",\"echo joined; ls /only-in-rootfs\"]",
	                        .namespaces = ns};
	struct run_result r;
	assert_int_equal(bundle_new(&b, &o), 0);
	char marker[512];
	write_text(bundle_path(&b, "rootfs/only-in-rootfs", marker, sizeof(marker)), "x");
	capsa(&r, &b, 30, "run", b.id, NULL);
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	expect_ok(&r, "run in a joined mount namespace");
	assert_non_null(strstr(r.out, "joined\n/only-in-rootfs"));
	run_result_free(&r);
	bundle_free(&b);
}

/* What is known before the process starts fails create, with the message,
 * and leaves nothing behind (it used to surface as exit 127 after start). */
static void test_create_checks_what_it_can(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	int checked = 0;
	if (access("/sys/kernel/security/apparmor", F_OK) != 0) {
		struct bundle b;
		struct bundle_opts o = {.process = ",\"apparmorProfile\":\"capsa-test\""};
		assert_int_equal(bundle_new(&b, &o), 0);
		capsa_fails(&b, 30, 2,
		            "process.apparmorProfile: 'capsa-test': AppArmor is not enabled",
		            "create", b.id, NULL);
		assert_false(state_leftover(&b));
		bundle_free(&b);
		checked++;
	}
	/* a runtime without CAP_SYS_MODULE cannot give it */
	if (access("/usr/bin/setpriv", X_OK) == 0) {
		struct bundle b;
		struct bundle_opts o = {.caps = "[\"CAP_KILL\",\"CAP_SYS_MODULE\"]"};
		assert_int_equal(bundle_new(&b, &o), 0);
		char *argv[] = {"/usr/bin/setpriv",
		                "--bounding-set",
		                "-sys_module",
		                (char *)test_capsa_bin(),
		                "--root",
		                b.root,
		                "create",
		                b.id,
		                NULL};
		struct run_result r;
		run_files(&r, b.dir, argv, 30);
		expect_error(&r, 2,
		             "process.capabilities.effective: CAP_SYS_MODULE: the runtime "
		             "does not have it");
		run_result_free(&r);
		assert_false(state_leftover(&b));
		assert_false(cgroup_leftover(b.id));
		bundle_free(&b);
		checked++;
	}
	if (!checked)
		skip_because("AppArmor is enabled and setpriv is not installed");
}

/* Errors naming a config field start with "config.json: " wherever they are
 * found, and mknod's EPERM names the device rules. */
static void test_messages_name_the_field(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	struct bundle b;
	struct bundle_opts o = {
	    .mounts =
	        ",{\"destination\":\"/data\",\"source\":\"/no/such/dir\",\"options\":[\"bind\"]}"};
	assert_int_equal(bundle_new(&b, &o), 0);
	/* found by the container init */
	capsa_fails(&b, 30, 2, "capsa: config.json: mounts[6].source: /no/such/dir", "run", b.id,
	            NULL);
	/* found by the runtime */
	o = (struct bundle_opts){.process = ",\"terminal\":true"};
	bundle_config(&b, &o);
	capsa_fails(&b, 30, 2, "capsa: config.json: process.terminal", "create", b.id, NULL);
	assert_false(state_leftover(&b));
	/* a parent cgroup (v1) that denies every device: mknod of /dev/null */
	char dir[256], lnx[128], cmd[512];
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup/devices/capsa-deny-%d", (int)getpid());
	if (mkdir(dir, 0755) == 0) {
		snprintf(cmd, sizeof(cmd), "%s/devices.deny", dir);
		write_text(cmd, "a");
		snprintf(lnx, sizeof(lnx), ",\"cgroupsPath\":\"/capsa-deny-%d/c\"", (int)getpid());
		o = (struct bundle_opts){.lnx = lnx};
		bundle_config(&b, &o);
		struct run_result r;
		capsa(&r, &b, 30, "run", b.id, NULL);
		snprintf(cmd, sizeof(cmd), "rmdir /sys/fs/cgroup/*/capsa-deny-%d 2>/dev/null",
		         (int)getpid());
		if (system(cmd) < 0)
			fail_msg("rmdir");
		expect_error(&r, 1, "linux.resources.devices: creating device /dev/null");
		run_result_free(&r);
	}
	bundle_free(&b);
}

/* A plain `make` builds build/capsa, as the README says. */
static void test_make_builds_capsa(void **state)
{
	(void)state;
	if (access("/usr/bin/make", X_OK) != 0)
		skip_because("make is not installed");
	char *argv[] = {"/usr/bin/make",  "-C", (char *)test_root(), "-n", "-W",
	                "src/cli/main.c", NULL};
	struct run_result r;
	run_cmd(&r, argv, 60);
	assert_int_equal(r.status, 0);
	if (!strstr(r.out, "-o build/capsa "))
		fail_msg("`make` would not link build/capsa:\n%s", r.out);
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_docker_zero_values),
	    cmocka_unit_test(test_runc_and_crun_default_specs),
	    cmocka_unit_test(test_seccomp_without_no_new_privs),
	    cmocka_unit_test(test_seccomp_needs_cap_sys_admin),
	    cmocka_unit_test(test_kernel_memory_ignored),
	    cmocka_unit_test(test_listed_devices_under_deny_all),
	    cmocka_unit_test(test_hooks_after_a_failure),
	    cmocka_unit_test(test_hugetlb_limit),
	    cmocka_unit_test(test_rootfs_propagation),
	    cmocka_unit_test(test_inherited_mount_namespace),
	    cmocka_unit_test(test_joined_mount_namespace),
	    cmocka_unit_test(test_create_checks_what_it_can),
	    cmocka_unit_test(test_messages_name_the_field),
	    cmocka_unit_test(test_make_builds_capsa),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
