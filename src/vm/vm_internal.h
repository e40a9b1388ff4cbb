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
#include "mem/lazy.h"
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

/* Pausing (vm_pause.c): vCPU threads park outside the accelerator while
 * `requested` is set; `parked` counts them, `live` counts running threads. */
struct vm_pause {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	atomic_int requested;
	int paused; /* a completed vm_pause not yet resumed */
	unsigned live, parked;
};

struct vm {
	struct accel_vm *accel;
	char accel_note[ERR_MSG_MAX]; /* why auto did not take KVM, or "" */
	struct guest_mem mem;
	uint8_t *ram;
	uint64_t ram_size;
	int ram_from_file;           /* mapped privately from a raw snapshot image */
	struct mem_lazy *lazy;       /* filled on first touch from a snapshot, or NULL */
	struct mem_chunk_src chunks; /* a restore's chunk source not yet taken */
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

	struct vm_pause pause;          /* vm_pause.c */
	struct vm_migration *migration; /* migrate/source.c, or NULL */
	int incoming_fd; /* migrate/target.c: the source, told once vm_run runs the VM; or -1 */
	/* Being created from a snapshot: memory comes from the file, and
	 * nothing is loaded or written into it (vm_create_from). */
	const struct vm_restore_src *restore;

	int done_fd; /* eventfd: written once when the VM should end */
	atomic_int end_reason;
	atomic_int end_status;
	atomic_int stopping;
	pthread_mutex_t report_lock;
	char report[4096];
};

/* Where a restored VM's memory comes from: `fd` at `mem_off`, or
 * anonymous memory filled from `chunks` (on first touch, or at once with
 * `eager` or without userfaultfd), or all zero when `fd` is -1 and chunks
 * is NULL. */
struct vm_restore_src {
	int fd;
	uint64_t mem_off;
	const struct mem_chunk_src *chunks; /* released by the VM, also on failure */
	int eager;
	/* the CPUID vCPU 0 saw, used instead of the accelerator's own so the
	 * guest sees the same CPU under either accelerator */
	const struct cpuid_entry *cpuid;
	size_t ncpuid;
};
/* vm_create, or with `rs` a VM whose memory is mapped privately from the
 * snapshot and whose vCPUs are left in their reset state for the caller
 * to set (cfg->kernel is not read). */
int vm_create_from(struct vm **out, const struct vm_config *cfg, const struct vm_restore_src *rs,
                   struct err *e);

/* vcpu.c */
int vcpu_create(struct vm *vm, struct vcpu *v, unsigned index, struct err *e);
void vcpu_destroy(struct vcpu *v);
int vcpu_start(struct vcpu *v, struct err *e);
void vcpu_kick_and_join(struct vcpu *v);

/* vm_pause.c */
void vm_pause_init(struct vm *vm);
void vm_pause_destroy(struct vm *vm);
/* On a vCPU thread: count it live / gone. */
void vm_pause_thread_enter(struct vm *vm);
void vm_pause_thread_exit(struct vm *vm);
/* On a vCPU thread, outside the accelerator: wait while a pause is asked. */
void vm_pause_park(struct vm *vm);
/* Wake parked threads because the VM is stopping. */
void vm_pause_wake_all(struct vm *vm);

/* console.c */
int console_start(struct vm *vm, struct err *e);
void console_stop(struct vm *vm);

/* vm.c: end the VM with a report (crash, host error) */
void vm_end_with_report(struct vm *vm, enum vm_end_reason why, int status, const char *report);

#endif
