/* SPDX-License-Identifier: Apache-2.0 */
/* Pause and resume: the VM core's own stop of every vCPU, independent of
 * the accelerator. A pause sets `requested`, kicks every vCPU (vcpu_kick
 * makes vcpu_run return soon, and a kick that lands while the thread is
 * outside the accelerator makes the next run return at once), and waits
 * until every live vCPU thread is parked in vm_pause_park; then the virtio
 * devices are quiesced (vm_virtio_quiesce: I/O threads stopped between
 * requests, requests in flight completed, disks flushed), so a paused VM
 * is still and can be saved. Resume starts the devices, then the vCPUs.
 * Guest timers are not compensated: a long pause may make the guest see
 * its timers expire together on resume. Also the other requests of the control API
 * that reach into a running VM from another thread (Ctrl-Alt-Del). */
#include "vm/vm_internal.h"

void vm_pause_init(struct vm *vm)
{
	pthread_mutex_init(&vm->pause.lock, NULL);
	pthread_cond_init(&vm->pause.cond, NULL);
}

void vm_pause_destroy(struct vm *vm)
{
	pthread_mutex_destroy(&vm->pause.lock);
	pthread_cond_destroy(&vm->pause.cond);
}

void vm_pause_thread_enter(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause.lock);
	vm->pause.live++;
	pthread_mutex_unlock(&vm->pause.lock);
}

void vm_pause_thread_exit(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause.lock);
	vm->pause.live--;
	pthread_cond_broadcast(&vm->pause.cond);
	pthread_mutex_unlock(&vm->pause.lock);
}

void vm_pause_park(struct vm *vm)
{
	if (!atomic_load(&vm->pause.requested))
		return;
	pthread_mutex_lock(&vm->pause.lock);
	vm->pause.parked++;
	pthread_cond_broadcast(&vm->pause.cond);
	while (atomic_load(&vm->pause.requested) && !atomic_load(&vm->stopping))
		pthread_cond_wait(&vm->pause.cond, &vm->pause.lock);
	vm->pause.parked--;
	pthread_mutex_unlock(&vm->pause.lock);
}

void vm_pause_wake_all(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause.lock);
	pthread_cond_broadcast(&vm->pause.cond);
	pthread_mutex_unlock(&vm->pause.lock);
}

static int ended(struct vm *vm)
{
	return atomic_load(&vm->end_reason) != VM_END_NONE || atomic_load(&vm->stopping);
}

int vm_pause(struct vm *vm, struct err *e)
{
	pthread_mutex_lock(&vm->pause.lock);
	if (ended(vm) || vm->pause.paused || atomic_load(&vm->pause.requested)) {
		int was_paused = vm->pause.paused;
		pthread_mutex_unlock(&vm->pause.lock);
		return err_set(e, ERR_INPUT,
		               was_paused ? "the VM is already paused" : "the VM is not running");
	}
	atomic_store(&vm->pause.requested, 1);
	for (unsigned i = 0; vm->vcpus && i < vm->ncpus; i++)
		if (vm->vcpus[i].accel)
			vm->accel->ops->vcpu_kick(vm->vcpus[i].accel);
	while (vm->pause.parked < vm->pause.live && !ended(vm))
		pthread_cond_wait(&vm->pause.cond, &vm->pause.lock);
	int ok = !ended(vm);
	if (ok)
		vm->pause.paused = 1;
	else
		atomic_store(&vm->pause.requested, 0);
	/* the devices stop too; a disk that cannot be flushed leaves the VM
	 * paused and says so */
	int rc =
	    ok ? vm_virtio_quiesce(vm, e) : err_set(e, ERR_INPUT, "the VM ended while pausing");
	pthread_mutex_unlock(&vm->pause.lock);
	return rc;
}

int vm_resume(struct vm *vm, struct err *e)
{
	pthread_mutex_lock(&vm->pause.lock);
	if (!vm->pause.paused || ended(vm)) {
		pthread_mutex_unlock(&vm->pause.lock);
		return err_set(e, ERR_INPUT,
		               ended(vm) ? "the VM is not running" : "the VM is not paused");
	}
	if (vm_virtio_resume(vm, e)) {
		pthread_mutex_unlock(&vm->pause.lock);
		return -1;
	}
	vm->pause.paused = 0;
	atomic_store(&vm->pause.requested, 0);
	pthread_cond_broadcast(&vm->pause.cond);
	pthread_mutex_unlock(&vm->pause.lock);
	return 0;
}

void vm_get_info(struct vm *vm, struct vm_info *out)
{
	pthread_mutex_lock(&vm->pause.lock);
	out->paused = vm->pause.paused;
	pthread_mutex_unlock(&vm->pause.lock);
	out->cpus = vm->ncpus;
	out->memory = vm->ram_size;
	out->accel = vm->accel->kind;
	out->ended = ended(vm);
}

int vm_send_ctrl_alt_del(struct vm *vm, struct err *e)
{
	if (ended(vm))
		return err_set(e, ERR_INPUT, "the VM has ended");
	i8042_ctrl_alt_del(&vm->i8042);
	return 0;
}
