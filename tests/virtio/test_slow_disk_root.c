/* SPDX-License-Identifier: Apache-2.0 */
/* On paravirtual KVM hosts a kernel thread that exits crashes the guest (its
 * exit path runs fwait, which the host cannot emulate at CPL0), so the test
 * keeps ext4 from starting its lazy-init thread: the image has its inode tables
 * initialized (capsa image create) and the root is mounted with
 * no_prefetch_block_bitmaps. One vCPU.
 *
 * Slow: Linux boots with its root file system on an ext4 virtio-blk disk
 * (`capsa image create`), through a qcow2 overlay (`capsa disk create`).
 * The guest's init prints a file the host put there, writes a new one,
 * and restarts the machine. Afterwards the overlay holds the new file,
 * qemu-img finds no errors in it, and the ext4 base image is unchanged. */
#include "vm/vmtest.h"

#include "../disk/qtest.h"

static void linux_root_on_virtio_blk(void **state)
{
	(void)state;
	REQUIRE_KVM();
	REQUIRE_QEMU_IMG();
	if (access("/sbin/mkfs.ext4", X_OK) || access("/sbin/debugfs", X_OK))
		skip_because("e2fsprogs (mkfs.ext4, debugfs) not installed");
	char kernel[4200], init[4200];
	guest_kernel(kernel, sizeof(kernel));
	int pvm = vm_guest_pvm();
	snprintf(init, sizeof(init), "%s/build/virtio/rootinit-%s", test_root(), pvm ? "32" : "64");

	char *dir = test_tmpdir();
	char *root = tpath(dir, "root");
	assert_int_equal(RUN("/bin/mkdir", "-p", tpath(dir, "root/dev")), 0);
	assert_int_equal(RUN("/bin/cp", init, tpath(dir, "root/init")), 0);
	assert_int_equal(write_file(tpath(dir, "root/hello.txt"), "hello from the host\n", 20), 0);
	char *base = tpath(dir, "base.ext4"), *copy = tpath(dir, "base.copy");
	struct run_result r;
	capsa_run(&r, 60, "image", "create", "--from", root, "--size", "16M", base, NULL);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	assert_int_equal(RUN("/bin/cp", base, copy), 0);
	char *ov = tpath(dir, "root.qcow2");
	capsa_run(&r, 30, "disk", "create", "--backing", "base.ext4", ov, NULL);
	assert_int_equal(r.status, 0);
	run_result_free(&r);

	char spec[4400];
	snprintf(spec, sizeof(spec), "path=%s,format=qcow2,id=root", ov);
	vm_run_args(&r, 400, "--kernel", kernel, "--cpus", "1", "--memory", "256M", "--disk", spec,
	            "--cmdline",
	            "console=ttyS0 reboot=k panic=-1 root=/dev/vda rw rootfstype=ext4 "
	            "rootflags=no_prefetch_block_bitmaps init=/init",
	            NULL);
	if (r.status != 0 || !strstr(r.out, "capsa-virtio: wrote /written.txt"))
		printf("# note: status %d timed_out %d\n# stderr: %s\n# console tail: %s\n",
		       r.status, r.timed_out, r.err,
		       r.out + (strlen(r.out) > 3000 ? strlen(r.out) - 3000 : 0));
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "virtio_blk virtio0: [vda]"));
	assert_non_null(strstr(r.out, "EXT4-fs (vda): mounted"));
	assert_non_null(strstr(r.out, "capsa-virtio: hello.txt: hello from the host"));
	assert_non_null(strstr(r.out, "capsa-virtio: wrote /written.txt"));
	test_measured("Linux with an ext4 root on virtio-blk (qcow2 overlay): %.1f s wall", r.secs);
	run_result_free(&r);

	/* the overlay: consistent, and it holds the guest's file */
	assert_int_equal(RUN(QEMU_IMG, "check", ov), 0);
	char *flat = tpath(dir, "flat.ext4");
	assert_int_equal(RUN(QEMU_IMG, "convert", "-O", "raw", ov, flat), 0);
	char *const cat[] = {"/sbin/debugfs", "-R", "cat /written.txt", flat, NULL};
	run_argv(cat, &r);
	assert_non_null(strstr(r.out, "written by the guest on virtio-blk\n"));
	run_result_free(&r);
	/* the base: byte for byte what it was */
	assert_int_equal(RUN("/usr/bin/cmp", "-s", base, copy), 0);
	char *const cat2[] = {"/sbin/debugfs", "-R", "cat /written.txt", base, NULL};
	run_argv(cat2, &r);
	assert_null(strstr(r.out, "written by the guest"));
	run_result_free(&r);
	rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(linux_root_on_virtio_blk),
	};
	return RUN_VM_GROUPS("virtio disk root (slow)", tests, NULL, NULL);
}
