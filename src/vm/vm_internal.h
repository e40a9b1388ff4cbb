/* SPDX-License-Identifier: Apache-2.0 */
/* The VM object's insides, shared by vm.c, vcpu.c, console.c and the
 * device glue (vm_virtio.c) only. */
#ifndef CAPSA_VM_VM_INTERNAL_H
#define CAPSA_VM_VM_INTERNAL_H

#include "devices/cmos.h"
#include "devices/i8042.h"
#include "devices/legacy.h"
#include "devices/serial.h"
#include "mem/guest_mem.h"
#include "vm/iobus.h"
#include "vm/accel.h"
#include "vm/vm.h"
#include "vm/x86/vcpu_setup.h"

#include <pthread.h>
#include <stdatomic.h>

struct vcpu {
	struct vm *vm;
	unsigned index;
	struct accel_vcpu *accel;
	pthread_t thread;
	int started;
};

struct console {
	int in_fd;
	int escape;
	int stop_fd; /* eventfd */
	pthread_t thread;
	int started;
};

struct vm {
	struct accel_vm *accel;
	char accel_note[ERR_MSG_MAX]; /* why auto did not take KVM, or "" */
	struct guest_mem mem;
	uint8_t *ram;
	uint64_t ram_size;
	struct boot_entry boot;

	struct cpuid_entry *cpuid;
	size_t ncpuid;
	struct cpuid_edits edits;
	struct x86_cpu_template tmpl;

	struct vcpu *vcpus;
	unsigned ncpus;

	struct iobus pio, mmio;
	struct vm_control ctl;
	struct serial serial;
	struct i8042 i8042;
	struct cmos cmos;
	struct pci_nodev pci;
	pthread_mutex_t misc_lock;
	struct console console;
	struct vm_virtio *virtio; /* vm_virtio.c */

	int done_fd; /* eventfd: written once when the VM should end */
	atomic_int end_reason;
	atomic_int end_status;
	atomic_int stopping;
	pthread_mutex_t report_lock;
	char report[4096];
};

/* vcpu.c */
int vcpu_create(struct vm *vm, struct vcpu *v, unsigned index, struct err *e);
void vcpu_destroy(struct vcpu *v);
int vcpu_start(struct vcpu *v, struct err *e);
void vcpu_kick_and_join(struct vcpu *v);

/* console.c */
int console_start(struct vm *vm, struct err *e);
void console_stop(struct vm *vm);

/* vm.c: end the VM with a report (crash, host error) */
void vm_end_with_report(struct vm *vm, enum vm_end_reason why, int status, const char *report);

#endif
