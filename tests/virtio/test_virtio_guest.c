/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-blk and virtio-rng driven by the CPL3 test guest under capsa vm run:
 * data read from a host file, data written to it, flush, get-id, errors for
 * bad requests, NEEDS_RESET for a hostile chain and recovery after reset. */
#include "vm/vmtest.h"

#define DISK_SIZE (4u << 20)

static uint8_t pattern(size_t o)
{
	uint32_t x = (uint32_t)o * 2654435761u;
	return (uint8_t)(x >> 13 ^ x >> 24);
}

static void rmdir_all(char *dir)
{
	char *argv[] = {"/bin/rm", "-rf", dir, NULL};
	struct run_result r;
	run_cmd(&r, argv, 30);
	run_result_free(&r);
	free(dir);
}

static char *make_disk(char *dir)
{
	static char path[4200];
	snprintf(path, sizeof(path), "%s/disk.raw", dir);
	uint8_t *d = malloc(DISK_SIZE);
	for (size_t i = 0; i < DISK_SIZE; i++)
		d[i] = pattern(i);
	assert_int_equal(write_file(path, d, DISK_SIZE), 0);
	free(d);
	return path;
}

static void blk_guest(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char *dir = test_tmpdir();
	char *disk = make_disk(dir);
	char spec[4400];
	snprintf(spec, sizeof(spec), "path=%s,id=capsa-disk-7", disk);
	struct run_result r;
	vm_run_args(&r, 60, "--kernel", guest_path("testguest.elf"), "--cmdline", "test=virtio-blk",
	            "--disk", spec, "--console", "stdio", NULL);
	printf("%s", r.out);
	assert_int_equal(r.status, 0);
	char v[256], want[256];
	assert_int_equal(line_value(r.out, "blk", v, sizeof(v)), 0);
	assert_string_equal(v, "capacity=8192");
	/* sectors 8..15 as the host wrote them */
	uint32_t sum = 0;
	for (size_t i = 8 * 512; i < 16 * 512; i++)
		sum += pattern(i);
	snprintf(want, sizeof(want), "blk: read status=0 sum=0x%x\n", sum);
	assert_non_null(strstr(r.out, want));
	assert_non_null(strstr(r.out, "blk: id status=0 id=capsa-disk-7\n"));
	assert_non_null(strstr(r.out, "blk: beyond end status=1\n"));
	assert_non_null(strstr(r.out, "blk: unknown type status=2\n"));
	assert_non_null(strstr(r.out, "blk: indirect status=0 len=4097 same=1\n"));
	assert_non_null(strstr(r.out, "blk: hostile chain status=0x4f\n"));
	assert_non_null(strstr(r.out, "blk: failures=0\n"));
	/* the guest's write reached the file, and nothing else changed */
	size_t len;
	uint8_t *d = (uint8_t *)read_file(disk, &len);
	assert_int_equal(len, DISK_SIZE);
	size_t bad = 0;
	for (size_t i = 0; i < DISK_SIZE; i++) {
		uint8_t exp = (i >= 16 * 512 && i < 24 * 512) ? (uint8_t)((i - 16 * 512) * 7 + 3)
		                                              : pattern(i);
		bad += d[i] != exp;
	}
	assert_int_equal(bad, 0);
	free(d);
	run_result_free(&r);
	rmdir_all(dir);
}

/* Many requests in flight (io_uring by default, then aio=sync and cache=none):
 * every block lands in the right buffer, checked by a hash of the whole disk. */
static void blk_queue_depth(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char *dir = test_tmpdir();
	char *disk = make_disk(dir);
	uint32_t hash = 2166136261u;
	for (size_t i = 0; i < DISK_SIZE; i++)
		hash = (hash ^ pattern(i)) * 16777619u;
	char want[128];
	snprintf(want, sizeof(want), "depth: blocks=%u depth=21 hash=0x%x\n", DISK_SIZE / 4096,
	         hash);
	const char *opts[] = {"", ",aio=sync", ",cache=none"};
	for (unsigned i = 0; i < 3; i++) {
		char spec[4400];
		snprintf(spec, sizeof(spec), "path=%s%s", disk, opts[i]);
		struct run_result r;
		double t0 = now_secs();
		vm_run_args(&r, 60, "--kernel", guest_path("testguest.elf"), "--cmdline",
		            "test=virtio-blk-depth depth=21", "--disk", spec, "--console", "stdio",
		            NULL);
		if (r.status != 0 || !strstr(r.out, want))
			printf("# %s%s\n", r.out, r.err);
		assert_int_equal(r.status, 0);
		assert_non_null(strstr(r.out, want));
		test_measured("depth 21 read of 4 MiB, %s: %.2f s",
		              opts[i][0] ? opts[i] + 1 : "io_uring", now_secs() - t0);
		run_result_free(&r);
	}
	rmdir_all(dir);
}

static void blk_readonly(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char *dir = test_tmpdir();
	char *disk = make_disk(dir);
	char spec[4400];
	snprintf(spec, sizeof(spec), "path=%s,readonly", disk);
	struct run_result r;
	vm_run_args(&r, 60, "--kernel", guest_path("testguest.elf"), "--cmdline", "test=virtio-blk",
	            "--disk", spec, NULL);
	/* the write fails with IOERR, so the guest reports failures */
	assert_non_null(strstr(r.out, "blk: write status=1\n"));
	assert_int_equal(r.status, 1);
	size_t len;
	uint8_t *d = (uint8_t *)read_file(disk, &len);
	size_t bad = 0;
	for (size_t i = 0; i < len; i++)
		bad += d[i] != pattern(i);
	assert_int_equal(bad, 0);
	free(d);
	run_result_free(&r);
	rmdir_all(dir);
}

static void blk_rate_limit(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char *dir = test_tmpdir();
	char *disk = make_disk(dir);
	char spec[4400];
	/* 300 reads at 200/s with a burst of 10: at least (300 - 10) / 200 = 1.45 s */
	snprintf(spec, sizeof(spec), "path=%s,iops=200,iops_burst=10", disk);
	struct run_result r;
	vm_run_args(&r, 60, "--kernel", guest_path("testguest.elf"), "--cmdline",
	            "test=virtio-blk-bench ops=300 mib=1", "--disk", spec, NULL);
	assert_int_equal(r.status, 0);
	double limited = r.secs;
	run_result_free(&r);
	snprintf(spec, sizeof(spec), "path=%s", disk);
	vm_run_args(&r, 60, "--kernel", guest_path("testguest.elf"), "--cmdline",
	            "test=virtio-blk-bench ops=300 mib=1", "--disk", spec, NULL);
	assert_int_equal(r.status, 0);
	test_measured("300 random reads: %.2f s at iops=200 (burst 10), %.2f s unlimited", limited,
	              r.secs);
	assert_true(limited >= 1.4);
	assert_true(r.secs < limited);
	run_result_free(&r);
	/* 6 MiB of sequential reads at 2 MiB/s with a 1 MiB burst: at least 2.5 s */
	snprintf(spec, sizeof(spec), "path=%s,bps=2M,bps_burst=1M", disk);
	vm_run_args(&r, 60, "--kernel", guest_path("testguest.elf"), "--cmdline",
	            "test=virtio-blk-bench ops=1 mib=6", "--disk", spec, NULL);
	assert_int_equal(r.status, 0);
	test_measured("6 MiB sequential read at bps=2M: %.2f s", r.secs);
	assert_true(r.secs >= 2.4);
	run_result_free(&r);
	/* bad limit values are bad input */
	snprintf(spec, sizeof(spec), "path=%s,iops=lots", disk);
	vm_run_args(&r, 60, "--kernel", guest_path("testguest.elf"), "--disk", spec, NULL);
	assert_int_equal(r.status, 2);
	run_result_free(&r);
	rmdir_all(dir);
}

static void rng_guest(void **state)
{
	(void)state;
	REQUIRE_KVM();
	struct run_result r;
	vm_run_args(&r, 60, "--kernel", guest_path("testguest.elf"), "--cmdline", "test=virtio-rng",
	            "--rng", NULL);
	assert_non_null(strstr(r.out, "rng: got=64,64 nonzero=1 differ=1\n"));
	assert_int_equal(r.status, 0);
	run_result_free(&r);
}

static void balloon_guest(void **state)
{
	(void)state;
	REQUIRE_KVM();
	struct run_result r;
	/* 400 KiB = 100 pages: the guest inflates them and finds them zeroed
	 * (freed on the host), while its other pages keep their contents */
	vm_run_args(&r, 60, "--kernel", guest_path("testguest.elf"), "--cmdline",
	            "test=virtio-balloon", "--balloon", "400K", "--rng", NULL);
	assert_non_null(strstr(r.out,
	                       "balloon: deflate_on_oom=1 target=100 inflated=100 zeroed=100 "
	                       "untouched=156\n"));
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	vm_run_args(&r, 60, "--kernel", guest_path("testguest.elf"), "--cmdline",
	            "test=virtio-balloon", "--balloon", "0", NULL);
	assert_non_null(strstr(r.out, "balloon: deflate_on_oom=1 target=0 inflated=0 zeroed=0 "
	                              "untouched=256\n"));
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	vm_run_args(&r, 60, "--kernel", guest_path("testguest.elf"), "--balloon", "lots", NULL);
	assert_int_equal(r.status, 2);
	run_result_free(&r);
}

static void disk_option_errors(void **state)
{
	(void)state;
	static const char *const bad[][2] = {
	    {"path=/nonexistent/disk.img", "/nonexistent/disk.img"},
	    {"format=vmdk,path=x", "format=vmdk"},
	    {"cache=maybe,path=x", "cache=maybe"},
	    {"aio=threads,path=x", "aio=threads"},
	    {"id=123456789012345678901,path=x", "id="},
	    {"readonly", "path=FILE is required"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct run_result r;
		vm_run_args(&r, 30, "--kernel", guest_path("testguest.elf"), "--disk", bad[i][0],
		            NULL);
		assert_int_equal(r.status, 2);
		assert_non_null(strstr(r.err, bad[i][1]));
		run_result_free(&r);
	}
}

static void qcow2_content_needs_format(void **state)
{
	(void)state;
	char *dir = test_tmpdir();
	char path[4200];
	snprintf(path, sizeof(path), "%s/fake.img", dir);
	char data[4096] = "QFI\xfb";
	assert_int_equal(write_file(path, data, sizeof(data)), 0);
	struct run_result r;
	vm_run_args(&r, 30, "--kernel", guest_path("testguest.elf"), "--disk", path, NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "looks like qcow2"));
	run_result_free(&r);
	rmdir_all(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(blk_guest),          cmocka_unit_test(blk_queue_depth),
	    cmocka_unit_test(blk_readonly),       cmocka_unit_test(blk_rate_limit),
	    cmocka_unit_test(rng_guest),          cmocka_unit_test(balloon_guest),
	    cmocka_unit_test(disk_option_errors), cmocka_unit_test(qcow2_content_needs_format),
	};
	return RUN_VM_GROUPS("virtio guest", tests, NULL, NULL);
}
