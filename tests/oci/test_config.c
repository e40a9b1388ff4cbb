/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: config.json parsing and validation, seccomp translation,
 * cgroup path logic, the state store. */
#include "common/testutil.h"
#include "oci/cgroup.h"
#include "oci/config.h"
#include "oci/seccomp.h"
#include "oci/state.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define BASE_PROCESS                                                                               \
	"\"process\":{\"user\":{\"uid\":1000,\"gid\":100,\"additionalGids\":[5,6],\"umask\":18},"  \
	"\"args\":[\"/bin/sh\",\"-c\",\"true\"],\"env\":[\"PATH=/bin\",\"A=b=c\"],\"cwd\":\"/\","  \
	"\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_CHOWN\"],\"effective\":[\"CAP_KILL\"]" \
	"},"                                                                                       \
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":100,\"hard\":200}],"                    \
	"\"noNewPrivileges\":true,\"oomScoreAdj\":-5}"

static const char valid[] =
    "{\"ociVersion\":\"1.2.0\",\"unknownTopLevel\":{\"x\":1}," BASE_PROCESS ","
    "\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"h\","
    "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
    "{\"destination\":\"/data\",\"source\":\"/srv\",\"options\":[\"rbind\",\"ro\",\"nosuid\","
    "\"rslave\",\"size=1k\"]}],"
    "\"hooks\":{\"prestart\":[{\"path\":\"/bin/true\",\"args\":[\"true\"],\"timeout\":3}]},"
    "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"uts\"},"
    "{\"type\":\"network\",\"path\":\"/var/run/netns/x\"}],"
    "\"resources\":{\"memory\":{\"limit\":1048576,\"swap\":2097152},\"pids\":{\"limit\":10},"
    "\"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000,\"cpus\":\"0-1\"},"
    "\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\","
    "\"major\":1,\"minor\":3,\"access\":\"rw\"}]},"
    "\"devices\":[{\"type\":\"c\",\"path\":\"/dev/fuse\",\"major\":10,\"minor\":229}],"
    "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"
    "\"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":42}]},"
    "\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"},"
    "\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"]}}";

static void test_valid_config(void **state)
{
	(void)state;
	struct err e = {0};
	struct oci_config *c = oci_config_parse(valid, "/bundle", &e);
	assert_non_null(c);
	assert_string_equal(c->root_path, "/bundle/rootfs");
	assert_true(c->root_readonly);
	assert_string_equal(c->process.args[0], "/bin/sh");
	assert_null(c->process.args[3]);
	assert_string_equal(c->process.env[1], "A=b=c");
	assert_int_equal(c->process.uid, 1000);
	assert_int_equal(c->process.gid, 100);
	assert_int_equal(c->process.n_groups, 2);
	assert_int_equal(c->process.umask, 18);
	assert_int_equal(c->process.caps.n[OCI_CAP_BOUNDING], 2);
	assert_int_equal(c->process.caps.set[OCI_CAP_BOUNDING][1], 0 /* CAP_CHOWN */);
	assert_int_equal(c->process.caps.set[OCI_CAP_EFFECTIVE][0], 5 /* CAP_KILL */);
	assert_int_equal(c->process.n_rlimits, 1);
	assert_int_equal(c->process.rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(c->process.rlimits[0].hard, 200);
	assert_true(c->process.no_new_privileges);
	assert_int_equal(c->process.oom_score_adj, -5);
	assert_int_equal(c->n_mounts, 2);
	assert_true(c->mounts[1].bind && c->mounts[1].recursive && c->mounts[1].readonly);
	assert_true(c->mounts[1].flags & MS_NOSUID);
	assert_int_equal(c->mounts[1].propagation, MS_SLAVE | MS_REC);
	assert_string_equal(c->mounts[1].data, "size=1k");
	assert_int_equal(c->n_hooks[OCI_HOOK_PRESTART], 1);
	assert_int_equal(c->hooks[OCI_HOOK_PRESTART][0].timeout, 3);
	assert_int_equal(c->n_namespaces, 4);
	assert_non_null(oci_config_ns(c, CLONE_NEWNET));
	assert_string_equal(oci_config_ns(c, CLONE_NEWNET)->path, "/var/run/netns/x");
	assert_null(oci_config_ns(c, CLONE_NEWUSER));
	assert_int_equal(c->resources.mem_limit, 1048576);
	assert_int_equal(c->resources.pids_limit, 10);
	assert_int_equal(c->resources.cpu_shares, 512);
	assert_string_equal(c->resources.cpus, "0-1");
	assert_int_equal(c->resources.mem_reservation, OCI_UNSET);
	/* the two rules, then one allowing the listed /dev/fuse */
	assert_int_equal(c->resources.n_devices, 3);
	assert_int_equal(c->resources.devices[0].type, 'a');
	assert_int_equal(c->resources.devices[0].major, -1);
	assert_string_equal(c->resources.devices[1].access, "rw");
	assert_true(c->resources.devices[2].allow && c->resources.devices[2].major == 10 &&
	            c->resources.devices[2].minor == 229);
	assert_string_equal(c->resources.devices[2].access, "rwm");
	assert_int_equal(c->n_devices, 1);
	assert_int_equal(c->devices[0].major, 10);
	assert_non_null(c->seccomp);
	assert_int_equal(c->seccomp->n_rules, 1);
	assert_int_equal(c->seccomp->rules[0].action, SCMP_ACT_ERRNO(42));
	assert_int_equal(c->n_sysctls, 1);
	assert_int_equal(c->n_masked, 1);
	oci_config_free(c);
}

struct bad_case {
	const char *json;
	const char *expect; /* substring of the error */
};

#define ROOT     "\"root\":{\"path\":\"/r\"}"
#define PROC     "\"process\":{\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"a\"],\"cwd\":\"/\"}"
#define DOC(...) "{\"ociVersion\":\"1.0.0\"," ROOT "," PROC __VA_ARGS__ "}"

static const struct bad_case bad_cases[] = {
    {"{\"ociVersion\":", "not valid JSON"},
    {"[1,2]", "must be a JSON object"},
    {"{" ROOT "}", "ociVersion: missing"},
    {"{\"ociVersion\":\"2.0.0\"," ROOT "}", "ociVersion"},
    {"{\"ociVersion\":\"1.0.0\"}", "root: missing"},
    {"{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":7}}", "root.path: must be a string"},
    {"{\"ociVersion\":\"1.0.0\"," ROOT ",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
     "\"args\":[],\"cwd\":\"/\"}}",
     "process.args: must not be empty"},
    {"{\"ociVersion\":\"1.0.0\"," ROOT ",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
     "\"args\":[\"a\",3],\"cwd\":\"/\"}}",
     "process.args[1]: must be a string"},
    {"{\"ociVersion\":\"1.0.0\"," ROOT ",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
     "\"args\":[\"a\"],\"cwd\":\"rel\"}}",
     "process.cwd"},
    {"{\"ociVersion\":\"1.0.0\"," ROOT ",\"process\":{\"args\":[\"a\"],\"cwd\":\"/\"}}",
     "process.user: missing"},
    {"{\"ociVersion\":\"1.0.0\"," ROOT ",\"process\":{\"user\":{\"uid\":-1,\"gid\":0},"
     "\"args\":[\"a\"],\"cwd\":\"/\"}}",
     "process.user.uid"},
    {"{\"ociVersion\":\"1.0.0\"," ROOT ",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
     "\"args\":[\"a\"],\"cwd\":\"/\",\"env\":[\"NOEQUALS\"]}}",
     "process.env[0]"},
    {"{\"ociVersion\":\"1.0.0\"," ROOT ",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
     "\"args\":[\"a\"],\"cwd\":\"/\",\"capabilities\":{\"bounding\":[\"CAP_FLY\"]}}}",
     "unknown capability 'CAP_FLY'"},
    {"{\"ociVersion\":\"1.0.0\"," ROOT ",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
     "\"args\":[\"a\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_FOO\",\"soft\":1,"
     "\"hard\":1}]}}",
     "unknown rlimit"},
    {"{\"ociVersion\":\"1.0.0\"," ROOT ",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
     "\"args\":[\"a\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":9,"
     "\"hard\":1}]}}",
     "soft 9 above hard 1"},
    {"{\"ociVersion\":\"1.0.0\"," ROOT ",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
     "\"args\":[\"a\"],\"cwd\":\"/\",\"oomScoreAdj\":5000}}",
     "process.oomScoreAdj"},
    {DOC(",\"mounts\":[{\"destination\":\"rel\",\"type\":\"tmpfs\"}]"), "mounts[0].destination"},
    {DOC(",\"mounts\":[{\"destination\":\"/x\",\"options\":[\"bind\"]}]"),
     "mounts[0].source: missing"},
    {DOC(",\"mounts\":[{\"destination\":\"/x\",\"source\":\"t\"}]"), "mounts[0].type: missing"},
    {DOC(",\"mounts\":[{\"destination\":\"/x\",\"type\":\"tmpfs\",\"options\":[\"idmap\"]}]"),
     "idmapped mounts must be bind mounts"},
    {DOC(",\"mounts\":[{\"destination\":\"/x\",\"source\":\"/y\",\"options\":[\"rbind\","
         "\"rro\"]}]"),
     "recursive 'rro'"},
    {DOC(",\"linux\":{\"namespaces\":[{\"type\":\"pidd\"}]}"), "unknown namespace type 'pidd'"},
    {DOC(",\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]}"), "given twice"},
    {DOC(",\"linux\":{\"namespaces\":[{\"type\":\"net\"}]}"), "unknown namespace type 'net'"},
    {DOC(",\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]}"),
     "without a user namespace"},
    {DOC(",\"linux\":{\"namespaces\":[{\"type\":\"user\"}]}"), "needs both"},
    {DOC(",\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,"
         "\"hostID\":1,\"size\":0}],\"gidMappings\":[]}"),
     "size: must not be 0"},
    {DOC(",\"hostname\":\"x\",\"linux\":{\"namespaces\":[{\"type\":\"pid\"}]}"),
     "hostname: set without a uts namespace"},
    {DOC(",\"linux\":{\"resources\":{\"memory\":{\"limit\":1048576,\"swap\":1024}}}"),
     "linux.resources.memory.swap"},
    {DOC(",\"linux\":{\"resources\":{\"cpu\":{\"shares\":1}}}"), "linux.resources.cpu.shares"},
    {DOC(",\"linux\":{\"resources\":{\"cpu\":{\"cpus\":\"0;1\"}}}"), "linux.resources.cpu.cpus"},
    {DOC(",\"linux\":{\"resources\":{\"memory\":{\"kernel\":\"x\"}}}"),
     "linux.resources.memory.kernel: must be an integer"},
    {DOC(",\"linux\":{\"resources\":{\"pids\":{\"limit\":\"x\"}}}"),
     "linux.resources.pids.limit: must be an integer"},
    {DOC(",\"linux\":{\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"x\"}]}}"),
     "linux.resources.devices[0].type"},
    {DOC(",\"linux\":{\"resources\":{\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]}}"),
     "linux.resources.devices[0].access"},
    {DOC(",\"linux\":{\"resources\":{\"unified\":{\"../x\":\"1\"}}}"),
     "linux.resources.unified: bad key"},
    {DOC(",\"linux\":{\"devices\":[{\"type\":\"q\",\"path\":\"/dev/x\"}]}"),
     "linux.devices[0].type"},
    {DOC(",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOPE\"}}"),
     "unknown seccomp action"},
    {DOC(",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{"
         "\"names\":[\"no_such_call\"],\"action\":\"SCMP_ACT_ERRNO\"}]}}"),
     "unknown system call 'no_such_call'"},
    {DOC(",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":["
         "\"SCMP_ARCH_Z80\"]}}"),
     "unknown architecture"},
    {DOC(",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{"
         "\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":9,"
         "\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}}"),
     "index"},
    {DOC(",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}}"),
     "listenerPath: required"},
    {DOC(",\"linux\":{\"intelRdt\":{}}"), "linux.intelRdt: not supported"},
    {DOC(",\"linux\":{\"sysctl\":{\"kernel.panic\":\"1\"}}"),
     "linux.sysctl.kernel.panic: not namespaced"},
    {DOC(",\"linux\":{\"namespaces\":[{\"type\":\"ipc\"}],\"sysctl\":{\"net.ipv4.ip_forward\":"
         "\"1\"}}"),
     "needs a network namespace"},
    {DOC(",\"linux\":{\"personality\":{\"domain\":\"PDP11\"}}"), "linux.personality.domain"},
    {"{\"ociVersion\":\"1.0.0\"," ROOT ",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
     "\"args\":[\"a\"],\"cwd\":\"/\",\"scheduler\":{\"policy\":\"SCHED_ISO\"}}}",
     "process.scheduler.policy"},
    {"{\"ociVersion\":\"1.0.0\"," ROOT ",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
     "\"args\":[\"a\"],\"cwd\":\"/\",\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\","
     "\"priority\":9}}}",
     "process.ioPriority.priority"},
    {"{\"ociVersion\":\"1.0.0\"," ROOT ",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
     "\"args\":[\"a\"],\"cwd\":\"/\",\"execCPUAffinity\":{\"initial\":\"3-1\"}}}",
     "process.execCPUAffinity.initial"},
    {DOC(",\"linux\":{\"timeOffsets\":{\"monotonic\":{\"secs\":1}}}"), "without a time namespace"},
    {DOC(",\"linux\":{\"cgroupsPath\":\"/a/../../b\"}"), "linux.cgroupsPath"},
    {DOC(",\"linux\":{\"sysctl\":{\"../../x\":\"1\"}}"), "linux.sysctl: bad key"},
    {DOC(",\"hooks\":{\"prestart\":[{\"path\":\"relative\"}]}"), "hooks.prestart[0].path"},
    {DOC(",\"hooks\":{\"poststop\":[{\"path\":\"/x\",\"timeout\":0}]}"),
     "hooks.poststop[0].timeout"},
    {DOC(",\"windows\":{}"), "windows: not supported"},
};

static void test_invalid_configs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct err e = {0};
		struct oci_config *c = oci_config_parse(bad_cases[i].json, "/b", &e);
		if (c || !strstr(e.msg, bad_cases[i].expect))
			fail_msg("case %zu: expected an error with '%s', got %s'%s'", i,
			         bad_cases[i].expect, c ? "success " : "", e.msg);
		assert_int_equal(e.kind, ERR_INPUT);
	}
	test_measured("%zu invalid configs rejected with the field named",
	              sizeof(bad_cases) / sizeof(bad_cases[0]));
}

static void test_unknown_fields_ignored(void **state)
{
	(void)state;
	struct err e = {0};
	struct oci_config *c = oci_config_parse(
	    DOC(",\"x-vendor\":[1,2],\"linux\":{\"futureThing\":true,\"namespaces\":[{\"type\":"
	        "\"pid\",\"extra\":1}]}"),
	    "/b", &e);
	assert_non_null(c);
	assert_int_equal(c->n_namespaces, 1);
	oci_config_free(c);
}

static void test_process_override(void **state)
{
	(void)state;
	struct err e = {0};
	struct oci_config *c = oci_config_parse(DOC(""), "/b", &e);
	assert_non_null(c);
	assert_int_equal(oci_config_parse_process(c,
	                                          "{\"user\":{\"uid\":7,\"gid\":8},\"args\":["
	                                          "\"ls\"],\"cwd\":\"/tmp\"}",
	                                          &e),
	                 0);
	assert_int_equal(c->process.uid, 7);
	assert_string_equal(c->process.cwd, "/tmp");
	assert_int_equal(oci_config_parse_process(c, "{\"args\":[\"ls\"]}", &e), -1);
	assert_non_null(strstr(e.msg, "process.user"));
	oci_config_free(c);
}

/* Load the filter in a child and check that it denies what it should. */
static void test_seccomp_enforced(void **state)
{
	(void)state;
	struct err e = {0};
	struct oci_config *c = oci_config_parse(
	    DOC(",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
	        "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
	        "\"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\","
	        "\"errnoRet\":42},{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\","
	        "\"errnoRet\":7,\"args\":[{\"index\":0,\"value\":4294967295,\"op\":"
	        "\"SCMP_CMP_EQ\"}]}]}}"),
	    "/b", &e);
	assert_non_null(c);
	void *ctx = oci_seccomp_build(c->seccomp, &e);
	assert_non_null(ctx);
	int mfd = memfd_create("bpf", 0);
	assert_true(mfd >= 0);
	assert_int_equal(seccomp_export_bpf(ctx, mfd), 0);
	off_t size = lseek(mfd, 0, SEEK_END);
	close(mfd);
	assert_true(size > 8 && size % 8 == 0);
	oci_seccomp_free(ctx);
	pid_t pid = fork();
	if (pid == 0) {
		int nfd;
		struct err e2 = {0};
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (oci_seccomp_load(c->seccomp, &nfd, &e2) < 0)
			_exit(10);
		errno = 0;
		if (syscall(SYS_getppid) != -1 || errno != 42)
			_exit(11);
		errno = 0;
		if (syscall(SYS_personality, 0xffffffffUL) != -1 || errno != 7)
			_exit(12);
		if (syscall(SYS_getpid) <= 0)
			_exit(13);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	oci_config_free(c);
}

static void test_cgroup_paths(void **state)
{
	(void)state;
	char out[1024];
	struct err e = {0};
	assert_int_equal(oci_cgroup_resolve_path(NULL, "abc", 0, out, sizeof(out), &e), 0);
	assert_string_equal(out, "/capsa/abc");
	assert_int_equal(oci_cgroup_resolve_path("/a/b", "x", 0, out, sizeof(out), &e), 0);
	assert_string_equal(out, "/a/b");
	assert_int_equal(oci_cgroup_resolve_path("a/b", "x", 0, out, sizeof(out), &e), 0);
	assert_string_equal(out, "/a/b");
	assert_int_equal(oci_cgroup_resolve_path("/a/../../etc", "x", 0, out, sizeof(out), &e), -1);
	assert_int_equal(oci_cgroup_resolve_path("/a//b", "x", 0, out, sizeof(out), &e), -1);
	assert_int_equal(oci_cgroup_resolve_path("/", "x", 0, out, sizeof(out), &e), -1);
	assert_int_equal(
	    oci_cgroup_resolve_path("system.slice:libpod:abc", "x", 1, out, sizeof(out), &e), 0);
	assert_string_equal(out, "/system.slice/libpod-abc.scope");
	assert_int_equal(oci_cgroup_resolve_path("a-b.slice:pre:x", "x", 1, out, sizeof(out), &e),
	                 0);
	assert_string_equal(out, "/a.slice/a-b.slice/pre-x.scope");
	assert_int_equal(oci_cgroup_resolve_path("::", "id1", 1, out, sizeof(out), &e), 0);
	assert_string_equal(out, "/system.slice/id1.scope");
	assert_int_equal(oci_cgroup_resolve_path("nocolons", "x", 1, out, sizeof(out), &e), -1);
	assert_non_null(strstr(e.msg, "slice:prefix:name"));
	assert_int_equal(oci_cgroup_shares_to_weight(2), 1);
	assert_int_equal(oci_cgroup_shares_to_weight(1024), 39);
	assert_int_equal(oci_cgroup_shares_to_weight(262144), 10000);
}

static const char mi_hybrid[] =
    "30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
    "32 30 0:28 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
    "33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
    "34 30 0:30 / /sys/fs/cgroup/memory rw shared:9 - cgroup cgroup rw,memory\n"
    "35 30 0:31 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
    "36 30 0:31 / /other/pids rw - cgroup cgroup rw,pids\n"
    "40 25 8:1 / / rw - ext4 /dev/vda rw\n";
static const char mi_v2[] = "29 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";

static void test_cgroup_layouts(void **state)
{
	(void)state;
	struct oci_cgroup cg;
	struct err e = {0};
	char dir[1400];
	int v2;
	memset(&cg, 0, sizeof(cg));
	assert_int_equal(oci_cgroup_parse_mountinfo(&cg, mi_hybrid, &e), 0);
	assert_int_equal(cg.layout, OCI_CG_HYBRID);
	assert_int_equal(cg.nh, 4); /* the second pids mount is the same hierarchy */
	assert_string_equal(cg.unified, "/sys/fs/cgroup/unified");
	strcpy(cg.path, "/capsa/x");
	strcpy(cg.v2_ctrls, "hugetlb");
	assert_int_equal(oci_cgroup_ctrl_dir(&cg, "cpuacct", dir, sizeof(dir), &v2), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/cpu,cpuacct/capsa/x");
	assert_false(v2);
	assert_int_equal(oci_cgroup_ctrl_dir(&cg, "hugetlb", dir, sizeof(dir), &v2), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/unified/capsa/x");
	assert_true(v2);
	assert_int_equal(oci_cgroup_ctrl_dir(&cg, "name=systemd", dir, sizeof(dir), &v2), 0);
	assert_int_equal(oci_cgroup_ctrl_dir(&cg, "blkio", dir, sizeof(dir), &v2), -1);
	memset(&cg, 0, sizeof(cg));
	assert_int_equal(oci_cgroup_parse_mountinfo(&cg, mi_v2, &e), 0);
	assert_int_equal(cg.layout, OCI_CG_V2);
	assert_int_equal(cg.nh, 0);
	memset(&cg, 0, sizeof(cg));
	assert_int_equal(
	    oci_cgroup_parse_mountinfo(&cg, "40 25 8:1 / / rw - ext4 /dev/vda rw\n", &e), -1);
}

static void test_state_store(void **state)
{
	(void)state;
	char *root = test_tmpdir();
	assert_non_null(root);
	struct oci_state st, st2;
	struct err e = {0};
	assert_int_equal(oci_state_create(root, "../evil", &st, &e), -1);
	assert_int_equal(e.kind, ERR_INPUT);
	assert_int_equal(oci_state_create(root, "c1", &st, &e), 0);
	strcpy(st.bundle, "/some/bundle");
	st.pid = 999999999; /* no such process */
	assert_int_equal(oci_state_save(&st, &e), 0);
	/* The lock is exclusive: another open file description cannot take it. */
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/c1", root);
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
	oci_state_close(&st);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	close(fd);
	assert_int_equal(oci_state_create(root, "c1", &st2, &e), -1);
	assert_non_null(strstr(e.msg, "already exists"));
	assert_int_equal(oci_state_open(root, "c1", &st2, &e), 0);
	assert_string_equal(st2.bundle, "/some/bundle");
	assert_string_equal(oci_state_status(&st2, 0), "stopped");
	assert_int_equal(oci_state_remove(&st2, &e), 0);
	oci_state_close(&st2);
	assert_int_equal(oci_state_open(root, "c1", &st2, &e), -1);
	assert_non_null(strstr(e.msg, "does not exist"));
	rmdir(root);
	free(root);
}

/* Mutated configs (bytes flipped, truncated, spliced) must be parsed or
 * rejected, never crash: ASan and UBSan watch. */
static void test_mutated_configs_never_crash(void **state)
{
	(void)state;
	size_t len = strlen(valid);
	char *buf = malloc(len + 1);
	unsigned seed = 12345;
	int accepted = 0, rejected = 0;
	const char junk[] = "{}[]\",:0123456789-eE.tfn\\ \x01\xff";
	for (int i = 0; i < 3000; i++) {
		memcpy(buf, valid, len + 1);
		int edits = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 4;
		for (int k = 0; k < edits; k++) {
			seed = seed * 1103515245 + 12345;
			size_t pos = (seed >> 8) % len;
			buf[pos] = junk[(seed >> 20) % (sizeof(junk) - 1)];
		}
		if (i % 7 == 0)
			buf[(seed >> 4) % len] = '\0'; /* truncated */
		struct err e = {0};
		struct oci_config *c = oci_config_parse(buf, "/b", &e);
		if (c) {
			accepted++;
			oci_config_free(c);
		} else {
			assert_true(e.msg[0] != '\0');
			rejected++;
		}
	}
	free(buf);
	test_measured("3000 mutated configs: %d accepted, %d rejected with a message", accepted,
	              rejected);
	assert_true(rejected > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_config),
	    cmocka_unit_test(test_invalid_configs),
	    cmocka_unit_test(test_unknown_fields_ignored),
	    cmocka_unit_test(test_process_override),
	    cmocka_unit_test(test_seccomp_enforced),
	    cmocka_unit_test(test_cgroup_paths),
	    cmocka_unit_test(test_cgroup_layouts),
	    cmocka_unit_test(test_state_store),
	    cmocka_unit_test(test_mutated_configs_never_crash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
