/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a snapshot file's header and state sections, verified, without
 * creating a VM: for restore, `capsa vm snapshot verify` and the fuzz
 * target (fuzz/vm/fuzz_snapshot.c). */
#ifndef CAPSA_VM_SNAPSHOT_LOAD_H
#define CAPSA_VM_SNAPSHOT_LOAD_H

#include "devices/x86/irqchip.h"
#include "vm/snapshot/devices.h"
#include "vm/snapshot/format.h"
#include "vm/snapshot/memz.h"
#include "vm/snapshot/sections.h"
#include "vm/x86/state.h"

struct snap_loaded {
	struct snap_header h;
	struct snap_config cfg;
	struct x86_vcpu_state *vcpus; /* h.cpus of them */
	struct x86_irqchip_state chip;
	struct snap_legacy legacy;
	struct cpuid_entry *cpuid; /* ncpuid entries: what vCPU 0 saw */
	size_t ncpuid;
	struct snap_devices *dev; /* NULL: a VM without virtio devices */
	struct snap_memz *memz;   /* the memory index of a SNAP_SEC_MEMZ, or NULL */
	int memfile;              /* memory is in a separate file (SNAP_SEC_MEMFILE) */
};

/* The header describes a machine capsa can create (vCPUs, memory size,
 * accelerator). ERR_INPUT naming what is wrong. */
int snap_machine_check(const struct snap_header *h, struct err *e);
/* Read and verify everything but memory. ERR_INPUT naming what is wrong. */
int snap_load(int fd, struct snap_loaded *l, struct err *e);
/* snap_load, then the memory's CRCs too (the raw image's, or every
 * chunk's and that each decompresses; a separate memory file has none). */
int snap_verify(int fd, struct snap_loaded *l, struct err *e);
void snap_loaded_free(struct snap_loaded *l);

#endif
