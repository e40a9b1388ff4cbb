/* One thread per vCPU. Stopping is race-free: the kick signal is blocked
 * in the thread except inside KVM_RUN (KVM_SET_SIGNAL_MASK), so a kick sent
 * while the thread handles an exit stays pending and makes the next
 * KVM_RUN return at once; immediate_exit covers the same window where KVM
 * supports it. The thread checks vm->stopping after every return. */
#include "vm/vm_internal.h"

#include "vm/sandbox.h"
#include "vm/x86/crash_report.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

int vcpu_kick_signal(void)
{
	return SIGRTMIN + 3;
}

static void on_kick(int sig)
{
	(void)sig;
}

int vcpu_signal_setup(struct err *e)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_kick;
	sigemptyset(&sa.sa_mask);
	if (sigaction(vcpu_kick_signal(), &sa, NULL))
		return err_sys(e, "installing the vCPU kick signal handler");
	return 0;
}

int vcpu_create(struct vm *vm, struct vcpu *v, unsigned index, struct err *e)
{
	v->vm = vm;
	v->index = index;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (v->fd < 0)
		return err_sys(e, "KVM_CREATE_VCPU %u", index);
	void *run = mmap(NULL, (size_t)vm->kvm.vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	                 v->fd, 0);
	if (run == MAP_FAILED)
		return err_sys(e, "vCPU %u: mapping kvm_run", index);
	v->run = run;
	if (x86_vcpu_init(v->fd, index, &vm->tmpl, e))
		return -1;
	if (index == 0 && x86_vcpu_boot_regs(v->fd, &vm->boot, e))
		return err_prefix(e, "vCPU 0");
	return 0;
}

void vcpu_destroy(struct vcpu *v, int mmap_size)
{
	if (v->run)
		munmap(v->run, (size_t)mmap_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

static void crash(struct vcpu *v, const char *what)
{
	char report[4096];
	x86_crash_report(v->fd, v->index, &v->vm->mem, what, report, sizeof(report));
	vm_end_with_report(v->vm, VM_END_CRASH, 1, report);
}

static void host_error(struct vcpu *v, const char *what, int errnum)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "vCPU %u: %s: %s", v->index, what, strerror(errnum));
	vm_end_with_report(v->vm, VM_END_ERROR, 1, msg);
}

static void handle_io(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	unsigned size = r->io.size;
	uint64_t total = (uint64_t)size * r->io.count;
	if ((size != 1 && size != 2 && size != 4) ||
	    r->io.data_offset + total > (uint64_t)v->vm->kvm.vcpu_mmap_size)
		return;
	uint8_t *p = (uint8_t *)r + r->io.data_offset;
	for (uint32_t i = 0; i < r->io.count; i++, p += size) {
		if (r->io.direction == KVM_EXIT_IO_OUT)
			iobus_write(&v->vm->pio, r->io.port, p, size);
		else
			iobus_read(&v->vm->pio, r->io.port, p, size);
	}
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	unsigned len = r->mmio.len;
	if (len == 0 || len > sizeof(r->mmio.data))
		return;
	if (r->mmio.is_write)
		iobus_write(&v->vm->mmio, r->mmio.phys_addr, r->mmio.data, len);
	else
		iobus_read(&v->vm->mmio, r->mmio.phys_addr, r->mmio.data, len);
}

/* Returns 0 to keep running, -1 when this vCPU is done. */
static int handle_exit(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	char what[160];
	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(v);
		return 0;
	case KVM_EXIT_MMIO:
		handle_mmio(v);
		return 0;
	case KVM_EXIT_HLT:
	case KVM_EXIT_INTR:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		return 0;
	case KVM_EXIT_SHUTDOWN:
		crash(v, "triple fault (KVM_EXIT_SHUTDOWN)");
		return -1;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (r->system_event.type) {
		case KVM_SYSTEM_EVENT_RESET:
			vm_request_end(v->vm, VM_END_RESET, 0);
			return -1;
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			vm_request_end(v->vm, VM_END_POWEROFF, 0);
			return -1;
		default:
			snprintf(what, sizeof(what), "guest system event %u", r->system_event.type);
			crash(v, what);
			return -1;
		}
	case KVM_EXIT_INTERNAL_ERROR: {
		int n = snprintf(what, sizeof(what), "KVM internal error, suberror %u",
		                 r->internal.suberror);
		if (r->internal.suberror == KVM_INTERNAL_ERROR_EMULATION)
			snprintf(what + n, sizeof(what) - (size_t)n,
			         " (instruction emulation failed)");
		crash(v, what);
		return -1;
	}
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "VM entry failed, hardware reason %#llx",
		         (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
		crash(v, what);
		return -1;
	default:
		snprintf(what, sizeof(what), "unhandled KVM exit reason %u", r->exit_reason);
		crash(v, what);
		return -1;
	}
}

static void drain_kick(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, vcpu_kick_signal());
	struct timespec zero = {0, 0};
	while (sigtimedwait(&s, NULL, &zero) > 0)
		;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	char name[16];
	snprintf(name, sizeof(name), "vcpu%u", v->index);
	pthread_setname_np(pthread_self(), name);

	sigset_t cur;
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	sigdelset(&cur, vcpu_kick_signal());
	struct {
		struct kvm_signal_mask hdr;
		uint8_t set[8];
	} km;
	km.hdr.len = 8; /* the kernel's sigset size on x86-64 */
	memcpy(km.set, &cur, 8);
	if (ioctl(v->fd, KVM_SET_SIGNAL_MASK, &km)) {
		host_error(v, "KVM_SET_SIGNAL_MASK", errno);
		return NULL;
	}
	struct err e = {0};
	if (sandbox_enter_thread(0, &e)) {
		vm_end_with_report(vm, VM_END_ERROR, 1, e.msg);
		return NULL;
	}
	while (!atomic_load(&vm->stopping)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				drain_kick();
				v->run->immediate_exit = 0;
				continue;
			}
			host_error(v, "KVM_RUN", errno);
			break;
		}
		/* Stop at once when this exit (or another thread) ended the VM. */
		if (handle_exit(v) || atomic_load(&vm->end_reason) != VM_END_NONE)
			break;
	}
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
	if (v->vm->kvm.immediate_exit)
		v->run->immediate_exit = 1;
	pthread_kill(v->thread, vcpu_kick_signal());
	pthread_join(v->thread, NULL);
	v->started = 0;
}
