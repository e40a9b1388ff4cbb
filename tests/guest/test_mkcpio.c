/* SPDX-License-Identifier: Apache-2.0 */
/* mkcpio (guest/initramfs/mkcpio.c): archives checked with the system cpio as the
 * reference reader, format details checked byte by byte, bad specs refused. */
#include "common/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char mkcpio[4096];

static int have(const char *path)
{
	return access(path, X_OK) == 0;
}

static int setup(void **state)
{
	(void)state;
	snprintf(mkcpio, sizeof(mkcpio), "%s/build/tools/mkcpio", test_root());
	return 0;
}

/* Runs mkcpio -o OUT SPECFILE with `spec` as the spec file's content. */
static void run_mkcpio(struct run_result *r, const char *dir, const char *spec, const char *out)
{
	char specpath[4096];
	snprintf(specpath, sizeof(specpath), "%s/spec", dir);
	assert_int_equal(write_file(specpath, spec, strlen(spec)), 0);
	char *argv[] = {mkcpio, "-o", (char *)out, specpath, NULL};
	run_cmd(r, argv, 30);
}

static void sh(struct run_result *r, const char *cmd)
{
	char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
	run_cmd(r, argv, 30);
}

static void rmtree(const char *dir)
{
	char cmd[4200];
	struct run_result r;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	sh(&r, cmd);
	run_result_free(&r);
}

static void test_reference_reader(void **state)
{
	(void)state;
	if (!have("/usr/bin/cpio") && !have("/bin/cpio"))
		skip_because("no cpio on this host (apt-get install cpio)");
	char *dir = test_tmpdir();
	assert_non_null(dir);
	char src[4096], out[4096], spec[16384], cmd[16384];
	snprintf(src, sizeof(src), "%s/payload", dir);
	/* 1001 bytes: not a multiple of 4, so the padding after the data matters. */
	char data[1001];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7 + 3);
	assert_int_equal(write_file(src, data, sizeof(data)), 0);
	snprintf(out, sizeof(out), "%s/a.cpio", dir);
	snprintf(spec, sizeof(spec),
	         "# comment line\n\n"
	         "dir /dev 0755\n"
	         "nod /dev/console 0600 c 5 1\n"
	         "nod /dev/vda 0660 b 254 0   # trailing comment\n"
	         "dir /proc 0555\n"
	         "\tdir\t/sys\t0555\n"
	         "file /init %s 0755\n"
	         "slink /sbin/init /init 0777\n",
	         src);
	struct run_result r;
	run_mkcpio(&r, dir, spec, out);
	assert_int_equal(r.status, 0);
	run_result_free(&r);

	snprintf(cmd, sizeof(cmd), "cpio -it --quiet < '%s'", out);
	sh(&r, cmd);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "dev\ndev/console\ndev/vda\nproc\nsys\ninit\nsbin/init\n");
	run_result_free(&r);

	snprintf(cmd, sizeof(cmd), "cpio -itv --quiet < '%s'", out);
	sh(&r, cmd);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "crw-------"));
	assert_non_null(strstr(r.out, "5,   1"));
	assert_non_null(strstr(r.out, "brw-rw----"));
	assert_non_null(strstr(r.out, "254,   0"));
	assert_non_null(strstr(r.out, "dr-xr-xr-x"));
	assert_non_null(strstr(r.out, "-rwxr-xr-x   1 root     root         1001"));
	assert_non_null(strstr(r.out, "sbin/init -> /init"));
	run_result_free(&r);

	/* Extract (without device nodes, which need privileges) and compare. */
	snprintf(cmd, sizeof(cmd),
	         "mkdir '%s/x' && cd '%s/x' && cpio -id --quiet --no-absolute-filenames "
	         "--nonmatching 'dev/*' < '%s'",
	         dir, dir, out);
	sh(&r, cmd);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	char path[4200];
	snprintf(path, sizeof(path), "%s/x/init", dir);
	size_t len = 0;
	char *got = read_file(path, &len);
	assert_non_null(got);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(got, data, sizeof(data));
	free(got);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	snprintf(path, sizeof(path), "%s/x/sbin/init", dir);
	char target[64] = {0};
	assert_int_equal(readlink(path, target, sizeof(target) - 1), 5);
	assert_string_equal(target, "/init");
	rmtree(dir);
	free(dir);
}

static unsigned long hexfield(const char *h, int idx)
{
	char f[9];
	memcpy(f, h + 6 + 8 * idx, 8);
	f[8] = '\0';
	return strtoul(f, NULL, 16);
}

/* Walks the archive: magic, 4-byte alignment of names and data, trailer last. */
static void test_format_details(void **state)
{
	(void)state;
	char *dir = test_tmpdir();
	assert_non_null(dir);
	char out[4096], src[4096], spec[8192];
	snprintf(src, sizeof(src), "%s/f", dir);
	assert_int_equal(write_file(src, "abcde", 5), 0);
	snprintf(out, sizeof(out), "%s/a.cpio", dir);
	snprintf(spec, sizeof(spec), "dir /d 0700\nfile /d/ab %s 0644\nslink /l xyz 0777\n", src);
	struct run_result r;
	run_mkcpio(&r, dir, spec, out);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	size_t len = 0;
	char *a = read_file(out, &len);
	assert_non_null(a);
	assert_int_equal(len % 4, 0);
	const char *names[] = {"d", "d/ab", "l", "TRAILER!!!"};
	const unsigned long sizes[] = {0, 5, 3, 0};
	const unsigned long modes[] = {040700, 0100644, 0120777, 0};
	size_t off = 0;
	for (int i = 0; i < 4; i++) {
		assert_true(off + 110 <= len);
		assert_memory_equal(a + off, "070701", 6);
		unsigned long namesz = hexfield(a + off, 11), filesz = hexfield(a + off, 6);
		assert_int_equal(hexfield(a + off, 1), modes[i]);
		assert_int_equal(filesz, sizes[i]);
		assert_int_equal(namesz, strlen(names[i]) + 1);
		assert_string_equal(a + off + 110, names[i]);
		off = (off + 110 + namesz + 3) & ~3ul;
		if (i == 1)
			assert_memory_equal(a + off, "abcde", 5);
		if (i == 2)
			assert_memory_equal(a + off, "xyz", 3);
		for (size_t p = off + filesz; p < ((off + filesz + 3) & ~3ul); p++)
			assert_int_equal(a[p], 0);
		off = (off + filesz + 3) & ~3ul;
	}
	assert_int_equal(off, len);
	free(a);

	/* Reproducible: the same spec gives the same bytes. */
	char out2[4200];
	snprintf(out2, sizeof(out2), "%s/b.cpio", dir);
	run_mkcpio(&r, dir, spec, out2);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	size_t l1, l2;
	char *x = read_file(out, &l1), *y = read_file(out2, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(x, y, l1);
	free(x);
	free(y);
	rmtree(dir);
	free(dir);
}

static void test_empty_spec(void **state)
{
	(void)state;
	char *dir = test_tmpdir();
	assert_non_null(dir);
	char out[4096];
	snprintf(out, sizeof(out), "%s/a.cpio", dir);
	struct run_result r;
	run_mkcpio(&r, dir, "# nothing\n", out);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	size_t len;
	char *a = read_file(out, &len);
	assert_non_null(a);
	assert_int_equal(len, 124); /* 110 + "TRAILER!!!\0" (11) padded to 4 */
	assert_string_equal(a + 110, "TRAILER!!!");
	free(a);
	rmtree(dir);
	free(dir);
}

struct bad_case {
	const char *spec;
	const char *msg;
};

static void test_bad_specs(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
	    {"dir /a 0755\nfrob /x 0755\n", "spec:2: unknown entry type \"frob\""},
	    {"dir /a 0758\n", "spec:1: bad mode \"0758\""},
	    {"dir /a 17777\n", "spec:1: bad mode \"17777\""},
	    {"dir /a\n", "spec:1: expected \"dir PATH MODE\""},
	    {"dir /a 0755 extra\n", "spec:1: expected \"dir PATH MODE\""},
	    {"dir /a/../../etc 0755\n", "has a \"..\" component"},
	    {"dir / 0755\n", "spec:1: bad path \"/\""},
	    {"file /init /nonexistent/capsa-src 0755\n", "cannot read \"/nonexistent/capsa-src\""},
	    {"file /init /tmp 0755\n", "\"/tmp\" is not a regular file"},
	    {"file /init /dev/null 0755\n", "\"/dev/null\" is not a regular file"},
	    {"nod /dev/x 0600 x 1 2\n", "device type must be c or b"},
	    {"nod /dev/x 0600 c 99999999999 2\n", "bad major \"99999999999\""},
	    {"nod /dev/x 0600 c 1 -2\n", "bad minor \"-2\""},
	    {"slink /l 0777\n", "expected \"slink PATH TARGET MODE\""},
	    {"a b c d e f g h\n", "spec:1: too many fields"},
	};
	char *dir = test_tmpdir();
	assert_non_null(dir);
	char out[4096];
	snprintf(out, sizeof(out), "%s/a.cpio", dir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run_result r;
		run_mkcpio(&r, dir, cases[i].spec, out);
		if (r.status != 2 || !strstr(r.err, cases[i].msg))
			fail_msg("spec %zu: status %d, stderr \"%s\", want \"%s\"", i, r.status,
			         r.err, cases[i].msg);
		assert_int_equal(strncmp(r.err, "mkcpio: ", 8), 0);
		/* One line. */
		assert_ptr_equal(strchr(r.err, '\n'), r.err + strlen(r.err) - 1);
		run_result_free(&r);
		/* No partial archive is left behind. */
		assert_int_not_equal(access(out, F_OK), 0);
	}
	/* A FIFO as file source is refused at once, not waited on. */
	char fifo[4200], spec[8500];
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	snprintf(spec, sizeof(spec), "file /init %s 0755\n", fifo);
	struct run_result r;
	run_mkcpio(&r, dir, spec, out);
	assert_false(r.timed_out);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "is not a regular file"));
	run_result_free(&r);
	rmtree(dir);
	free(dir);
}

/* The demo initramfs images that mk/guests.mk builds. */
static void test_demo_initramfs(void **state)
{
	(void)state;
	if (!have("/usr/bin/cpio") && !have("/bin/cpio"))
		skip_because("no cpio on this host (apt-get install cpio)");
	const char *bits[] = {"32", "64"};
	for (int i = 0; i < 2; i++) {
		char cmd[8192];
		snprintf(cmd, sizeof(cmd), "cpio -itv --quiet < '%s/build/guest/initramfs-%s.cpio'",
		         test_root(), bits[i]);
		struct run_result r;
		sh(&r, cmd);
		assert_int_equal(r.status, 0);
		assert_non_null(strstr(r.out, " dev\n"));
		assert_non_null(strstr(r.out, " proc\n"));
		assert_non_null(strstr(r.out, " sys\n"));
		assert_non_null(strstr(r.out, " init\n"));
		const char *con = strstr(r.out, "crw-------");
		assert_non_null(con);
		assert_non_null(strstr(con, "5,   1"));
		assert_true(strstr(con, "dev/console") < strchr(con, '\n'));
		run_result_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reference_reader), cmocka_unit_test(test_format_details),
	    cmocka_unit_test(test_empty_spec),       cmocka_unit_test(test_bad_specs),
	    cmocka_unit_test(test_demo_initramfs),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
