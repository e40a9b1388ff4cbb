/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The demo init (guest/init) in the demo initramfs, booted with capsa's guest kernel
 * (guest/kernel/build.sh, cached) under QEMU microvm as the reference VMM: init must
 * print "capsa demo: Linux is up on N vCPUs" with N the number of vCPUs given.
 */
#include "common/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QEMU "/usr/bin/qemu-system-x86_64"
#define KERNEL_ARGS                                                                                \
	"console=ttyS0 panic=-1 noxsave clearcpuid=smap,smep,popcnt rcupdate.rcu_expedited=1 "     \
	"reboot=k vdso32=0"

static void need_qemu(void)
{
	if (access(QEMU, X_OK))
		skip_because("no %s (apt-get install qemu-system-x86)", QEMU);
	if (access("/dev/kvm", R_OK | W_OK))
		skip_because("/dev/kvm is not usable on this host");
}

/* Directory of the guest kernel (built or taken from the cache by build.sh). */
static char *kernel_dir(void)
{
	char script[4096];
	snprintf(script, sizeof(script), "%s/guest/kernel/build.sh", test_root());
	char *argv[] = {script, NULL};
	struct run_result r;
	run_cmd(&r, argv, 1800);
	if (r.status)
		fail_msg("guest/kernel/build.sh failed (%d): %s", r.status, r.err);
	char *out = r.out, *last = out;
	for (char *p = out; *p; p++)
		if (*p == '\n' && p[1])
			last = p + 1;
	char *nl = strchr(last, '\n');
	if (nl)
		*nl = '\0';
	char *dir = strdup(last);
	run_result_free(&r);
	return dir;
}

/* Boots the initramfs with `cpus` vCPUs until init's line appears (or timeout). */
static void boot(const char *kdir, const char *initramfs, int cpus, struct run_result *r)
{
	char *tmp = test_tmpdir();
	assert_non_null(tmp);
	char script[8192];
	snprintf(script, sizeof(script),
	         "log='%s/console.log'; : > \"$log\"\n"
	         "%s -M microvm -enable-kvm -cpu qemu64,-cx16,+xsaveerptr -m 256 -smp %d "
	         "-kernel '%s/vmlinux' -initrd '%s' -display none -nodefaults -no-user-config "
	         "-serial file:\"$log\" -no-reboot -append '%s' & pid=$!\n"
	         "for i in $(seq 1 600); do\n"
	         "  grep -q 'capsa demo:' \"$log\" && break\n"
	         "  kill -0 $pid 2>/dev/null || break\n"
	         "  sleep 0.5\n"
	         "done\n"
	         "kill $pid 2>/dev/null; wait $pid 2>/dev/null\n"
	         "cat \"$log\"; rm -rf '%s'\n",
	         tmp, QEMU, cpus, kdir, initramfs, KERNEL_ARGS, tmp);
	char *argv[] = {"/bin/sh", "-c", script, NULL};
	run_cmd(r, argv, 400);
	free(tmp);
}

/* The console line must be exactly `want` (the kernel's console ends lines with \r\n). */
static void check_line(const struct run_result *r, const char *want)
{
	const char *p = strstr(r->out, want);
	if (p && (p == r->out || p[-1] == '\n') &&
	    (p[strlen(want)] == '\r' || p[strlen(want)] == '\n'))
		return;
	size_t len = strlen(r->out);
	fail_msg("no line \"%s\"; end of the console:\n%s", want,
	         r->out + (len > 700 ? len - 700 : 0));
}

static void test_init32_reports_cpus(void **state)
{
	(void)state;
	need_qemu();
	char *kdir = kernel_dir();
	char initramfs[4096];
	snprintf(initramfs, sizeof(initramfs), "%s/build/guest/initramfs-32.cpio", test_root());
	struct run_result r;
	boot(kdir, initramfs, 2, &r);
	check_line(&r, "capsa demo: Linux is up on 2 vCPUs");
	assert_non_null(strstr(r.out, "Run /init as init process"));
	test_measured("QEMU microvm, 2 vCPUs: Linux + 32-bit init up in %.1f s", r.secs);
	run_result_free(&r);
	free(kdir);
}

static void test_init64_reports_cpus(void **state)
{
	(void)state;
	need_qemu();
	if (!access("/sys/module/kvm_pvm", F_OK))
		skip_because("paravirtual KVM (kvm_pvm): 64-bit guest user space cannot make "
		             "system calls on this host");
	char *kdir = kernel_dir();
	char initramfs[4096];
	snprintf(initramfs, sizeof(initramfs), "%s/build/guest/initramfs-64.cpio", test_root());
	struct run_result r;
	boot(kdir, initramfs, 2, &r);
	check_line(&r, "capsa demo: Linux is up on 2 vCPUs");
	run_result_free(&r);
	free(kdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init32_reports_cpus),
	    cmocka_unit_test(test_init64_reports_cpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
