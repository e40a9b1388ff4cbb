/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup v2 pieces that this machine can exercise even when its controllers
 * are on v1: the eBPF device filter and hugetlb limits in the unified
 * hierarchy (the hybrid layout's cgroup2 mount). */
#include "common/testutil.h"
#include "oci/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int oci_cgroup_devices_v2(const struct oci_cgroup *cg, const struct oci_dev_rule *rules, size_t n,
                          const struct oci_dev_rule *defaults, size_t nd, struct err *e);
int oci_devices_bpf_build(const struct oci_dev_rule *rules, size_t n, struct bpf_insn *out,
                          size_t max);

static struct oci_cgroup cg;
static char dir[1400];

static int setup(void **state)
{
	(void)state;
	struct err e = {0};
	memset(&cg, 0, sizeof(cg));
	if (geteuid() != 0 || oci_cgroup_detect(&cg, &e) < 0 || !cg.unified[0])
		return 0;
	snprintf(cg.path, sizeof(cg.path), "/capsa-test-v2-%d", (int)getpid());
	snprintf(dir, sizeof(dir), "%s%s", cg.unified, cg.path);
	if (mkdir(dir, 0755) < 0)
		cg.unified[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (dir[0])
		rmdir(dir);
	return 0;
}

static void test_bpf_program_shape(void **state)
{
	(void)state;
	struct oci_dev_rule rules[] = {{0, 'a', -1, -1, "rwm"}, {1, 'c', 1, 5, "r"}};
	struct bpf_insn prog[64];
	int n = oci_devices_bpf_build(rules, 2, prog, 64);
	assert_true(n > 8);
	assert_int_equal(prog[n - 1].code, BPF_JMP | BPF_EXIT);
	/* every jump lands inside the program */
	for (int i = 0; i < n; i++)
		if ((prog[i].code & 0x07) == BPF_JMP && prog[i].code != (BPF_JMP | BPF_EXIT))
			assert_true(i + 1 + prog[i].off < n);
	assert_int_equal(oci_devices_bpf_build(rules, 2, prog, 4), -1);
}

/* Open path with flags in a child placed in the cgroup; returns its errno. */
static int try_open(const char *path, int flags)
{
	pid_t pid = fork();
	if (pid == 0) {
		char p[1500], s[32];
		snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
		snprintf(s, sizeof(s), "%d", (int)getpid());
		int fd = open(p, O_WRONLY);
		if (fd < 0 || write(fd, s, strlen(s)) < 0)
			_exit(200);
		close(fd);
		fd = open(path, flags);
		_exit(fd >= 0 ? 0 : errno);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

static void test_bpf_device_filter_enforced(void **state)
{
	(void)state;
	if (!cg.unified[0])
		skip_because("needs root and a cgroup2 mount");
	struct oci_dev_rule rules[] = {
	    {0, 'a', -1, -1, "rwm"}, {1, 'c', 1, 5, "r"}, {0, 'c', 1, 9, "r"}};
	struct oci_dev_rule defaults[] = {{1, 'c', 1, 9, "rwm"}};
	struct err e = {0};
	if (oci_cgroup_devices_v2(&cg, rules, 3, defaults, 1, &e) < 0) {
		if (e.errnum == EPERM || e.errnum == ENOSYS)
			skip_because("BPF cgroup programs are not allowed here: %s", e.msg);
		fail_msg("%s", e.msg);
	}
	assert_int_equal(try_open("/dev/zero", O_RDONLY), 0);
	assert_int_equal(try_open("/dev/zero", O_WRONLY), EPERM);
	assert_int_equal(try_open("/dev/null", O_RDONLY), EPERM);
	assert_int_equal(try_open("/dev/urandom", O_RDWR), 0); /* the default rule comes last */
}

static void test_hugetlb_in_unified(void **state)
{
	(void)state;
	if (!cg.unified[0] || !strstr(cg.v2_ctrls, "hugetlb"))
		skip_because("no hugetlb controller in the cgroup2 hierarchy");
	/* the parent must hand the controller down */
	char p[1500];
	snprintf(p, sizeof(p), "%s/cgroup.subtree_control", cg.unified);
	int fd = open(p, O_WRONLY);
	assert_true(fd >= 0);
	assert_true(write(fd, "+hugetlb", 8) == 8);
	close(fd);
	struct oci_resources r;
	memset(&r, 0, sizeof(r));
	int64_t *unset[] = {&r.mem_limit,      &r.mem_swap,       &r.mem_reservation,
	                    &r.mem_swappiness, &r.cpu_shares,     &r.cpu_quota,
	                    &r.cpu_period,     &r.cpu_rt_runtime, &r.cpu_rt_period,
	                    &r.pids_limit,     &r.blkio_weight,   &r.blkio_leaf_weight};
	for (size_t i = 0; i < sizeof(unset) / sizeof(unset[0]); i++)
		*unset[i] = OCI_UNSET;
	struct oci_hugepage hp = {"2MB", 4194304};
	r.hugepages = &hp;
	r.n_hugepages = 1;
	struct err e = {0};
	assert_int_equal(oci_cgroup_apply(&cg, &r, &e), 0);
	snprintf(p, sizeof(p), "%s/hugetlb.2MB.max", dir);
	char *v = read_file(p, NULL);
	assert_non_null(v);
	assert_string_equal(v, "4194304\n");
	free(v);
	hp.size = "3MB";
	assert_int_equal(oci_cgroup_apply(&cg, &r, &e), -1);
	assert_non_null(strstr(e.msg, "pageSize"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bpf_program_shape),
	    cmocka_unit_test(test_bpf_device_filter_enforced),
	    cmocka_unit_test(test_hugetlb_in_unified),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
