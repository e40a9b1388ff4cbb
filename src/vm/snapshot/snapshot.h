/* SPDX-License-Identifier: Apache-2.0 */
/* Snapshots: a paused VM saved to one file and a VM restored from one
 * (format.h describes the file; docs/vm.md, SNAPSHOTS). */
#ifndef CAPSA_VM_SNAPSHOT_SNAPSHOT_H
#define CAPSA_VM_SNAPSHOT_SNAPSHOT_H

#include "lib/err.h"
#include "vm/vm.h"

#define VM_DEVICE_NAME_MAX 64

/* The names a control API gave the devices (Firecracker's drive_id and
 * iface_id), "" where none was given: kept in the file so that a VM loaded
 * from it answers to the same names. */
struct vm_device_names {
	char drive[VM_VIRTIO_MAX][VM_DEVICE_NAME_MAX];
	char iface[VM_NET_MAX][VM_DEVICE_NAME_MAX];
};

/* On restore, the tap `tap` instead of the saved one for the interface
 * named `iface_id` (its saved name, or "netN" for the N-th interface when
 * it has none): Firecracker's network_overrides. */
struct vm_net_override {
	const char *iface_id;
	const char *tap;
};

/* Save the VM (which must be paused, ERR_INPUT otherwise) to `path`, its
 * virtio devices included; disks are recorded by identity only. */
int vm_snapshot_save(struct vm *vm, const char *path, struct err *e);

struct vm_snapshot_opts {
	int with_disks;                      /* each disk's data goes into the file too */
	int memory_raw;                      /* memory as one raw image, not compressed chunks */
	const char *mem_path;                /* memory as a raw image in this file of its own
	                                        (Firecracker's mem_file_path), or NULL */
	const struct vm_device_names *names; /* saved with the devices; NULL: none */
};
int vm_snapshot_save_opts(struct vm *vm, const char *path, const struct vm_snapshot_opts *o,
                          struct err *e);

struct vm_restore_opts {
	enum accel_kind accel; /* ACCEL_AUTO: the one the snapshot was taken on */
	const char *kvm_path;  /* NULL: /dev/kvm */
	int console_out;       /* as in vm_config */
	int console_in;
	int console_escape;
	const char *disk_dir;          /* where disks saved in the file are extracted (NULL:
	                                  the snapshot's directory) */
	const char *mem_path;          /* the memory file of a snapshot saved with mem_path */
	int memory_eager;              /* decompress all memory up front, as when
	                                  userfaultfd is not available (for tests) */
	struct vm_device_names *names; /* if not NULL, receives the saved names */
	const struct vm_net_override *net_overrides; /* taps replacing saved ones */
	unsigned n_net_overrides;
};

/* Create a VM from the snapshot at `path`, ready for vm_run: memory is
 * mapped privately from the file, every vCPU, the interrupt controllers
 * and the legacy devices get their saved state. A truncated, corrupt or
 * incompatible file is ERR_INPUT naming what is wrong. */
int vm_restore(struct vm **out, const char *path, const struct vm_restore_opts *o, struct err *e);

/* Verify every section of the snapshot at `path`, memory included, without
 * running it; *cpus, *memory and *accel describe its machine. */
int vm_snapshot_verify(const char *path, unsigned *cpus, uint64_t *memory, enum accel_kind *accel,
                       struct err *e);

/* The CPU identity the guest sees (vCPU 0's CPUID leaves 0, 1 and 7). */
struct snap_cpu {
	char vendor[16];
	uint32_t sig, f1_ecx, f1_edx, f7_ebx, f7_ecx, f7_edx;
};
int snap_cpu_of(struct vm *vm, struct snap_cpu *out, struct err *e);

#endif
