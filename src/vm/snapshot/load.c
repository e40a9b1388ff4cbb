/* SPDX-License-Identifier: Apache-2.0 */
/* See load.h. Every value from the file is bounded before it is used. */
#include "vm/snapshot/load.h"

#include "vm/accel.h"
#include "vm/vm.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The device sections, when the VM had devices (both or neither). */
static int load_devices(int fd, struct snap_loaded *l, uint64_t file_size, struct err *e)
{
	const struct snap_section *ds = snap_find(&l->h, SNAP_SEC_DEVICES);
	const struct snap_section *ks = snap_find(&l->h, SNAP_SEC_DISKS);
	if (!ds && !ks)
		return 0;
	const uint64_t dmax =
	    sizeof(struct snap_devices_hdr) +
	    VM_VIRTIO_MAX * (sizeof(struct snap_dev_rec) + SNAP_DEV_STATE_MAX + 8);
	const uint64_t kmax =
	    sizeof(struct snap_disks_hdr) + VM_VIRTIO_MAX * sizeof(struct snap_disk_rec);
	if (!ds || !ks || ds->size > dmax || ks->size > kmax)
		return err_set(e, ERR_INPUT,
		               "snapshot device sections are incomplete or too large");
	uint8_t *dbuf = malloc(ds->size ? ds->size : 1), *kbuf = malloc(ks->size ? ks->size : 1);
	l->dev = calloc(1, sizeof(*l->dev));
	int rc = dbuf && kbuf && l->dev ? 0 : err_sys(e, "allocating device states");
	if (rc == 0 && (snap_read_section(fd, &l->h, SNAP_SEC_DEVICES, dbuf, ds->size, e) ||
	                snap_read_section(fd, &l->h, SNAP_SEC_DISKS, kbuf, ks->size, e)))
		rc = -1;
	if (rc == 0) {
		rc = snap_devices_parse(l->dev, dbuf, ds->size, kbuf, ks->size, file_size, e);
		dbuf = NULL; /* the parse owns it */
	}
	free(dbuf);
	free(kbuf);
	return rc;
}

/* The memory index, or the separate memory file's record. */
static int load_memory(int fd, struct snap_loaded *l, struct err *e)
{
	if (snap_find(&l->h, SNAP_SEC_MEMZ))
		return snap_memz_load(fd, &l->h, &l->memz, e);
	if (!snap_find(&l->h, SNAP_SEC_MEMFILE))
		return 0;
	struct snap_memfile f;
	if (snap_read_section(fd, &l->h, SNAP_SEC_MEMFILE, &f, sizeof(f), e))
		return -1;
	if (f.size != l->h.memory)
		return err_set(e, ERR_INPUT, "snapshot memory file record is corrupt");
	l->memfile = 1;
	return 0;
}

int snap_machine_check(const struct snap_header *h, struct err *e)
{
	if (h->cpus < 1 || h->cpus > 254 || h->memory < VM_MIN_MEMORY ||
	    h->memory > VM_MAX_MEMORY || h->memory % SNAP_PAGE)
		return err_set(e, ERR_INPUT, "snapshot describes an impossible machine");
	if (h->accel != ACCEL_KVM && h->accel != ACCEL_EMU)
		return err_set(e, ERR_INPUT, "snapshot names an unknown accelerator");
	return 0;
}

int snap_load(int fd, struct snap_loaded *l, struct err *e)
{
	memset(l, 0, sizeof(*l));
	struct stat st;
	if (fstat(fd, &st))
		return err_sys(e, "reading the snapshot");
	ssize_t n = pread(fd, &l->h, sizeof(l->h), 0);
	if (n != (ssize_t)sizeof(l->h))
		memset(&l->h, 0, sizeof(l->h)); /* too short: refused as bad magic */
	if (snap_header_check(&l->h, (uint64_t)st.st_size, e) || snap_machine_check(&l->h, e))
		return -1;
	l->vcpus = calloc(l->h.cpus, sizeof(*l->vcpus));
	if (!l->vcpus)
		return err_sys(e, "allocating vCPU states");
	if (snap_read_section(fd, &l->h, SNAP_SEC_CONFIG, &l->cfg, sizeof(l->cfg), e) ||
	    snap_read_section(fd, &l->h, SNAP_SEC_VCPUS, l->vcpus, l->h.cpus * sizeof(*l->vcpus),
	                      e) ||
	    snap_read_section(fd, &l->h, SNAP_SEC_IRQCHIP, &l->chip, sizeof(l->chip), e) ||
	    snap_read_section(fd, &l->h, SNAP_SEC_LEGACY, &l->legacy, sizeof(l->legacy), e))
		return -1;
	const struct snap_section *c = snap_find(&l->h, SNAP_SEC_CPUID);
	if (c->size % sizeof(struct cpuid_entry) || c->size == 0 ||
	    c->size / sizeof(struct cpuid_entry) > SNAP_MAX_CPUID)
		return err_set(e, ERR_INPUT, "snapshot CPUID section has a bad size");
	l->ncpuid = c->size / sizeof(struct cpuid_entry);
	l->cpuid = calloc(l->ncpuid, sizeof(*l->cpuid));
	if (!l->cpuid)
		return err_sys(e, "allocating CPUID");
	if (snap_read_section(fd, &l->h, SNAP_SEC_CPUID, l->cpuid, c->size, e))
		return -1;
	if (l->cfg.edits.n > CPUID_MAX_EDITS)
		return err_set(e, ERR_INPUT, "snapshot configuration is corrupt");
	if (load_memory(fd, l, e))
		return -1;
	return load_devices(fd, l, (uint64_t)st.st_size, e);
}

int snap_verify(int fd, struct snap_loaded *l, struct err *e)
{
	if (snap_load(fd, l, e))
		return -1;
	const struct snap_section *m = snap_find(&l->h, SNAP_SEC_MEMORY);
	uint32_t crc;
	if (l->memz && snap_memz_verify(fd, l->memz, e))
		return -1;
	if (m && snap_crc_range(fd, m->offset, m->size, &crc, e))
		return -1;
	if (m && crc != m->crc)
		return err_set(e, ERR_INPUT,
		               "snapshot memory image is corrupt (checksum mismatch)");
	for (unsigned i = 0; l->dev && i < l->dev->ndisks; i++) {
		const struct snap_disk_rec *r = &l->dev->disk[i];
		if (!(r->flags & SNAP_DISK_DATA))
			continue;
		if (snap_crc_range(fd, r->data_off, r->size, &crc, e))
			return -1;
		if (crc != r->data_crc)
			return err_set(e, ERR_INPUT,
			               "snapshot disk %u data is corrupt (checksum mismatch)", i);
	}
	return 0;
}

void snap_loaded_free(struct snap_loaded *l)
{
	if (l) {
		free(l->vcpus);
		free(l->cpuid);
		snap_devices_free(l->dev);
		snap_memz_free(l->memz);
	}
	free(l);
}
