/* SPDX-License-Identifier: Apache-2.0 */
/* The machine a VM will be started as, built by `capsa vm run` flags and
 * then by the control API's configuration endpoints (PUT /boot-source,
 * /machine-config, /drives/{id}, /network-interfaces/{id}, /vsock), and
 * shown by GET /vm/config. Every setter checks its JSON body (body.h) and
 * changes nothing when it refuses one. */
#ifndef CAPSA_VM_API_MACHINE_H
#define CAPSA_VM_API_MACHINE_H

#include "lib/err.h"
#include "vm/api/body.h"
#include "vm/snapshot/snapshot.h"
#include "vm/vm.h"

#include <json-c/json.h>

#define VM_API_ID_MAX VM_DEVICE_NAME_MAX

/* What the API knows of a drive beyond struct vm_virtio_disk. */
struct vm_api_drive {
	char id[VM_API_ID_MAX];
	int root;
	char partuuid[VM_API_ID_MAX];
	int writeback; /* cache_type "Writeback" rather than "Unsafe" */
};

struct vm_api_machine {
	/* cfg.virtio.disks[i] goes with drives[i], cfg.virtio.net.d[i] with
	 * iface_id[i]; cfg.kernel and cfg.initrd point into argv or below */
	struct vm_config cfg;
	char kernel[4096], initrd[4096];
	char *boot_args;               /* malloc'd */
	const char *default_boot_args; /* for a boot source without boot_args */
	struct vm_api_drive drives[VM_VIRTIO_MAX];
	char iface_id[VM_NET_MAX][VM_API_ID_MAX];
	int track_dirty_pages;
	char serial_out[4096]; /* PUT /serial's file, "" for the --console flag */
	int configured;        /* set by flags or by any configuration endpoint */
};

/* Defaults: 1 vCPU, 256 MiB, no kernel, boot_args `default_boot_args`. */
int vm_api_machine_init(struct vm_api_machine *m, const char *default_boot_args, struct err *e);
void vm_api_machine_free(struct vm_api_machine *m);
/* Set the kernel command line (flags). */
int vm_api_machine_set_args(struct vm_api_machine *m, const char *args, struct err *e);
/* Give the drives and interfaces added by flags their ids (a disk's own
 * id=, else "driveN"; "netN"). */
void vm_api_machine_name_devices(struct vm_api_machine *m);
/* The machine of a VM restored from a snapshot: its vCPUs, memory and
 * devices, named as the snapshot says (names may be NULL) or by default. */
void vm_api_machine_restored(struct vm_api_machine *m, struct vm *vm,
                             const struct vm_device_names *names);
/* The devices' names, to save with a snapshot of the VM. */
void vm_api_machine_names(const struct vm_api_machine *m, struct vm_device_names *out);

/* The configuration endpoints; `id` is the path's {drive_id} / {iface_id}. */
int vm_api_put_boot_source(struct vm_api_machine *m, json_object *o, struct err *e);
int vm_api_put_machine_config(struct vm_api_machine *m, json_object *o, struct err *e);
int vm_api_put_drive(struct vm_api_machine *m, const char *id, json_object *o, struct err *e);
/* PATCH /drives/{id} before start: path_on_host and rate_limiter of a drive
 * already put. */
int vm_api_patch_drive(struct vm_api_machine *m, const char *id, json_object *o, struct err *e);
/* A body's "rate_limiter" into d's bps, iops and bursts (absent: none). */
int vm_api_drive_limits(json_object *o, struct vm_virtio_disk *d, struct err *e);
int vm_api_put_iface(struct vm_api_machine *m, const char *id, json_object *o, struct err *e);
/* PATCH /network-interfaces/{id} before start: the rate limiters given
 * replace the interface's (a bucket left out: no limit). */
int vm_api_patch_iface(struct vm_api_machine *m, const char *id, json_object *o, struct err *e);
/* The interface's index for the path's id and the body's iface_id, and in
 * l its limits with the body's rx_rate_limiter and tx_rate_limiter (those
 * given); -1 with e set. */
int vm_api_iface_patch(const struct vm_api_machine *m, const char *id, json_object *o,
                       struct virtio_net_limits *l, struct err *e);
int vm_api_put_vsock(struct vm_api_machine *m, json_object *o, struct err *e);
/* The accepted fields of each body (body.h); PATCH /machine-config has
 * none required. */
extern const struct api_field vm_api_boot_source_fields[], vm_api_machine_put_fields[],
    vm_api_machine_patch_fields[], vm_api_drive_fields[], vm_api_iface_fields[],
    vm_api_vsock_fields[], vm_api_drive_patch_fields[], vm_api_iface_patch_fields[];

/* GET /vm/config and GET /machine-config. */
json_object *vm_api_machine_json(const struct vm_api_machine *m);
json_object *vm_api_machine_config_json(const struct vm_api_machine *m);

/* The kernel command line: boot_args, then the root device's "root=..."
 * and the virtio-mmio devices. malloc'd; NULL with e set. */
char *vm_api_machine_cmdline(const struct vm_api_machine *m, struct err *e);

#endif
