/* SPDX-License-Identifier: Apache-2.0 */
/* The device sections of a snapshot (format.h): SNAP_SEC_DEVICES holds the
 * virtio configuration the VM was created with (disks, network, vsock) and,
 * for every device of the registry (vm_virtio.h) in order, its place and
 * state; SNAP_SEC_DISKS holds each disk's identity and, for snapshots taken
 * with disks, where its data lies in the file. */
#ifndef CAPSA_VM_SNAPSHOT_DEVICES_H
#define CAPSA_VM_SNAPSHOT_DEVICES_H

#include "lib/err.h"
#include "vm/snapshot/snapshot.h"
#include "vm/vm_virtio.h"

#include <stddef.h>
#include <stdint.h>

/* 2: the device names (struct vm_device_names) follow the header; 1 is read too */
#define SNAP_DEVICES_VERSION 2
#define SNAP_DISKS_VERSION   1
#define SNAP_DEV_STATE_MAX   (64u << 10) /* bytes of one device's state, at most */

struct snap_devices_hdr {
	uint32_t version;     /* SNAP_DEVICES_VERSION */
	uint32_t ndev;        /* records that follow */
	uint32_t config_size; /* sizeof(struct vm_virtio_config): a layout check */
	uint32_t pad;
	struct vm_virtio_config cfg;
	/* version 2: struct vm_device_names, then the records */
};

/* One device: followed by state_size bytes of state, then padding to 8. */
struct snap_dev_rec {
	uint32_t kind, sub, irq, state_size;
	uint64_t base;
};

#define SNAP_DISK_DATA 0x1u /* the disk's data is in the file */

struct snap_disk_rec {
	uint32_t sub;   /* which disk of the configuration */
	uint32_t flags; /* SNAP_DISK_DATA */
	uint64_t size;  /* bytes the guest sees */
	/* identity of the image file when saved: a write changes it */
	uint64_t file_size, mtime_sec, mtime_nsec;
	/* SNAP_DISK_DATA: a raw image of `size` bytes at data_off (page
	 * aligned; zero blocks are holes) with this CRC-32 */
	uint64_t data_off;
	uint32_t data_crc;
	uint32_t pad;
};

struct snap_disks_hdr {
	uint32_t version; /* SNAP_DEVICES_VERSION */
	uint32_t ndisks;
};

/* The device sections of a file, read and checked (load.c). */
struct snap_devices {
	struct snap_devices_hdr hdr;
	struct snap_dev_rec rec[VM_VIRTIO_MAX];
	struct vm_device_names names;        /* all "" in version 1 */
	const uint8_t *state[VM_VIRTIO_MAX]; /* into buf */
	uint8_t *buf;                        /* the device section */
	struct snap_disk_rec disk[VM_VIRTIO_MAX];
	unsigned ndisks;
};

/* Parse and check both sections (the disk section's buffer is copied).
 * Every string of the configuration is terminated, every count bounded,
 * every record inside the section; ERR_INPUT naming what is wrong. Takes
 * ownership of dev_buf. */
int snap_devices_parse(struct snap_devices *d, uint8_t *dev_buf, size_t dev_len,
                       const void *disk_buf, size_t disk_len, uint64_t file_size, struct err *e);
void snap_devices_free(struct snap_devices *d);

struct vm;
struct snap_header;

/* save.c: the device section (malloc'd into *buf) for a quiesced VM, with
 * the devices' names (NULL: none). */
int snap_devices_build(struct vm *vm, const struct vm_device_names *names, uint8_t **buf,
                       size_t *len, struct err *e);
/* restore.c: give the restored VM's devices their saved state; the
 * registry must match the records (else ERR_INPUT). */
int snap_devices_restore(struct vm *vm, const struct snap_devices *d, struct err *e);

/* restore.c, before the VM is created: *cfg becomes the saved device
 * configuration, ready to create the devices with: disks checked or
 * extracted (snap_disks_prepare), a vsock socket left behind by a killed
 * process removed, and the interfaces the n overrides name pointed at their
 * new taps first (ERR_INPUT naming an interface the snapshot lacks, one
 * that is not a tap, or a tap name that does not fit: nothing extracted). */
int snap_devices_prepare(int fd, const char *snap_path, const struct snap_devices *d,
                         const char *disk_dir, const struct vm_net_override *ov, unsigned n,
                         struct vm_virtio_config *cfg, struct err *e);

/* save.c: the disk section (malloc'd into *buf): each disk's identity and,
 * with with_data, its data written to fd from *off (advanced past it). */
int snap_disks_build(struct vm *vm, int fd, int with_data, uint64_t *off, uint8_t **buf,
                     size_t *len, struct err *e);
/* restore.c, before the VM is created: check that every disk without data
 * is unchanged (ERR_INPUT naming it); extract every disk with data into
 * disk_dir (NULL: the snapshot's directory) as a new raw image, and point
 * cfg's disk at it. */
int snap_disks_prepare(int fd, const char *snap_path, const struct snap_devices *d,
                       const char *disk_dir, struct vm_virtio_config *cfg, struct err *e);
/* Remove the images snap_disks_prepare extracted for disks 0..upto-1 (a
 * restore that failed later). */
void snap_disks_discard(const struct snap_devices *d, const struct vm_virtio_config *cfg,
                        unsigned upto);

#endif
