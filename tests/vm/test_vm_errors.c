/* SPDX-License-Identifier: Apache-2.0 */
/* Bad input to `capsa vm run`: one clear line naming the value, exit status
 * 2, never a crash (the binary under test is built with ASan+UBSan). */
#include "vm/vmtest.h"

#include <elf.h>
#include <sys/stat.h>

/* status 2; stderr has exactly one line of ours (besides the host notice),
 * it starts with "capsa vm run: " and contains `needle`. */
static void expect_input_error(struct run_result *r, const char *needle)
{
	if (r->status != 2 || !strstr(r->err, needle) || getenv("VMTEST_VERBOSE"))
		printf("# note: want \"%s\" status %d, stderr: %s\n", needle, r->status, r->err);
	assert_int_equal(r->status, 2);
	assert_null(strstr(r->err, "Sanitizer"));
	assert_null(strstr(r->err, "runtime error"));
	int lines = 0;
	const char *last = NULL;
	for (const char *p = r->err; *p;) {
		const char *nl = strchr(p, '\n');
		/* host notices: paravirtual KVM, or no KVM (auto took emu) */
		if (strncmp(p, "capsa: paravirtual KVM host", 27) != 0 &&
		    strncmp(p, "capsa: using the software CPU", 29) != 0) {
			lines++;
			last = p;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	assert_int_equal(lines, 1);
	assert_true(!strncmp(last, "capsa vm run: ", 14));
	assert_non_null(strstr(last, needle));
	run_result_free(r);
}

#define EXPECT(needle, ...)                                                                        \
	do {                                                                                       \
		struct run_result r_;                                                              \
		vm_run_args(&r_, 30, __VA_ARGS__, NULL);                                           \
		expect_input_error(&r_, needle);                                                   \
	} while (0)

static void usage_errors(void **state)
{
	(void)state;
	EXPECT("--kernel PATH is required", "--cpus", "2");
	EXPECT("'--bogus'", "--bogus", "--kernel", "x");
	EXPECT("needs a value", "--kernel");
	EXPECT("unexpected argument 'extra'", "--kernel", "x", "extra");
}

static void bad_sizes_and_counts(void **state)
{
	(void)state;
	const char *k = guest_path("testguest.elf");
	EXPECT("--memory '12Q'", "--kernel", k, "--memory", "12Q");
	EXPECT("--memory 'abc'", "--kernel", k, "--memory", "abc");
	EXPECT("--memory '-5M'", "--kernel", k, "--memory", "-5M");
	EXPECT("--memory 1048576 bytes", "--kernel", k, "--memory", "1M");
	EXPECT("--memory", "--kernel", k, "--memory", "4T");
	EXPECT("not a multiple of 4 KiB", "--kernel", k, "--memory", "16777217");
	EXPECT("--cpus 0", "--kernel", k, "--cpus", "0");
	EXPECT("--cpus 300", "--kernel", k, "--cpus", "300");
	EXPECT("--cpus 'two'", "--kernel", k, "--cpus", "two");
	EXPECT("unknown feature 'bogus'", "--kernel", k, "--cpu-features", "-cx16,-bogus");
	EXPECT("'avx' must be +NAME or -NAME", "--kernel", k, "--cpu-features", "avx");
	EXPECT("--console 'tty'", "--kernel", k, "--console", "tty");
	EXPECT("/nonexistent-dir/x.log", "--kernel", k, "--console", "file:/nonexistent-dir/x.log");
}

static void bad_kernel_files(void **state)
{
	(void)state;
	REQUIRE_KVM();
	EXPECT("kernel /nonexistent/vmlinux", "--kernel", "/nonexistent/vmlinux");
	assert_int_equal(write_file(tmp("empty"), "", 0), 0);
	EXPECT("empty file", "--kernel", tmp("empty"));
	EXPECT("not a regular file", "--kernel", vm_tmp_dir);
	const char junk[] = "this is not a kernel image, it is a text file\n";
	assert_int_equal(write_file(tmp("junk"), junk, sizeof(junk)), 0);
	EXPECT("not a kernel image", "--kernel", tmp("junk"));

	size_t len;
	char *elf = read_file(guest_path("testguest.elf"), &len);
	assert_non_null(elf);
	assert_int_equal(write_file(tmp("trunc-hdr.elf"), elf, 40), 0);
	EXPECT("truncated", "--kernel", tmp("trunc-hdr.elf"));
	/* cut inside the first loadable segment (the file's tail is only symbols) */
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	memcpy(&eh, elf, sizeof(eh));
	memcpy(&ph, elf + eh.e_phoff, sizeof(ph));
	assert_int_equal(ph.p_type, PT_LOAD);
	assert_true(ph.p_offset + ph.p_filesz <= len);
	assert_int_equal(write_file(tmp("trunc-half.elf"), elf, ph.p_offset + ph.p_filesz / 2), 0);
	EXPECT("truncated", "--kernel", tmp("trunc-half.elf"));
	free(elf);

	char *bz = read_file(guest_path("testguest.bzImage"), &len);
	assert_non_null(bz);
	assert_int_equal(write_file(tmp("trunc-setup.bz"), bz, 0x400), 0);
	EXPECT("truncated", "--kernel", tmp("trunc-setup.bz"));
	assert_int_equal(write_file(tmp("trunc-half.bz"), bz, len - 4096), 0);
	EXPECT("truncated", "--kernel", tmp("trunc-half.bz"));
	free(bz);

	/* a kernel that needs more memory than the VM has */
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph;
		uint8_t code[16];
	} big;
	memset(&big, 0, sizeof(big));
	memcpy(big.eh.e_ident, ELFMAG, SELFMAG);
	big.eh.e_ident[EI_CLASS] = ELFCLASS64;
	big.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	big.eh.e_type = ET_EXEC;
	big.eh.e_machine = EM_X86_64;
	big.eh.e_entry = 0x100000;
	big.eh.e_phoff = sizeof(big.eh);
	big.eh.e_phentsize = sizeof(Elf64_Phdr);
	big.eh.e_phnum = 1;
	big.ph.p_type = PT_LOAD;
	big.ph.p_offset = offsetof(__typeof__(big), code);
	big.ph.p_paddr = 0x100000;
	big.ph.p_filesz = sizeof(big.code);
	big.ph.p_memsz = 64 << 20;
	assert_int_equal(write_file(tmp("big.elf"), &big, sizeof(big)), 0);
	EXPECT("use a larger --memory", "--kernel", tmp("big.elf"), "--memory", "32M");

	/* an initrd that does not fit */
	EXPECT("initrd /nonexistent/initrd", "--kernel", guest_path("testguest.elf"), "--initrd",
	       "/nonexistent/initrd");
	int fd = open(tmp("huge.initrd"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 40 << 20), 0);
	close(fd);
	EXPECT("do not fit", "--kernel", guest_path("testguest.elf"), "--initrd",
	       tmp("huge.initrd"), "--memory", "32M");

	/* command line longer than the kernel accepts */
	char *longcl = malloc(5000);
	memset(longcl, 'a', 4999);
	longcl[4999] = '\0';
	EXPECT("bytes, the kernel accepts at most", "--kernel", guest_path("testguest.bzImage"),
	       "--cmdline", longcl);
	free(longcl);
}

/* Runs `capsa vm run ARGS` in a mount namespace where /dev/kvm is
 * /dev/null: a host whose KVM cannot be used. */
static void run_without_kvm(struct run_result *r, const char *const *args)
{
	char *argv[24] = {"/usr/bin/unshare",
	                  "-m",
	                  "sh",
	                  "-c",
	                  "mount --bind /dev/null /dev/kvm 2>/dev/null || "
	                  "mount -t tmpfs none /dev/kvm 2>/dev/null || true; exec \"$@\"",
	                  "sh",
	                  (char *)test_capsa_bin(),
	                  "vm",
	                  "run"};
	int n = 9;
	for (; *args && n < 23; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	run_cmd(r, argv, 60);
}

static int can_unshare_mounts(void)
{
	return geteuid() == 0 && system("unshare -m true 2>/dev/null") == 0;
}

static void accel_choice(void **state)
{
	(void)state;
	EXPECT("--accel 'bogus': use kvm, emu or auto", "--accel", "bogus", "--kernel", "x");
	setenv("CAPSA_ACCEL", "fast", 1);
	struct run_result r;
	vm_run_args(&r, 30, "--kernel", "x", NULL);
	unsetenv("CAPSA_ACCEL");
	expect_input_error(&r, "CAPSA_ACCEL: --accel 'fast'");
	/* Options are checked before an accelerator is opened: same message
	 * whichever accelerator would run. */
	EXPECT("--cpus 0", "--accel", "emu", "--kernel", guest_path("testguest.elf"), "--cpus",
	       "0");
	EXPECT("/nonexistent/disk", "--accel", "kvm", "--kernel", guest_path("testguest.elf"),
	       "--disk", "path=/nonexistent/disk");
	if (!can_unshare_mounts())
		skip_because("needs root and mount namespaces to hide /dev/kvm");
	const char *const kvm_args[] = {"--accel", "kvm", "--kernel", guest_path("testguest.elf"),
	                                NULL};
	run_without_kvm(&r, kvm_args);
	expect_input_error(&r, "--accel kvm: ");
	const char *const bad_disk[] = {"--kernel", guest_path("testguest.elf"), "--disk",
	                                "path=/nonexistent/disk", NULL};
	run_without_kvm(&r, bad_disk);
	expect_input_error(&r, "/nonexistent/disk");
}

/* A host whose /dev/kvm cannot be used: auto takes the software CPU, says
 * so in one line (or an event), and the guest runs. */
static void auto_without_kvm_uses_software_cpu(void **state)
{
	(void)state;
	if (!can_unshare_mounts())
		skip_because("needs root and mount namespaces to hide /dev/kvm");
	const char *const args[] = {"--kernel", guest_path("testguest.elf"), "--cmdline",
	                            "test=exit code=5", NULL};
	struct run_result r;
	run_without_kvm(&r, args);
	assert_int_equal(r.status, 5);
	assert_non_null(strstr(r.err, "capsa: using the software CPU (--accel emu): "));
	assert_non_null(strstr(r.err, "/dev/kvm"));
	assert_non_null(strstr(r.out, "capsa test guest: exit 5"));
	run_result_free(&r);
	const char *const json[] = {"--kernel",      guest_path("testguest.elf"),
	                            "--cmdline",     "test=exit code=0",
	                            "--json-events", NULL};
	run_without_kvm(&r, json);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "{\"event\":\"accel\",\"accel\":\"emu\""));
	assert_non_null(strstr(r.err, "\"accel\":\"emu\",\"cpus\":1"));
	assert_non_null(strstr(r.err, "\"instructions\":"));
	run_result_free(&r);
}

static void help_documents_every_option(void **state)
{
	(void)state;
	char *argv[] = {(char *)test_capsa_bin(), "vm", "run", "--help", NULL};
	struct run_result r;
	run_cmd(&r, argv, 10);
	assert_int_equal(r.status, 0);
	const char *opts[] = {"--kernel", "--initrd",  "--cmdline",      "--cpus",
	                      "--memory", "--console", "--cpu-features", "--json-events",
	                      "0x501",    "cx16",      "--accel",        "CAPSA_ACCEL"};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		assert_non_null(strstr(r.out, opts[i]));
	run_result_free(&r);
	char *argv2[] = {(char *)test_capsa_bin(), "vm", "--help", NULL};
	run_cmd(&r, argv2, 10);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "run"));
	run_result_free(&r);
	char *argv3[] = {(char *)test_capsa_bin(), "--help", NULL};
	run_cmd(&r, argv3, 10);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "vm run"));
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(usage_errors),
	    cmocka_unit_test(bad_sizes_and_counts),
	    cmocka_unit_test(bad_kernel_files),
	    cmocka_unit_test(help_documents_every_option),
	    cmocka_unit_test(accel_choice),
	    cmocka_unit_test(auto_without_kvm_uses_software_cpu),
	};
	return cmocka_run_group_tests_name("vm bad input", tests, vm_tmp_setup, vm_tmp_teardown);
}
