/* SPDX-License-Identifier: Apache-2.0 */
/* Slow: Linux with real user space. The root file system is an ext4
 * virtio-blk disk holding Debian's busybox-static (glibc, SSE2) as /bin/sh
 * and a shell script, which the kernel runs as init. The script reads
 * /proc, writes a file with what it found, syncs and powers the machine
 * off; afterwards the host reads the file out of the image. Paravirtual
 * KVM cannot deliver system calls from 64-bit guest user space, so there
 * the test runs under the software CPU only. */
#include "vm/vmtest.h"

#include "../disk/qtest.h"

#include <sys/stat.h>

#define BUSYBOX "/bin/busybox"

static const char script[] =
    "#!/bin/sh\n"
    "mount -t proc proc /proc\n"
    "n=$(grep -c ^processor /proc/cpuinfo)\n"
    "sum=0; i=0\n"
    "while [ $i -lt 1000 ]; do sum=$((sum + i * i)); i=$((i + 1)); done\n"
    "echo \"busybox sh on $n cpus: sum=$sum $(echo capsa | md5sum | cut -c1-8)\" >/written.txt\n"
    "sort -r /etc/words >/sorted.txt\n"
    "sync\n"
    "echo capsa-busybox: done\n"
    "reboot -f\n";

static void busybox_root(void **state)
{
	(void)state;
	REQUIRE_USER64_GUEST();
	if (access(BUSYBOX, X_OK))
		skip_because("Debian's busybox-static is not installed");
	if (access("/sbin/debugfs", X_OK))
		skip_because("e2fsprogs (debugfs) not installed");
	char kernel[4200];
	guest_kernel(kernel, sizeof(kernel));

	char *dir = test_tmpdir();
	char root[4200], img[4200];
	snprintf(root, sizeof(root), "%s/root", dir);
	snprintf(img, sizeof(img), "%s/root.ext4", dir);
	static const char *const applets[] = {"sh",   "mount", "grep",   "echo", "md5sum", "cut",
	                                      "sort", "sync",  "reboot", "cat",  NULL};
	busybox_image(root, applets, "alpha\nkilo\nzulu\nbravo\n", script, img);
	struct run_result r;

	char spec[4400];
	snprintf(spec, sizeof(spec), "path=%s,id=root", img);
	/* Everything after "--" goes to init: /bin/sh runs the script. */
	vm_run_args(&r, 400, "--kernel", kernel, "--cpus", "2", "--memory", "256M", "--disk", spec,
	            "--cmdline",
	            "console=ttyS0 reboot=k panic=-1 root=/dev/vda rw rootfstype=ext4 "
	            "rootflags=no_prefetch_block_bitmaps init=/bin/sh -- /init.sh",
	            NULL);
	if (r.status != 0 || !strstr(r.out, "capsa-busybox: done"))
		printf("# note: status %d timed_out %d\n# stderr: %s\n# console tail: %s\n",
		       r.status, r.timed_out, r.err,
		       r.out + (strlen(r.out) > 3000 ? strlen(r.out) - 3000 : 0));
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "capsa-busybox: done"));
	assert_non_null(strstr(r.out, "reboot: Restarting system"));
	test_measured("Linux + busybox-static on an ext4 virtio-blk root, 2 vCPUs: %.1f s wall",
	              r.secs);
	run_result_free(&r);

	/* The guest's files, read from the image by the host. The sum and the
	 * md5 are computed here the same way: any wrong arithmetic or string
	 * instruction in the guest shows. */
	char *const cat[] = {"/sbin/debugfs", "-R", "cat /written.txt", img, NULL};
	run_argv(cat, &r);
	long sum = 0;
	for (long i = 0; i < 1000; i++)
		sum += i * i;
	char want[128];
	snprintf(want, sizeof(want), "busybox sh on 2 cpus: sum=%ld e3767c72\n", sum);
	if (!strstr(r.out, want))
		printf("# note: written.txt: %s\n", r.out);
	assert_non_null(strstr(r.out, want));
	run_result_free(&r);
	char *const cat2[] = {"/sbin/debugfs", "-R", "cat /sorted.txt", img, NULL};
	run_argv(cat2, &r);
	assert_non_null(strstr(r.out, "zulu\nkilo\nbravo\nalpha\n"));
	run_result_free(&r);
	rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(busybox_root),
	};
	return RUN_VM_GROUPS("busybox root (slow)", tests, NULL, NULL);
}
