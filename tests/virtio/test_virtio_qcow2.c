/* SPDX-License-Identifier: Apache-2.0 */
/* qcow2 under a running VM: a qemu-img base, a `capsa disk create` overlay,
 * guest writes, then qemu-img check/convert/compare; and a capsa killed with
 * SIGKILL in the middle of writing leaves an image qemu-img accepts that has
 * every write the guest saw flushed. Also the `capsa disk` command line. */
#include "vm/vmtest.h"

#include "../disk/qtest.h"

static void guest_on_overlay(void **state)
{
	(void)state;
	REQUIRE_KVM();
	REQUIRE_QEMU_IMG();
	char *dir = test_tmpdir();
	char *raw = tpath(dir, "base.raw"), *base = tpath(dir, "base.qcow2");
	char *ov = tpath(dir, "overlay.qcow2");
	size_t size = 4u << 20;
	uint8_t *b = malloc(size);
	for (size_t i = 0; i < size; i++)
		b[i] = pat(i);
	assert_int_equal(write_file(raw, b, size), 0);
	assert_int_equal(RUN(QEMU_IMG, "convert", "-f", "raw", "-O", "qcow2", raw, base), 0);
	struct run_result r;
	capsa_run(&r, 30, "disk", "create", "--backing", base, ov, NULL);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	char spec[4400];
	snprintf(spec, sizeof(spec), "path=%s,format=qcow2", ov);
	vm_run_args(&r, 60, "--kernel", guest_path("testguest.elf"), "--cmdline", "test=virtio-blk",
	            "--disk", spec, NULL);
	assert_non_null(strstr(r.out, "blk: failures=0\n"));
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	/* qemu-img: clean, and the overlay reads as base + the guest's write */
	assert_int_equal(RUN(QEMU_IMG, "check", ov), 0);
	char *out = tpath(dir, "out.raw");
	assert_int_equal(RUN(QEMU_IMG, "convert", "-O", "raw", ov, out), 0);
	for (size_t i = 0; i < 4096; i++)
		b[16 * 512 + i] = (uint8_t)(i * 7 + 3);
	size_t len;
	uint8_t *c = (uint8_t *)read_file(out, &len);
	assert_int_equal(len, size);
	assert_memory_equal(c, b, size);
	free(c);
	/* the base image is unchanged */
	assert_int_equal(RUN(QEMU_IMG, "compare", "-q", "-f", "raw", "-F", "qcow2", raw, base), 0);
	free(b);
	rmtree(dir);
}

static void sigkill_mid_write(void **state)
{
	(void)state;
	REQUIRE_KVM();
	REQUIRE_QEMU_IMG();
	char *dir = test_tmpdir();
	char *base = tpath(dir, "base.raw"), *ov = tpath(dir, "crash.qcow2");
	assert_int_equal(RUN(QEMU_IMG, "create", "-q", "-f", "raw", base, "64M"), 0);
	struct run_result r;
	capsa_run(&r, 30, "disk", "create", "--backing", base, ov, NULL);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	char spec[4400];
	snprintf(spec, sizeof(spec), "path=%s,format=qcow2", ov);
	/* run_cmd sends SIGKILL at the timeout; 16384 flushed writes usually take
	 * longer than 4 s, but a fast host (or the software CPU on a quiet one)
	 * can finish them: then the image is made anew and the kill comes sooner. */
	static const double kill_after[] = {4.0, 1.5, 0.8};
	for (size_t t = 0; t < sizeof(kill_after) / sizeof(kill_after[0]); t++) {
		if (t) {
			run_result_free(&r);
			assert_int_equal(unlink(ov), 0);
			capsa_run(&r, 30, "disk", "create", "--backing", base, ov, NULL);
			assert_int_equal(r.status, 0);
			run_result_free(&r);
		}
		vm_run_args(&r, kill_after[t], "--kernel", guest_path("testguest.elf"), "--cmdline",
		            "test=virtio-blk-writer", "--disk", spec, NULL);
		if (r.timed_out)
			break;
	}
	assert_true(r.timed_out);
	long last = -1;
	for (char *p = r.out; (p = strstr(p, "writer: flushed ")); p++)
		last = strtol(p + 16, NULL, 10);
	run_result_free(&r);
	test_measured("flushed writes before SIGKILL: %ld", last + 1);
	assert_true(last >= 0);
	/* no corruption (3 = leaked clusters only, which a crash may leave) */
	struct run_result ck;
	char *const ca[] = {QEMU_IMG, "check", ov, NULL};
	run_argv(ca, &ck);
	assert_true(ck.status == 0 || ck.status == 3);
	assert_null(strstr(ck.out, "ERROR"));
	run_result_free(&ck);
	char *out = tpath(dir, "out.raw");
	assert_int_equal(RUN(QEMU_IMG, "convert", "-O", "raw", ov, out), 0);
	size_t len;
	uint8_t *c = (uint8_t *)read_file(out, &len);
	assert_int_equal(len, 64u << 20);
	for (long j = 0; j < 16384; j++) {
		const uint64_t *w = (const uint64_t *)(c + 4096 * j);
		int marker = 1, zero = 1;
		for (int k = 0; k < 512; k++) {
			marker &= w[k] == (uint64_t)j + 1;
			zero &= w[k] == 0;
		}
		if (j <= last && !marker)
			fail_msg("flushed write %ld lost", j);
		if (j > last && !marker && !zero)
			fail_msg("block %ld is neither old nor new", j);
	}
	free(c);
	rmtree(dir);
}

static void disk_cli(void **state)
{
	(void)state;
	char *dir = test_tmpdir();
	char *img = tpath(dir, "a.qcow2");
	struct run_result r;
	capsa_run(&r, 30, "disk", "create", "--size", "256M", img, NULL);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	capsa_run(&r, 30, "disk", "info", "--json", img, NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"virtual_size\":268435456"));
	assert_non_null(strstr(r.out, "\"cluster_size\":65536"));
	run_result_free(&r);
	capsa_run(&r, 30, "disk", "info", img, NULL);
	assert_non_null(strstr(r.out, "virtual size:       268435456 bytes"));
	run_result_free(&r);
	/* bad input: one line, exit 2 */
	static const char *const bad[][5] = {
	    {"disk", "create", "x.qcow2", NULL, "--size is required"},
	    {"disk", "create", "--size", "12Q", "--size"},
	    {"disk", "frobnicate", NULL, NULL, "unknown disk command"},
	    {"disk", "info", "/nonexistent.qcow2", NULL, "/nonexistent.qcow2"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		capsa_run(&r, 30, bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL);
		assert_int_equal(r.status, 2);
		assert_non_null(strstr(r.err, bad[i][4]));
		run_result_free(&r);
	}
	/* existing file is not overwritten */
	capsa_run(&r, 30, "disk", "create", "--size", "1M", img, NULL);
	assert_int_equal(r.status, 2);
	run_result_free(&r);
	/* info on something that is not qcow2 */
	char *junk = tpath(dir, "junk");
	assert_int_equal(write_file(junk,
	                            "hello, this is not an image at all, no magic here......"
	                            "................",
	                            72),
	                 0);
	capsa_run(&r, 30, "disk", "info", junk, NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "not a qcow2 image"));
	run_result_free(&r);
	capsa_run(&r, 30, "disk", "--help", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "capsa disk create"));
	run_result_free(&r);
	rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(guest_on_overlay),
	    cmocka_unit_test(sigkill_mid_write),
	    cmocka_unit_test(disk_cli),
	};
	return RUN_VM_GROUPS("virtio qcow2", tests, NULL, NULL);
}
