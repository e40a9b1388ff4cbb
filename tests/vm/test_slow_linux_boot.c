/* SPDX-License-Identifier: Apache-2.0 */
/* Slow: the demo kernel and initramfs boot on 2 vCPUs to user space; init
 * prints the marker line and restarts the machine, which ends the VM with
 * status 0. The wall time is printed (goal on the paravirtual KVM host,
 * where guest kernel code is emulated: <= 90 s; QEMU takes ~70 s). */
#include "vm/vmtest.h"

static void linux_boots_to_userspace(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char kernel[4200], initrd[4200];
	guest_kernel(kernel, sizeof(kernel));
	int pvm = vm_guest_pvm();
	snprintf(initrd, sizeof(initrd), "%s/build/guest/initramfs-%s.cpio", test_root(),
	         pvm ? "32" : "64");
	struct run_result r;
	vm_run_args(&r, 400, "--kernel", kernel, "--initrd", initrd, "--cpus", "2", "--memory",
	            "256M", "--cmdline", "console=ttyS0 reboot=k panic=-1", NULL);
	if (r.status != 0 || !strstr(r.out, "capsa demo: Linux is up on 2 vCPUs"))
		printf("# note: status %d timed_out %d\n# stderr: %s\n# console tail: %s\n",
		       r.status, r.timed_out, r.err,
		       r.out + (strlen(r.out) > 3000 ? strlen(r.out) - 3000 : 0));
	assert_false(r.timed_out);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "smp: Brought up 1 node, 2 CPUs"));
	assert_non_null(strstr(r.out, "Run /init as init process"));
	assert_non_null(strstr(r.out, "capsa demo: Linux is up on 2 vCPUs"));
	assert_non_null(strstr(r.out, "reboot: Restarting system"));
	test_measured("Linux boot to init marker and reset on 2 vCPUs: %.1f s wall (%s)", r.secs,
	              !accel_is_kvm() ? "software CPU"
	              : pvm           ? "paravirtual KVM host"
	                              : "hardware KVM host");
	assert_true(r.secs < 150);
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(linux_boots_to_userspace),
	};
	return RUN_VM_GROUPS("linux boot (slow)", tests, NULL, NULL);
}
