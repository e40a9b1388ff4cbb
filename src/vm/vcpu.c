/* SPDX-License-Identifier: Apache-2.0 */
/* One thread per vCPU, whatever the accelerator. Stopping is race-free:
 * threads are created with the accelerator's kick signal blocked (vm_run),
 * vm->stopping is set before every vCPU is kicked, and the thread checks it
 * after every return from the accelerator; a kick that arrives while the
 * thread handles an exit makes the next run return at once. */
#include "vm/vm_internal.h"

#include "vm/sandbox.h"
#include "vm/x86/crash_report.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vcpu_create(struct vm *vm, struct vcpu *v, unsigned index, struct err *e)
{
	v->vm = vm;
	v->index = index;
	size_t cap = vm->tmpl.ncpuid + CPUID_EXTRA_ENTRIES;
	struct cpuid_entry *cpuid = calloc(cap, sizeof(*cpuid));
	if (!cpuid)
		return err_sys(e, "allocating CPUID");
	size_t n = x86_vcpu_cpuid(&vm->tmpl, index, cpuid, cap);
	int rc = vm->accel->ops->vcpu_create(vm->accel, index, cpuid, n, &v->accel, e);
	free(cpuid);
	if (rc || index != 0 || vm->restore)
		return rc; /* a restored vCPU gets its state from the snapshot */
	/* The boot CPU starts where the kernel's entry expects it. */
	struct x86_vcpu_state s;
	memset(&s, 0, sizeof(s));
	const unsigned parts = ACCEL_STATE_REGS | ACCEL_STATE_SREGS;
	const struct accel_ops *ops = vm->accel->ops;
	if (ops->vcpu_get_state(v->accel, &s, parts, e))
		return err_prefix(e, "vCPU 0");
	x86_boot_state(&s, &vm->boot);
	if (ops->vcpu_set_state(v->accel, &s, parts, e))
		return err_prefix(e, "vCPU 0");
	return 0;
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->accel)
		v->vm->accel->ops->vcpu_destroy(v->accel);
	v->accel = NULL;
}

static void crash(struct vcpu *v, const char *what)
{
	char report[4096];
	struct x86_vcpu_state s;
	struct err e = {0};
	int ok = v->vm->accel->ops->vcpu_get_state(v->accel, &s,
	                                           ACCEL_STATE_REGS | ACCEL_STATE_SREGS, &e) == 0;
	x86_crash_report(ok ? &s : NULL, v->index, &v->vm->mem, what, report, sizeof(report));
	vm_end_with_report(v->vm, VM_END_CRASH, 1, report);
}

/* Returns 0 to keep running, -1 when this vCPU is done. */
static int handle_exit(struct vcpu *v, const struct accel_exit *x)
{
	char msg[256];
	switch (x->kind) {
	case ACCEL_EXIT_NONE:
		return 0;
	case ACCEL_EXIT_RESET:
		vm_request_end(v->vm, VM_END_RESET, 0);
		return -1;
	case ACCEL_EXIT_POWEROFF:
		vm_request_end(v->vm, VM_END_POWEROFF, 0);
		return -1;
	case ACCEL_EXIT_CRASH:
		crash(v, x->what);
		return -1;
	case ACCEL_EXIT_ERROR:
	default:
		snprintf(msg, sizeof(msg), "vCPU %u: %s", v->index, x->what);
		vm_end_with_report(v->vm, VM_END_ERROR, 1, msg);
		return -1;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	const struct accel_ops *ops = vm->accel->ops;
	char name[16];
	snprintf(name, sizeof(name), "vcpu%u", v->index);
	pthread_setname_np(pthread_self(), name);

	struct err e = {0};
	if (ops->vcpu_thread_init(v->accel, &e) || sandbox_enter_thread(0, &e)) {
		char msg[ERR_MSG_MAX + 16];
		snprintf(msg, sizeof(msg), "vCPU %u: %s", v->index, e.msg);
		vm_end_with_report(vm, VM_END_ERROR, 1, msg);
		return NULL;
	}
	vm_pause_thread_enter(vm);
	while (!atomic_load(&vm->stopping)) {
		vm_pause_park(vm);
		if (atomic_load(&vm->stopping))
			break;
		struct accel_exit x;
		ops->vcpu_run(v->accel, &x);
		serial_flush(&vm->serial); /* before a pause, a snapshot or the end */
		/* Stop at once when this exit (or another thread) ended the VM. */
		if (handle_exit(v, &x) || atomic_load(&vm->end_reason) != VM_END_NONE)
			break;
	}
	vm_pause_thread_exit(vm);
	return NULL;
}

int vcpu_start(struct vcpu *v, struct err *e)
{
	int rc = pthread_create(&v->thread, NULL, vcpu_thread, v);
	if (rc)
		return err_errno(e, rc, "starting vCPU %u thread", v->index);
	v->started = 1;
	return 0;
}

void vcpu_kick_and_join(struct vcpu *v)
{
	if (!v->started)
		return;
	v->vm->accel->ops->vcpu_kick(v->accel);
	pthread_join(v->thread, NULL);
	v->started = 0;
}
