/* SPDX-License-Identifier: Apache-2.0 */
/* Bad --vsock values: one line naming the value, exit status 2. */
#include "vm/vmtest.h"

static void expect_input_error(struct run_result *r, const char *needle)
{
	if (r->status != 2 || !strstr(r->err, needle))
		printf("# note: want \"%s\" status 2, got %d, stderr: %s\n", needle, r->status,
		       r->err);
	assert_int_equal(r->status, 2);
	assert_null(strstr(r->err, "Sanitizer"));
	assert_null(strstr(r->err, "runtime error"));
	const char *line = strstr(r->err, "capsa vm run: ");
	assert_non_null(line);
	assert_non_null(strstr(line, needle));
	const char *nl = strchr(line, '\n');
	assert_true(!nl || !nl[1]); /* our line is the last and only one */
	run_result_free(r);
}

#define EXPECT(needle, ...)                                                                        \
	do {                                                                                       \
		struct run_result r_;                                                              \
		vm_run_args(&r_, 30, "--kernel", guest_path("testguest.elf"), __VA_ARGS__, NULL);  \
		expect_input_error(&r_, needle);                                                   \
	} while (0)

static void bad_vsock_options(void **state)
{
	(void)state;
	EXPECT("vsock cid 2 out of range", "--vsock", "cid=2,uds=/tmp/x.sock");
	EXPECT("vsock cid 0 out of range", "--vsock", "cid=0,uds=/tmp/x.sock");
	EXPECT("vsock cid 4294967295 out of range", "--vsock", "cid=4294967295,uds=/tmp/x.sock");
	EXPECT("vsock cid 99999999999 out of range", "--vsock", "cid=99999999999,uds=/tmp/x");
	EXPECT("--vsock cid 'abc'", "--vsock", "cid=abc,uds=/tmp/x.sock");
	EXPECT("cid=N and uds=PATH are both required", "--vsock", "cid=3");
	EXPECT("cid=N and uds=PATH are both required", "--vsock", "uds=/tmp/x.sock");
	EXPECT("bad option 'port=5'", "--vsock", "cid=3,uds=/tmp/x.sock,port=5");
	EXPECT("longer than", "--vsock",
	       "cid=3,uds=/tmp/"
	       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	EXPECT("only one vsock device", "--vsock", "cid=3,uds=/tmp/a", "--vsock",
	       "cid=4,uds=/tmp/b");
}

static void bad_vsock_paths(void **state)
{
	(void)state;
	if (access("/dev/kvm", R_OK | W_OK))
		skip_because("host has no usable /dev/kvm");
	char *dir = test_tmpdir();
	char path[4200];
	/* an existing file is never replaced */
	snprintf(path, sizeof(path), "cid=3,uds=%s", dir);
	EXPECT("already exists", "--vsock", path);
	EXPECT("cannot bind", "--vsock", "cid=3,uds=/nonexistent-dir/v.sock");
	rmdir(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bad_vsock_options),
	    cmocka_unit_test(bad_vsock_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
