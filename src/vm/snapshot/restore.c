/* SPDX-License-Identifier: Apache-2.0 */
/* vm_restore: a VM from a snapshot file (format.h). Everything is read and
 * verified before a VM is created; the VM is then created with the
 * recorded machine, memory mapped from the file, and every saved state
 * set while no vCPU runs. */
#include "vm/snapshot/load.h"
#include "vm/snapshot/snapshot.h"
#include "vm/snapshot/state.h"
#include "vm/snapshot/timers.h"
#include "vm/vm_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* CPUID bits that describe the VMM or the guest's own settings rather
 * than what the CPU can do: not compared. Leaf 1 ecx: TSC deadline (24),
 * OSXSAVE (27), hypervisor (31); leaf 7 ecx: OSPKE (4). */
#define SNAP_F1_ECX_SOFT ((1u << 24) | (1u << 27) | (1u << 31))
#define SNAP_F7_ECX_SOFT (1u << 4)

static const struct cpuid_entry *leaf(const struct cpuid_entry *c, size_t n, uint32_t fn)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].function == fn && c[i].index == 0)
			return &c[i];
	return NULL;
}

/* The restored vCPUs get the CPUID the guest saw (from the file); the
 * accelerator here must be able to offer every feature in it. */
static int check_cpu(struct vm *vm, const struct snap_header *h, struct err *e)
{
	size_t n = 0;
	struct cpuid_entry *c = vm->accel->ops->supported_cpuid(vm->accel, &n, e);
	if (!c)
		return -1;
	const struct cpuid_entry *l1 = leaf(c, n, 1), *l7 = leaf(c, n, 7);
	const struct {
		const char *name;
		uint32_t had, has;
	} w[] = {
	    {"CPUID 1 ecx", h->feat1_ecx & ~SNAP_F1_ECX_SOFT, l1 ? l1->ecx : 0},
	    {"CPUID 1 edx", h->feat1_edx, l1 ? l1->edx : 0},
	    {"CPUID 7 ebx", h->feat7_ebx, l7 ? l7->ebx : 0},
	    {"CPUID 7 ecx", h->feat7_ecx & ~SNAP_F7_ECX_SOFT, l7 ? l7->ecx : 0},
	    {"CPUID 7 edx", h->feat7_edx, l7 ? l7->edx : 0},
	};
	free(c);
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (w[i].had & ~w[i].has)
			return err_set(
			    e, ERR_INPUT,
			    "--accel %s cannot offer CPU features the snapshot's guest had: "
			    "%s bits 0x%08x",
			    accel_kind_name(vm->accel->kind), w[i].name, w[i].had & ~w[i].has);
	return 0;
}

static void set_legacy(struct vm *vm, const struct snap_legacy *l)
{
	struct serial *s = &vm->serial;
	pthread_mutex_lock(&s->lock);
	s->ier = l->ser_ier, s->lcr = l->ser_lcr, s->mcr = l->ser_mcr, s->scr = l->ser_scr;
	s->dll = l->ser_dll, s->dlm = l->ser_dlm, s->fcr = l->ser_fcr;
	s->thri = l->ser_thri != 0;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_lock(&vm->cmos.lock);
	vm->cmos.index = l->cmos_index & 0x7f;
	memcpy(vm->cmos.ram, l->cmos_ram, sizeof(vm->cmos.ram));
	pthread_mutex_unlock(&vm->cmos.lock);
	pthread_mutex_lock(&vm->i8042.lock);
	vm->i8042.ctr = l->kbd_ctr;
	vm->i8042.pending = l->kbd_pending;
	vm->i8042.nout = l->kbd_nout < 4 ? l->kbd_nout : 4;
	memcpy(vm->i8042.out, l->kbd_out, sizeof(vm->i8042.out));
	memcpy(vm->i8042.aux, l->kbd_aux, sizeof(vm->i8042.aux));
	pthread_mutex_unlock(&vm->i8042.lock);
}

int snap_state_set(struct vm *vm, const struct snap_loaded *l, struct err *e)
{
	const struct accel_ops *ops = vm->accel->ops;
	struct x86_irqchip_state chip = l->chip;
	if (l->h.version >= 2) /* version 1 kept host times */
		snap_timers_restore(&chip);
	if (ops->vm_set_irqchip(vm->accel, &chip, e))
		return err_prefix(e, "restoring the interrupt controllers");
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (ops->vcpu_set_state(vm->vcpus[i].accel, &l->vcpus[i], ACCEL_STATE_ALL, e))
			return err_prefix(e, "restoring vCPU %u", i);
	set_legacy(vm, &l->legacy);
	return 0;
}

static int create_vm_src(struct vm **out, const struct snap_loaded *l, struct vm_restore_src *rs,
                         const struct vm_virtio_config *virtio, const struct vm_restore_opts *o,
                         struct err *e)
{
	enum accel_kind want = o->accel == ACCEL_AUTO ? (enum accel_kind)l->h.accel : o->accel;
	struct vm_config cfg = {
	    .kernel = "(saved)", /* not read: the kernel is in the saved memory */
	    .cpus = l->h.cpus,
	    .memory = l->h.memory,
	    .console_out = o->console_out,
	    .console_in = o->console_in,
	    .console_escape = o->console_escape,
	    .cpu_edits = &l->cfg.edits,
	    .kvm_path = o->kvm_path,
	    .accel = want,
	};
	if (virtio)
		cfg.virtio = *virtio;
	rs->cpuid = l->cpuid;
	rs->ncpuid = l->ncpuid;
	struct vm *vm;
	if (vm_create_from(&vm, &cfg, rs, e))
		return -1;
	if (check_cpu(vm, &l->h, e)) {
		vm_destroy(vm);
		return -1;
	}
	*out = vm;
	return 0;
}

int snap_create_vm(struct vm **out, const struct snap_loaded *l, int mem_fd, uint64_t mem_off,
                   const struct vm_virtio_config *virtio, const struct vm_restore_opts *o,
                   struct err *e)
{
	struct vm_restore_src rs = {.fd = mem_fd, .mem_off = mem_off};
	return create_vm_src(out, l, &rs, virtio, o, e);
}

/* A separate memory file: open, and at least as large as the memory. */
static int open_memfile(const struct snap_loaded *l, const char *path, struct err *e)
{
	if (!path)
		return err_set(e, ERR_INPUT,
		               "its memory is in a separate file: name it "
		               "(--mem-file, or mem_backend in /snapshot/load)");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		err_sys(e, "memory file %s: cannot open", path);
		e->kind = ERR_INPUT;
	} else if ((uint64_t)st.st_size < l->h.memory) {
		err_set(e, ERR_INPUT,
		        "memory file %s has %llu bytes, the snapshot's memory is %llu", path,
		        (unsigned long long)st.st_size, (unsigned long long)l->h.memory);
	} else {
		return fd;
	}
	if (fd >= 0)
		close(fd);
	return -1;
}

/* The VM with its memory from where the snapshot keeps it. */
static int create_vm(struct vm **out, int fd, struct snap_loaded *l,
                     const struct vm_virtio_config *virtio, const struct vm_restore_opts *o,
                     struct err *e)
{
	struct vm_restore_src rs = {.fd = fd};
	struct mem_chunk_src chunks;
	if (o->mem_path && !l->memfile)
		return err_set(e, ERR_INPUT,
		               "its memory is in the snapshot file: no memory file "
		               "is used");
	if (l->memz) {
		if (snap_memz_source(fd, l->memz, &chunks, e))
			return -1;
		l->memz = NULL; /* the source's now */
		rs = (struct vm_restore_src){.fd = -1, .chunks = &chunks, .eager = o->memory_eager};
	} else if (l->memfile) {
		if ((rs.fd = open_memfile(l, o->mem_path, e)) < 0)
			return -1;
	} else {
		rs.mem_off = snap_find(&l->h, SNAP_SEC_MEMORY)->offset;
	}
	int rc = create_vm_src(out, l, &rs, virtio, o, e);
	if (l->memfile)
		close(rs.fd); /* the private mapping keeps the file's pages reachable */
	return rc;
}

static int create(struct vm **out, const char *path, int fd, struct snap_loaded *l,
                  const struct vm_restore_opts *o, struct err *e)
{
	/* the devices as configured, disks checked or extracted */
	struct vm_virtio_config *virtio = calloc(1, sizeof(*virtio));
	if (!virtio)
		return err_sys(e, "allocating");
	if (l->dev && snap_devices_prepare(fd, path, l->dev, o->disk_dir, o->net_overrides,
	                                   o->n_net_overrides, virtio, e)) {
		free(virtio);
		return -1;
	}
	if (!l->dev && o->n_net_overrides) {
		free(virtio);
		return err_set(e, ERR_INPUT, "network override: the snapshot has no interfaces");
	}
	if (o->names)
		*o->names = l->dev ? l->dev->names : (struct vm_device_names){0};
	struct vm *vm;
	int rc = create_vm(&vm, fd, l, l->dev ? virtio : NULL, o, e);
	if (rc == 0 &&
	    (snap_state_set(vm, l, e) || (l->dev && snap_devices_restore(vm, l->dev, e)))) {
		vm_destroy(vm);
		rc = -1;
	}
	if (rc && l->dev)
		snap_disks_discard(l->dev, virtio, l->dev->ndisks);
	free(virtio);
	if (rc == 0)
		*out = vm;
	return rc;
}

int vm_restore(struct vm **out, const char *path, const struct vm_restore_opts *o, struct err *e)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_sys(e, "snapshot %s: cannot open", path);
		e->kind = ERR_INPUT;
		return -1;
	}
	struct snap_loaded *l = calloc(1, sizeof(*l));
	int rc = l ? 0 : err_sys(e, "allocating");
	if (rc == 0)
		rc = snap_load(fd, l, e) || create(out, path, fd, l, o, e) ? -1 : 0;
	if (rc && e->kind == ERR_INPUT)
		err_prefix(e, "snapshot %s", path);
	snap_loaded_free(l);
	close(fd); /* the private mapping keeps the file's pages reachable */
	return rc;
}

int vm_snapshot_verify(const char *path, unsigned *cpus, uint64_t *memory, enum accel_kind *accel,
                       struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_sys(e, "snapshot %s: cannot open", path);
		e->kind = ERR_INPUT;
		return -1;
	}
	struct snap_loaded *l = calloc(1, sizeof(*l));
	int rc = l ? snap_verify(fd, l, e) : err_sys(e, "allocating");
	if (rc == 0) {
		*cpus = l->h.cpus;
		*memory = l->h.memory;
		*accel = (enum accel_kind)l->h.accel;
	} else if (e->kind == ERR_INPUT) {
		err_prefix(e, "snapshot %s", path);
	}
	snap_loaded_free(l);
	close(fd);
	return rc;
}
