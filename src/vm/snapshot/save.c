/* SPDX-License-Identifier: Apache-2.0 */
/* vm_snapshot_save: a paused VM into one file (format.h). The file is
 * written beside the target and renamed over it at the end, so a failed
 * save never leaves a half-written snapshot under the name asked for. */
#include "vm/snapshot/devices.h"
#include "vm/snapshot/format.h"
#include "vm/snapshot/memz.h"
#include "vm/snapshot/sections.h"
#include "vm/snapshot/snapshot.h"
#include "vm/snapshot/state.h"
#include "vm/snapshot/timers.h"
#include "vm/vm_internal.h"
#include "lib/zero.h"
#include "mem/lazy.h"
#include "mem/touched.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* Append a section at *off (8-byte aligned) and record it in the header. */
static int put_section(int fd, struct snap_header *h, uint32_t type, const void *buf, size_t len,
                       uint64_t *off, struct err *e)
{
	struct snap_section *s = &h->sec[h->nsections++];
	*s = (struct snap_section){type, (uint32_t)crc32(0, buf, (uInt)len), *off, len};
	if (snap_pwrite_all(fd, buf, len, *off, e))
		return -1;
	*off = (*off + len + 7) & ~7ULL;
	return 0;
}

/* Guest RAM as a raw image at `off` in fd: only pages with data are
 * written (in runs); the rest stay holes. *crc is the whole image's CRC,
 * zero pages folded in without reading them again. */
static int put_raw(int fd, const uint8_t *ram, uint64_t size, const uint8_t *touched, uint64_t off,
                   uint32_t *crc, struct err *e)
{
	static const uint8_t zero[SNAP_PAGE];
	const uLong zcrc = crc32(0, zero, SNAP_PAGE), op = crc32_combine_gen(SNAP_PAGE);
	uLong c = crc32(0, NULL, 0);
	uint64_t run = 0, run_len = 0; /* pages with data not yet written */
	for (uint64_t p = 0; p <= size; p += SNAP_PAGE) {
		int data = p < size && (!touched || touched[p / SNAP_PAGE]) &&
		           !buf_is_zero(ram + p, SNAP_PAGE);
		if (data) {
			c = crc32(c, ram + p, SNAP_PAGE);
			run = run_len ? run : p;
			run_len += SNAP_PAGE;
			continue;
		}
		if (run_len && snap_pwrite_all(fd, ram + run, run_len, off + run, e))
			return -1;
		run_len = 0;
		if (p < size)
			c = crc32_combine_op(c, zcrc, op);
	}
	if (ftruncate(fd, (off_t)(off + size)))
		return err_sys(e, "sizing the snapshot");
	*crc = (uint32_t)c;
	return 0;
}

int snap_touched_map(struct vm *vm, uint8_t **out, struct err *e)
{
	*out = NULL;
	if (vm->ram_from_file)
		return 0;
	uint8_t *map = malloc(vm->ram_size / SNAP_PAGE);
	if (!map)
		return err_sys(e, "allocating");
	if (mem_pages_touched(vm->ram, vm->ram_size, map, e)) {
		free(map);
		return -1;
	}
	/* not loaded yet, or mapped from the file: may hold data untouched */
	for (uint64_t p = 0; vm->lazy && p < vm->ram_size; p += SNAP_PAGE)
		if (!mem_lazy_filled(vm->lazy, p) || mem_lazy_mapped(vm->lazy, p))
			map[p / SNAP_PAGE] = 1;
	*out = map;
	return 0;
}

/* One byte a page of RAM: the pages the vCPUs used last (accel.h,
 * vcpu_recent_pages), or NULL where the accelerator cannot tell. */
static int hot_map(struct vm *vm, uint8_t **out, struct err *e)
{
	*out = NULL;
	const struct accel_ops *ops = vm->accel->ops;
	if (!ops->vcpu_recent_pages)
		return 0;
	enum { MAX = 8192 };
	uint64_t *pa = malloc(MAX * sizeof(*pa));
	uint8_t *map = calloc(vm->ram_size / SNAP_PAGE, 1);
	if (!pa || !map) {
		free(pa);
		free(map);
		return err_sys(e, "allocating");
	}
	for (unsigned i = 0; i < vm->ncpus; i++) {
		size_t n = ops->vcpu_recent_pages(vm->vcpus[i].accel, pa, MAX);
		for (size_t k = 0; k < n; k++) {
			uint8_t *host = gm_ptr(&vm->mem, pa[k], SNAP_PAGE);
			if (host)
				map[(uint64_t)(host - vm->ram) / SNAP_PAGE] = 1;
		}
	}
	free(pa);
	*out = map;
	return 0;
}

/* Memory in the form asked for: into fd at its page-aligned end, or into
 * a file of its own. */
static int put_memory(int fd, struct vm *vm, struct snap_header *h, uint64_t off,
                      const struct vm_snapshot_opts *o, int mem_fd, struct err *e)
{
	uint8_t *touched;
	if (snap_touched_map(vm, &touched, e))
		return -1;
	int rc;
	uint32_t crc = 0;
	if (mem_fd >= 0) {
		struct snap_memfile f = {vm->ram_size, 0};
		rc = put_raw(mem_fd, vm->ram, vm->ram_size, touched, 0, &crc, e) ||
		             put_section(fd, h, SNAP_SEC_MEMFILE, &f, sizeof(f), &off, e)
		         ? -1
		         : 0;
		h->file_size = off;
	} else if (o->memory_raw) {
		off = (off + SNAP_PAGE - 1) & ~(uint64_t)(SNAP_PAGE - 1);
		rc = put_raw(fd, vm->ram, vm->ram_size, touched, off, &crc, e);
		h->sec[h->nsections++] =
		    (struct snap_section){SNAP_SEC_MEMORY, crc, off, vm->ram_size};
		h->file_size = off + vm->ram_size;
	} else {
		uint8_t *hot;
		rc = hot_map(vm, &hot, e);
		if (rc == 0)
			rc = snap_memz_write(fd, vm->ram, vm->ram_size, touched, hot, h, &off, e);
		free(hot);
		h->file_size = off;
		if (rc == 0 && ftruncate(fd, (off_t)off))
			rc = err_sys(e, "sizing the snapshot");
	}
	free(touched);
	if (rc == 0 && vm->lazy && mem_lazy_failed(vm->lazy))
		rc = err_set(e, ERR_INPUT,
		             "guest memory could not be loaded from the snapshot the "
		             "VM was restored from");
	return rc;
}

static void get_legacy(struct vm *vm, struct snap_legacy *l)
{
	memset(l, 0, sizeof(*l));
	struct serial *s = &vm->serial;
	pthread_mutex_lock(&s->lock);
	l->ser_ier = s->ier, l->ser_lcr = s->lcr, l->ser_mcr = s->mcr, l->ser_scr = s->scr;
	l->ser_dll = s->dll, l->ser_dlm = s->dlm, l->ser_fcr = s->fcr;
	l->ser_thri = (uint8_t)s->thri;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_lock(&vm->cmos.lock);
	l->cmos_index = vm->cmos.index;
	memcpy(l->cmos_ram, vm->cmos.ram, sizeof(l->cmos_ram));
	pthread_mutex_unlock(&vm->cmos.lock);
	pthread_mutex_lock(&vm->i8042.lock);
	l->kbd_ctr = vm->i8042.ctr;
	l->kbd_pending = vm->i8042.pending;
	l->kbd_nout = (uint8_t)vm->i8042.nout;
	memcpy(l->kbd_out, vm->i8042.out, sizeof(l->kbd_out));
	memcpy(l->kbd_aux, vm->i8042.aux, sizeof(l->kbd_aux));
	pthread_mutex_unlock(&vm->i8042.lock);
}

int snap_header_fill(struct vm *vm, struct snap_header *h, struct err *e)
{
	memcpy(h->magic, SNAP_MAGIC, 8);
	h->version = SNAP_VERSION;
	h->header_size = sizeof(*h);
	h->cpus = vm->ncpus;
	h->accel = (uint32_t)vm->accel->kind;
	h->memory = vm->ram_size;
	h->vcpu_state_size = sizeof(struct x86_vcpu_state);
	h->irqchip_size = sizeof(struct x86_irqchip_state);
	struct snap_cpu cpu;
	if (snap_cpu_of(vm, &cpu, e))
		return -1;
	memcpy(h->cpu_vendor, cpu.vendor, sizeof(h->cpu_vendor));
	h->cpu_sig = cpu.sig;
	h->feat1_ecx = cpu.f1_ecx, h->feat1_edx = cpu.f1_edx;
	h->feat7_ebx = cpu.f7_ebx, h->feat7_ecx = cpu.f7_ecx, h->feat7_edx = cpu.f7_edx;
	return 0;
}

/* The virtio devices' state and the disks' identities (and data). */
static int put_devices(struct vm *vm, int fd, struct snap_header *h, int with_disks,
                       const struct vm_device_names *names, uint64_t *off, struct err *e)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	if (snap_devices_build(vm, names, &buf, &len, e))
		return -1;
	int rc = put_section(fd, h, SNAP_SEC_DEVICES, buf, len, off, e);
	free(buf);
	buf = NULL;
	if (rc == 0)
		rc = snap_disks_build(vm, fd, with_disks, off, &buf, &len, e) ||
		             put_section(fd, h, SNAP_SEC_DISKS, buf, len, off, e)
		         ? -1
		         : 0;
	free(buf);
	return rc;
}

int snap_state_write(struct vm *vm, int fd, struct snap_header *h, int with_disks,
                     const struct vm_device_names *names, uint64_t *at, struct err *e)
{
	const struct accel_ops *ops = vm->accel->ops;
	struct snap_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.edits = vm->edits;
	uint64_t off = *at;
	if (put_section(fd, h, SNAP_SEC_CONFIG, &cfg, sizeof(cfg), &off, e))
		return -1;
	size_t vlen = vm->ncpus * sizeof(struct x86_vcpu_state);
	struct x86_vcpu_state *vs = calloc(vm->ncpus, sizeof(*vs));
	if (!vs)
		return err_sys(e, "allocating vCPU states");
	int rc = 0;
	for (unsigned i = 0; i < vm->ncpus && rc == 0; i++)
		if (ops->vcpu_get_state(vm->vcpus[i].accel, &vs[i], ACCEL_STATE_ALL, e))
			rc = err_prefix(e, "vCPU %u", i);
	if (rc == 0)
		rc = put_section(fd, h, SNAP_SEC_VCPUS, vs, vlen, &off, e);
	free(vs);
	if (rc)
		return -1;
	struct x86_irqchip_state chip;
	memset(&chip, 0, sizeof(chip));
	if (ops->vm_get_irqchip(vm->accel, &chip, e))
		return -1;
	snap_timers_save(&chip);
	if (put_section(fd, h, SNAP_SEC_IRQCHIP, &chip, sizeof(chip), &off, e))
		return -1;
	struct snap_legacy leg;
	get_legacy(vm, &leg);
	if (put_section(fd, h, SNAP_SEC_LEGACY, &leg, sizeof(leg), &off, e))
		return -1;
	size_t cap = vm->tmpl.ncpuid + CPUID_EXTRA_ENTRIES;
	struct cpuid_entry *c = calloc(cap, sizeof(*c));
	if (!c)
		return err_sys(e, "allocating CPUID");
	size_t n = x86_vcpu_cpuid(&vm->tmpl, 0, c, cap);
	rc = n && n <= SNAP_MAX_CPUID
	         ? put_section(fd, h, SNAP_SEC_CPUID, c, n * sizeof(*c), &off, e)
	         : err_set(e, ERR_INTERNAL, "CPUID table of %zu entries", n);
	free(c);
	if (rc || (vm_virtio_devices(vm) && put_devices(vm, fd, h, with_disks, names, &off, e)))
		return -1;
	*at = off;
	return 0;
}

static int write_all_sections(struct vm *vm, int fd, struct snap_header *h,
                              const struct vm_snapshot_opts *o, int mem_fd, struct err *e)
{
	uint64_t off = SNAP_HEADER_SIZE;
	if (snap_state_write(vm, fd, h, o->with_disks, o->names, &off, e) ||
	    put_memory(fd, vm, h, off, o, mem_fd, e))
		return -1;
	h->header_crc = snap_header_crc(h);
	return snap_pwrite_all(fd, h, sizeof(*h), 0, e);
}

int vm_snapshot_save(struct vm *vm, const char *path, struct err *e)
{
	return vm_snapshot_save_opts(vm, path, &(struct vm_snapshot_opts){0}, e);
}

/* A new file beside `path` (renamed over it once complete), or -1 with e. */
static int create_beside(const char *path, char *tmp, size_t cap, struct err *e)
{
	if (snprintf(tmp, cap, "%s.tmp-%d", path, (int)getpid()) >= (int)cap)
		return err_set(e, ERR_INPUT, "snapshot path too long");
	int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_sys(e, "snapshot %s: cannot create", path);
		e->kind = ERR_INPUT;
	}
	return fd;
}

/* fsync, close and rename the file into place (or remove it on failure). */
static int finish(int fd, const char *tmp, const char *path, int rc, struct err *e)
{
	if (fd < 0)
		return rc;
	if (rc == 0 && fsync(fd))
		rc = err_sys(e, "writing the snapshot");
	close(fd);
	if (rc == 0 && rename(tmp, path))
		rc = err_sys(e, "snapshot %s: cannot rename into place", path);
	if (rc)
		unlink(tmp);
	return rc;
}

int vm_snapshot_save_opts(struct vm *vm, const char *path, const struct vm_snapshot_opts *o,
                          struct err *e)
{
	pthread_mutex_lock(&vm->pause.lock);
	int paused = vm->pause.paused;
	pthread_mutex_unlock(&vm->pause.lock);
	if (!paused)
		return err_set(e, ERR_INPUT, "the VM must be paused to take a snapshot");
	char tmp[4200], mtmp[4200];
	int fd = create_beside(path, tmp, sizeof(tmp), e), mem_fd = -1;
	if (fd < 0)
		return -1;
	int rc = 0;
	if (o->mem_path && (mem_fd = create_beside(o->mem_path, mtmp, sizeof(mtmp), e)) < 0)
		rc = -1;
	struct snap_header *h = rc ? NULL : calloc(1, SNAP_HEADER_SIZE);
	if (rc == 0 && !h)
		rc = err_sys(e, "allocating");
	if (rc == 0)
		rc = snap_header_fill(vm, h, e) || write_all_sections(vm, fd, h, o, mem_fd, e) ? -1
		                                                                               : 0;
	free(h);
	rc = finish(mem_fd, mtmp, o->mem_path, rc, e);
	return finish(fd, tmp, path, rc, e);
}
