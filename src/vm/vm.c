/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/vm_internal.h"

#include "lib/clock.h"

#include "vm/migrate/migrate.h"
#include "vm/sandbox.h"

#include "vm/x86/e820.h"
#include "vm/x86/layout.h"
#include "vm/x86/mptable.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

static void irq_set_level(void *ctx, unsigned irq, int level)
{
	struct vm *vm = ctx;
	vm->accel->ops->irq_line(vm->accel, irq, level);
}

static void ctl_request_end(void *ctx, enum vm_end_reason why, int status)
{
	vm_request_end(ctx, why, status);
}

void vm_request_end(struct vm *vm, enum vm_end_reason why, int status)
{
	vm_end_with_report(vm, why, status, NULL);
}

void vm_end_with_report(struct vm *vm, enum vm_end_reason why, int status, const char *report)
{
	int expected = VM_END_NONE;
	if (!atomic_compare_exchange_strong(&vm->end_reason, &expected, (int)why))
		return;
	if (report) {
		size_t n = strnlen(report, sizeof(vm->report) - 1);
		memcpy(vm->report, report, n);
		vm->report[n] = '\0';
	}
	atomic_store(&vm->end_status, status);
	uint64_t one = 1;
	ssize_t w = write(vm->done_fd, &one, sizeof(one));
	(void)w; /* an eventfd write of 1 cannot fail short of overflow */
}

int vm_end_status(enum vm_end_reason why, int status)
{
	switch (why) {
	case VM_END_RESET:
	case VM_END_POWEROFF:
	case VM_END_USER:
	case VM_END_MIGRATED:
		return 0;
	case VM_END_DEBUG_EXIT:
		return status & 0xff;
	case VM_END_SIGNAL:
		return 128 + status;
	default:
		return 1;
	}
}

const char *vm_end_name(enum vm_end_reason why)
{
	static const char *const names[] = {"none", "reset",  "poweroff", "debug-exit", "crash",
	                                    "user", "signal", "error",    "migrated"};
	return (unsigned)why < sizeof(names) / sizeof(names[0]) ? names[why] : "unknown";
}

static int check_config(const struct vm_config *c, struct err *e)
{
	if (!c->kernel || !*c->kernel)
		return err_set(e, ERR_INPUT, "--kernel is required");
	if (c->cpus < 1 || c->cpus > MPTABLE_MAX_CPUS)
		return err_set(e, ERR_INPUT, "--cpus %u: must be between 1 and %d", c->cpus,
		               MPTABLE_MAX_CPUS);
	if (c->memory < VM_MIN_MEMORY || c->memory > VM_MAX_MEMORY)
		return err_set(
		    e, ERR_INPUT, "--memory %llu bytes: must be between %llu MiB and %llu GiB",
		    (unsigned long long)c->memory, VM_MIN_MEMORY >> 20, VM_MAX_MEMORY >> 30);
	if (c->memory & 0xfff)
		return err_set(e, ERR_INPUT, "--memory %llu bytes: not a multiple of 4 KiB",
		               (unsigned long long)c->memory);
	return 0;
}

/* Making memory visible to the guest can wait for an SRCU grace period
 * (milliseconds under KVM); it runs on its own thread while the vCPUs are
 * set up, and vm_create joins it before returning. */
struct memslot_job {
	struct vm *vm;
	pthread_t thread;
	int started; /* the thread exists and must be joined */
	int rc;      /* written by the thread only */
	struct err err;
};

static void *memslot_thread(void *arg)
{
	struct memslot_job *j = arg;
	j->rc = j->vm->accel->ops->map_memory(j->vm->accel, &j->err);
	return NULL;
}

static void lazy_failed(void *ctx, const struct err *e)
{
	vm_end_with_report(ctx, VM_END_ERROR, 1, e->msg);
}

/* The fill thread decompresses what a file says: confine it. */
static int lazy_thread_init(void *ctx, struct err *e)
{
	(void)ctx;
	return sandbox_init(e) || sandbox_enter_thread(SANDBOX_UFFD, e) ? -1 : 0;
}

/* Memory from compressed chunks: filled on first touch if userfaultfd
 * serves here, else all at once. */
static int fill_memory(struct vm *vm, struct err *e)
{
	struct mem_chunk_src src = vm->chunks;
	vm->chunks.release = NULL; /* taken */
	int rc = 1;
	if (!vm->restore->eager)
		rc = mem_lazy_start(&vm->lazy, vm->ram, vm->ram_size, &src,
		                    &(struct mem_lazy_hooks){lazy_failed, lazy_thread_init, vm}, e);
	if (rc == 1)
		rc = mem_fill_all(vm->ram, vm->ram_size, &src, e);
	else if (rc == 0)
		return 0; /* the fill thread owns src */
	src.release(src.ctx);
	return rc;
}

static int reserve_memory(struct vm *vm, struct err *e)
{
	/* A restored VM maps the snapshot's memory privately: pages load on
	 * first touch and the guest's writes never reach the file. */
	if (vm->restore && vm->restore->fd >= 0) {
		vm->ram =
		    mmap(NULL, vm->ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE,
		         vm->restore->fd, (off_t)vm->restore->mem_off);
		vm->ram_from_file = 1;
	} else
		vm->ram = mmap(NULL, vm->ram_size, PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		return err_sys(e, "reserving %llu MiB of guest memory",
		               (unsigned long long)(vm->ram_size >> 20));
	}
	uint64_t low = e820_lowmem_end(vm->ram_size), high = e820_highmem_size(vm->ram_size);
	vm->mem.r[0] = (struct guest_mem_region){0, low, vm->ram};
	vm->mem.n = 1;
	if (high)
		vm->mem.r[vm->mem.n++] = (struct guest_mem_region){LAYOUT_4G, high, vm->ram + low};
	vm->mem.total = vm->ram_size;
	return vm->chunks.release ? fill_memory(vm, e) : 0;
}

static int map_memory(struct vm *vm, struct memslot_job *job, struct err *e)
{
	job->vm = vm;
	if (!vm->accel->ops->map_memory)
		return 0; /* nothing to wait for: no thread */
	if (pthread_create(&job->thread, NULL, memslot_thread, job) == 0) {
		job->started = 1;
		return 0;
	}
	memslot_thread(job); /* no thread: do it here */
	if (job->rc) {
		*e = job->err;
		return -1;
	}
	return 0;
}

/* Wait for the memory-slot thread; 0 or -1 with its error in *e. */
static int join_memory(struct memslot_job *job, struct err *e)
{
	if (!job->started)
		return 0;
	pthread_join(job->thread, NULL);
	job->started = 0;
	if (job->rc) {
		*e = job->err;
		return -1;
	}
	return 0;
}

static int setup_devices(struct vm *vm, const struct vm_config *cfg, struct err *e)
{
	vm->ctl = (struct vm_control){ctl_request_end, vm};
	struct irq_line com1 = {irq_set_level, vm, SERIAL_COM1_IRQ};
	serial_init(&vm->serial, &com1, cfg->console_out);
	struct irq_line kbd = {irq_set_level, vm, 1}, aux = {irq_set_level, vm, 12};
	i8042_init(&vm->i8042, &vm->ctl, &kbd, &aux);
	cmos_init(&vm->cmos, vm->ram_size);
	pthread_mutex_init(&vm->misc_lock, NULL);
	iobus_init(&vm->pio);
	iobus_init(&vm->mmio);
	if (iobus_register(&vm->pio, SERIAL_COM1_BASE, SERIAL_NPORTS, &serial_ops, &vm->serial,
	                   &vm->serial.lock, e) ||
	    /* two one-byte ranges: port 0x61 between them is the PIT's (in KVM
	     * or in user space under the software CPU) */
	    iobus_register(&vm->pio, I8042_DATA_PORT, 1, &i8042_data_ops, &vm->i8042,
	                   &vm->i8042.lock, e) ||
	    iobus_register(&vm->pio, I8042_CMD_PORT, 1, &i8042_cmd_ops, &vm->i8042, &vm->i8042.lock,
	                   e) ||
	    iobus_register(&vm->pio, CMOS_PORT, 2, &cmos_ops, &vm->cmos, &vm->cmos.lock, e) ||
	    iobus_register(&vm->pio, PCI_CONFIG_PORT, 8, &pci_nodev_ops, &vm->pci, &vm->misc_lock,
	                   e) ||
	    iobus_register(&vm->pio, POST_PORT, 1, &post_ops, NULL, NULL, e) ||
	    iobus_register(&vm->pio, DEBUG_EXIT_PORT, 1, &debug_exit_ops, &vm->ctl, NULL, e))
		return -1;
	return 0;
}

static int setup_cpus(struct vm *vm, const struct vm_config *cfg, struct err *e)
{
	unsigned max = vm->accel->ops->max_vcpus(vm->accel);
	if (vm->ncpus > max)
		return err_set(e, ERR_INPUT, "--cpus %u: this host's %s allows at most %u",
		               vm->ncpus, accel_kind_name(vm->accel->kind), max);
	if (vm->restore) {
		vm->ncpuid = vm->restore->ncpuid;
		vm->cpuid = calloc(vm->ncpuid, sizeof(*vm->cpuid));
		if (vm->cpuid)
			memcpy(vm->cpuid, vm->restore->cpuid, vm->ncpuid * sizeof(*vm->cpuid));
	} else {
		vm->cpuid = vm->accel->ops->supported_cpuid(vm->accel, &vm->ncpuid, e);
	}
	if (!vm->cpuid)
		return vm->restore ? err_sys(e, "allocating CPUID") : -1;
	if (cfg->cpu_edits && !vm->restore)
		vm->edits = *cfg->cpu_edits;
	vm->tmpl = (struct x86_cpu_template){vm->cpuid, vm->ncpuid, &vm->edits, vm->ncpus};
	uint32_t sig, feat;
	x86_cpu_signature(&vm->tmpl, &sig, &feat);
	uint8_t *mp = gm_ptr(&vm->mem, LAYOUT_MPTABLE, 0x10000);
	if (!vm->restore &&
	    (!mp || !mptable_build(mp, 0x10000, LAYOUT_MPTABLE, vm->ncpus, sig, feat)))
		return err_set(e, ERR_INTERNAL, "MP table does not fit");
	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return err_sys(e, "allocating vCPUs");
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vcpu_create(vm, &vm->vcpus[i], i, e))
			return -1;
	return 0;
}

/* Everything that can fail because of the user's input happens before an
 * accelerator is opened, so bad options give the same message with or
 * without KVM. */
static int setup_machine(struct vm *vm, const struct vm_config *cfg, struct err *e)
{
	struct boot_config bc = {cfg->kernel, cfg->initrd, cfg->cmdline, cfg->memory, 1};
	if (reserve_memory(vm, e))
		return -1;
	if (!vm->restore &&
	    (x86_boot_load(&vm->mem, &bc, &vm->boot, e) || x86_boot_tables(&vm->mem, &vm->boot, e)))
		return -1;
	if (setup_devices(vm, cfg, e) || vm_virtio_attach(vm, &cfg->virtio, e))
		return -1;
	return 0;
}

/* The guest may stop writing for a while: the console's held-back bytes
 * go out (on an interrupt, those held for a while: the guest may go on
 * with the line after it). */
static void console_idle(void *ctx, int sleeping)
{
	if (sleeping)
		serial_flush(ctx);
	else
		serial_flush_aged(ctx);
}

static int setup_accel(struct vm *vm, const struct vm_config *cfg, struct err *e)
{
	struct accel_vm_config ac = {
	    .ncpus = vm->ncpus,
	    .mem = &vm->mem,
	    .pio = &vm->pio,
	    .mmio = &vm->mmio,
	    .kvm_path = cfg->kvm_path,
	    .ending = &vm->end_reason,
	    .idle = console_idle,
	    .idle_ctx = &vm->serial,
	};
	if (accel_vm_create(cfg->accel, &ac, &vm->accel, vm->accel_note, sizeof(vm->accel_note), e))
		return -1;
	/* Console output a line at a time where the accelerator says when
	 * the guest goes idle; a byte at a time otherwise. */
	serial_set_buffered(&vm->serial, vm->accel->ops->calls_idle);
	struct memslot_job mj = {0};
	if (map_memory(vm, &mj, e))
		return -1;
	int rc = vm_virtio_connect(vm, e) || setup_cpus(vm, cfg, e) ? -1 : 0;
	struct err join_err = {0};
	if (join_memory(&mj, &join_err) && !rc) {
		*e = join_err;
		rc = -1;
	}
	return rc;
}

int vm_create(struct vm **out, const struct vm_config *cfg, struct err *e)
{
	return vm_create_from(out, cfg, NULL, e);
}

int vm_create_from(struct vm **out, const struct vm_config *cfg, const struct vm_restore_src *rs,
                   struct err *e)
{
	*out = NULL;
	int bad = check_config(cfg, e);
	struct vm *vm = bad ? NULL : calloc(1, sizeof(*vm));
	if (!vm) {
		if (rs && rs->chunks)
			rs->chunks->release(rs->chunks->ctx);
		return bad ? -1 : err_sys(e, "allocating VM");
	}
	vm->restore = rs;
	if (rs && rs->chunks)
		vm->chunks = *rs->chunks;
	vm->done_fd = vm->console.stop_fd = vm->incoming_fd = -1;
	vm->ram_size = cfg->memory;
	vm->ncpus = cfg->cpus;
	pthread_mutex_init(&vm->report_lock, NULL);
	vm_pause_init(vm);
	vm->console.in_fd = cfg->console_in;
	vm->console.escape = cfg->console_escape;
	vm->done_fd = eventfd(0, EFD_CLOEXEC);
	if (vm->done_fd < 0) {
		err_sys(e, "eventfd");
		goto fail;
	}
	if (setup_machine(vm, cfg, e) || setup_accel(vm, cfg, e))
		goto fail;
	vm->restore = NULL; /* the caller's; only needed while creating */
	*out = vm;
	return 0;
fail:
	vm_destroy(vm);
	return -1;
}

enum accel_kind vm_accel(const struct vm *vm, const char **why_not_kvm)
{
	if (why_not_kvm)
		*why_not_kvm = vm->accel_note;
	return vm->accel->kind;
}

const struct boot_entry *vm_boot(const struct vm *vm)
{
	return &vm->boot;
}

static double now(void)
{
	return (double)clock_mono_ns() / 1e9;
}

/* Once the vCPUs stopped: the chunks mapped from a snapshot that the fill
 * thread had not checked yet are checked now; a corrupt one, not what the
 * guest did with it (a crash, an exit), is why the VM ended. */
static void check_memory(struct vm *vm)
{
	struct err e = {0};
	if (!vm->lazy || !mem_lazy_check_all(vm->lazy, &e))
		return;
	snprintf(vm->report, sizeof(vm->report), "%s", e.msg);
	atomic_store(&vm->end_status, 1);
	atomic_store(&vm->end_reason, VM_END_ERROR);
}

int vm_run(struct vm *vm, struct vm_result *res, struct err *e)
{
	memset(res, 0, sizeof(*res));
	double t0 = now();
	if (sandbox_init(e))
		return -1;
	/* vCPU threads inherit a mask with the kick signal blocked; KVM_RUN
	 * unblocks it only while in the guest (KVM_SET_SIGNAL_MASK). */
	sigset_t kick, old;
	sigemptyset(&kick);
	sigaddset(&kick, accel_kick_signal());
	pthread_sigmask(SIG_BLOCK, &kick, &old);
	/* A VM received by live migration: its vCPU threads start parked and
	 * go once the source has been told that they run (the answer is not
	 * held up by a vCPU thread that is already busy). */
	int held = vm->incoming_fd >= 0;
	if (held)
		atomic_store(&vm->pause.requested, 1);
	int rc = 0;
	for (unsigned i = 0; i < vm->ncpus && rc == 0; i++)
		rc = vcpu_start(&vm->vcpus[i], e);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0)
		rc = console_start(vm, e);
	if (vm_migrate_started(vm, rc, e)) /* a received VM's source learns it runs */
		rc = -1;
	if (held && rc == 0) { /* else they stay parked until the VM stops */
		atomic_store(&vm->pause.requested, 0);
		vm_pause_wake_all(vm);
	}
	if (rc)
		vm_end_with_report(vm, VM_END_ERROR, 1, e->msg);

	for (;;) {
		struct pollfd p = {vm->done_fd, POLLIN, 0};
		int n = poll(&p, 1, -1);
		if (n > 0)
			break;
		if (n < 0 && errno != EINTR) {
			vm_end_with_report(vm, VM_END_ERROR, 1,
			                   "poll on the VM's end event failed");
			break;
		}
	}
	atomic_store(&vm->stopping, 1);
	vm_pause_wake_all(vm);
	serial_discard_output(&vm->serial);
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_kick_and_join(&vm->vcpus[i]);
	serial_flush(&vm->serial); /* what the guest wrote last, unless stuck */
	console_stop(vm);
	check_memory(vm);

	res->reason = (enum vm_end_reason)atomic_load(&vm->end_reason);
	res->status = vm_end_status(res->reason, atomic_load(&vm->end_status));
	memcpy(res->report, vm->report, sizeof(res->report));
	res->seconds = now() - t0;
	const struct accel_ops *ops = vm->accel->ops;
	for (unsigned i = 0; ops->vcpu_instructions && i < vm->ncpus; i++)
		res->instructions += ops->vcpu_instructions(vm->vcpus[i].accel);
	if (rc)
		return -1;
	return 0;
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	vm_migrate_free(vm);  /* its thread reads guest memory */
	vm_virtio_detach(vm); /* its I/O threads use guest memory */
	if (vm->vcpus) {
		for (unsigned i = 0; i < vm->ncpus; i++)
			vcpu_destroy(&vm->vcpus[i]);
		free(vm->vcpus);
	}
	if (vm->accel)
		vm->accel->ops->vm_destroy(vm->accel);
	if (vm->done_fd >= 0)
		close(vm->done_fd);
	mem_lazy_stop(vm->lazy); /* nothing touches guest memory any more */
	if (vm->chunks.release)
		vm->chunks.release(vm->chunks.ctx);
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	if (vm->ctl.request_end) {
		serial_destroy(&vm->serial);
		i8042_destroy(&vm->i8042);
		cmos_destroy(&vm->cmos);
		pthread_mutex_destroy(&vm->misc_lock);
	}
	pthread_mutex_destroy(&vm->report_lock);
	vm_pause_destroy(vm);
	free(vm->cpuid);
	free(vm);
}
