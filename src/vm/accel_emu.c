/* SPDX-License-Identifier: Apache-2.0 */
/* The software-CPU accelerator: capsa's x86-64 interpreter (src/vm/emu)
 * with the PC chipset in user space (devices/x86/irqchip.h: PIC, PIT with
 * port 0x61, I/O APIC, one local APIC per vCPU, and the timer thread that
 * fires their timers). Port I/O and MMIO are served on the vCPU's own
 * thread through the CPU's bus callbacks, the local APIC page at
 * 0xfee00000 by that vCPU's own LAPIC. A halted vCPU sleeps on its
 * condition variable until its LAPIC says an interrupt may be deliverable
 * (notify, INIT, SIPI, NMI) or it is kicked. */
#include "vm/accel.h"

#include "devices/x86/irqchip.h"
#include "vm/emu/cpu.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The guest TSC frequency the software CPU advertises (CPUID 0x15/0x16). */
#define EMU_TSC_KHZ 2000000ULL

struct emu_vm;

struct emu_vcpu {
	struct accel_vcpu base;
	struct emu_vm *vm;
	struct emu_cpu *cpu; /* NULL until vcpu_create */
	struct lapic *lapic; /* the irqchip's, for this vCPU */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int wake;          /* guarded by lock: something may have changed */
	atomic_int kicked; /* vcpu_kick since the last return */
};

struct emu_vm {
	struct accel_vm base;
	struct accel_vm_config cfg;
	struct emu_mem *mem;
	struct x86_clock clock;
	struct x86_irqchip *chip;
	int chip_running;
	/* Every vCPU exists as an interrupt target from the start;
	 * vcpu_create gives each its CPU. */
	struct emu_vcpu *vcpus;
};

static void dma_written(void *ctx, uint64_t gpa, uint64_t len)
{
	emu_mem_written(ctx, gpa, len);
}

/* The timer thread calls into the vCPUs: stop it before any goes.
 * Idempotent. */
static void stop_chip(struct emu_vm *vm)
{
	if (vm->chip_running)
		dev_timers_stop(&vm->chip->timers);
	vm->chip_running = 0;
}

static void emu_vm_destroy(struct accel_vm *avm)
{
	struct emu_vm *vm = (struct emu_vm *)avm;
	if (!vm)
		return;
	stop_chip(vm);
	if (vm->chip)
		x86_irqchip_destroy(vm->chip);
	for (unsigned i = 0; vm->vcpus && i < vm->cfg.ncpus; i++) {
		emu_cpu_destroy(vm->vcpus[i].cpu);
		pthread_cond_destroy(&vm->vcpus[i].cond);
		pthread_mutex_destroy(&vm->vcpus[i].lock);
	}
	free(vm->vcpus);
	if (vm->cfg.mem && vm->cfg.mem->on_write == dma_written)
		vm->cfg.mem->on_write = NULL;
	emu_mem_destroy(vm->mem);
	free(vm);
}

static const struct lapic_cpu_ops lapic_cpu;

/* The chipset on the machine's buses (the chips lock themselves). */
static int attach_chip(struct emu_vm *vm, struct err *e)
{
	void **cpus = calloc(vm->cfg.ncpus, sizeof(*cpus));
	if (!cpus)
		return err_sys(e, "allocating vCPUs");
	for (unsigned i = 0; i < vm->cfg.ncpus; i++)
		cpus[i] = &vm->vcpus[i];
	int rc = x86_irqchip_create(&vm->chip, vm->cfg.ncpus, &vm->clock, &lapic_cpu, cpus, e);
	free(cpus);
	if (rc)
		return -1;
	for (unsigned i = 0; i < vm->cfg.ncpus; i++)
		vm->vcpus[i].lapic = &vm->chip->lapic[i];
	struct x86_irqchip_range r[16];
	size_t n = x86_irqchip_ranges(vm->chip, r, 16);
	for (size_t i = 0; i < n; i++)
		if (iobus_register(r[i].mmio ? vm->cfg.mmio : vm->cfg.pio, r[i].base, r[i].len,
		                   r[i].ops, r[i].dev, NULL, e))
			return err_prefix(e, "software CPU chipset");
	if (x86_irqchip_start(vm->chip, e))
		return -1;
	vm->chip_running = 1;
	return 0;
}

static int emu_vm_create(struct accel_vm **out, const struct accel_vm_config *c, struct err *e)
{
	*out = NULL;
	struct emu_vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return err_sys(e, "allocating the software CPU's VM");
	vm->base.ops = &accel_emu_ops;
	vm->base.kind = ACCEL_EMU;
	vm->cfg = *c;
	x86_clock_init(&vm->clock, EMU_TSC_KHZ, 0);
	vm->vcpus = calloc(c->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		free(vm);
		return err_sys(e, "allocating vCPUs");
	}
	for (unsigned i = 0; i < c->ncpus; i++) {
		struct emu_vcpu *v = &vm->vcpus[i];
		v->base = (struct accel_vcpu){&vm->base, i};
		v->vm = vm;
		pthread_mutex_init(&v->lock, NULL);
		pthread_cond_init(&v->cond, NULL);
	}
	if (emu_mem_create(&vm->mem, c->mem, e) || attach_chip(vm, e)) {
		emu_vm_destroy(&vm->base);
		return -1;
	}
	/* Device DMA into a page that held code drops its decoded blocks. */
	c->mem->on_write_ctx = vm->mem;
	c->mem->on_write = dma_written;
	*out = &vm->base;
	return 0;
}

static unsigned emu_max_vcpus(struct accel_vm *avm)
{
	(void)avm;
	return APIC_BUS_MAX - 1; /* the I/O APIC takes the next ID */
}

static struct cpuid_entry *emu_supported_cpuid(struct accel_vm *avm, size_t *n, struct err *e)
{
	(void)avm;
	enum { CAP = 64 };
	struct cpuid_entry *c = calloc(CAP, sizeof(*c));
	if (!c) {
		err_sys(e, "allocating CPUID");
		return NULL;
	}
	*n = emu_cpuid_model(c, CAP, EMU_TSC_KHZ);
	return c;
}

/* Wake the vCPU's thread if it sleeps in a halt. */
static void wake(struct emu_vcpu *v)
{
	pthread_mutex_lock(&v->lock);
	v->wake = 1;
	pthread_cond_signal(&v->cond);
	pthread_mutex_unlock(&v->lock);
}

static void on_notify(void *cpu)
{
	struct emu_vcpu *v = cpu;
	if (v->cpu)
		emu_cpu_notify(v->cpu);
	wake(v);
}

static void on_init(void *cpu)
{
	struct emu_vcpu *v = cpu;
	if (v->cpu)
		emu_cpu_init(v->cpu);
	wake(v);
}

static void on_sipi(void *cpu, uint8_t vector)
{
	struct emu_vcpu *v = cpu;
	if (v->cpu)
		emu_cpu_sipi(v->cpu, vector);
	wake(v);
}

static void on_nmi(void *cpu)
{
	struct emu_vcpu *v = cpu;
	if (v->cpu)
		emu_cpu_nmi(v->cpu);
	wake(v);
}

static const struct lapic_cpu_ops lapic_cpu = {on_notify, on_init, on_sipi, on_nmi};

/* A device may have ended the VM with this access (debug exit, reset):
 * the vCPU stops before its next instruction. */
static void check_ending(struct emu_vcpu *v)
{
	if (v->vm->cfg.ending && atomic_load(v->vm->cfg.ending))
		emu_cpu_kick(v->cpu);
}

static void bus_mmio(void *ctx, uint64_t gpa, uint8_t *data, unsigned len, int is_write)
{
	struct emu_vcpu *v = ctx;
	if (gpa >= LAPIC_BASE && gpa - LAPIC_BASE < LAPIC_SIZE) {
		if (is_write)
			lapic_mmio_write(v->lapic, gpa - LAPIC_BASE, data, len);
		else
			lapic_mmio_read(v->lapic, gpa - LAPIC_BASE, data, len);
	} else if (is_write) {
		iobus_write(v->vm->cfg.mmio, gpa, data, len);
		check_ending(v);
	} else {
		iobus_read(v->vm->cfg.mmio, gpa, data, len);
	}
}

static void bus_pio(void *ctx, uint16_t port, uint8_t *data, unsigned len, int is_write)
{
	struct emu_vcpu *v = ctx;
	if (is_write)
		iobus_write(v->vm->cfg.pio, port, data, len);
	else
		iobus_read(v->vm->cfg.pio, port, data, len);
	check_ending(v);
}

static int bus_msr(void *ctx, uint32_t index, uint64_t *value, int is_write)
{
	struct emu_vcpu *v = ctx;
	if (index == MSR_TSC_DEADLINE && is_write) /* the guest may have moved its TSC */
		lapic_set_tsc_offset(v->lapic, emu_cpu_tsc_offset(v->cpu));
	return lapic_msr(v->lapic, index, value, is_write);
}

static void idle(const struct emu_vm *vm, int sleeping)
{
	if (vm->cfg.idle)
		vm->cfg.idle(vm->cfg.idle_ctx, sleeping);
}

static int bus_intr_ack(void *ctx)
{
	struct emu_vcpu *v = ctx;
	int vec = lapic_ack(v->lapic);
	if (vec >= 0)
		idle(v->vm, 0);
	return vec;
}

/* The CPU itself goes with the VM (emu_vm_destroy), after the timer thread
 * and the chips can no longer reach it. */
static void emu_vcpu_destroy(struct accel_vcpu *av)
{
	if (av)
		stop_chip(((struct emu_vcpu *)av)->vm);
}

/* LINT0 as ExtINT and LINT1 as NMI, as KVM's vCPUs get them. */
static void wire_lints(struct lapic *l)
{
	uint8_t page[LAPIC_PAGE_SIZE];
	lapic_get_state(l, page);
	x86_lapic_wire_lints(page);
	lapic_set_state(l, page);
}

static int emu_vcpu_create(struct accel_vm *avm, unsigned index, const struct cpuid_entry *cpuid,
                           size_t ncpuid, struct accel_vcpu **out, struct err *e)
{
	struct emu_vm *vm = (struct emu_vm *)avm;
	*out = NULL;
	if (index >= vm->cfg.ncpus || vm->vcpus[index].cpu)
		return err_set(e, ERR_INTERNAL, "vCPU %u of %u created twice", index,
		               vm->cfg.ncpus);
	struct emu_vcpu *v = &vm->vcpus[index];
	struct emu_cpu_config cc = {
	    .index = index,
	    .mem = vm->mem,
	    .bus = {v, bus_mmio, bus_pio, bus_msr, bus_intr_ack},
	    .clock = &vm->clock,
	    .cpuid = cpuid,
	    .ncpuid = ncpuid,
	};
	struct emu_cpu *cpu;
	if (emu_cpu_create(&cpu, &cc, e))
		return err_prefix(e, "vCPU %u", index);
	v->cpu = cpu;
	wire_lints(v->lapic);
	*out = &v->base;
	return 0;
}

static int emu_vcpu_thread_init(struct accel_vcpu *av, struct err *e)
{
	(void)av, (void)e;
	return 0;
}

/* Sleep until woken or kicked. `wake` is cleared before each run of the
 * CPU, not here: an event posted while the CPU ran up to its HLT (or
 * while it handled an INIT) leaves `wake` set, so no wake-up is lost. */
static void wait_for_event(struct emu_vcpu *v)
{
	pthread_mutex_lock(&v->lock);
	while (!v->wake && !atomic_load(&v->kicked))
		pthread_cond_wait(&v->cond, &v->lock);
	pthread_mutex_unlock(&v->lock);
}

static void clear_wake(struct emu_vcpu *v)
{
	pthread_mutex_lock(&v->lock);
	v->wake = 0;
	pthread_mutex_unlock(&v->lock);
}

static void run_cpu(struct emu_vcpu *v, struct accel_exit *x)
{
	x->what[0] = '\0';
	for (;;) {
		if (atomic_exchange(&v->kicked, 0)) {
			x->kind = ACCEL_EXIT_NONE;
			return;
		}
		struct emu_exit ex;
		struct err e = {0};
		clear_wake(v);
		if (emu_cpu_run(v->cpu, 0, &ex, &e)) {
			x->kind = ACCEL_EXIT_ERROR;
			snprintf(x->what, sizeof(x->what), "%.180s", e.msg);
			return;
		}
		switch (ex.reason) {
		case EMU_EXIT_KICK: /* the VM core looks whether it is ending */
			atomic_store(&v->kicked, 0);
			x->kind = ACCEL_EXIT_NONE;
			return;
		case EMU_EXIT_BUDGET:
			break;
		case EMU_EXIT_HALT:
		case EMU_EXIT_WAIT_SIPI:
			idle(v->vm, 1);
			wait_for_event(v);
			break;
		case EMU_EXIT_SHUTDOWN:
			x->kind = ACCEL_EXIT_CRASH;
			snprintf(x->what, sizeof(x->what), "triple fault (%.160s)", ex.msg);
			return;
		case EMU_EXIT_INTERNAL:
		default:
			x->kind = ACCEL_EXIT_CRASH;
			snprintf(x->what, sizeof(x->what), "software CPU: %.160s", ex.msg);
			return;
		}
	}
}

static void emu_vcpu_run(struct accel_vcpu *av, struct accel_exit *x)
{
	struct emu_vcpu *v = (struct emu_vcpu *)av;
	run_cpu(v, x);
	emu_cpu_dirty_settle(v->cpu);
}

static void emu_vcpu_kick(struct accel_vcpu *av)
{
	struct emu_vcpu *v = (struct emu_vcpu *)av;
	atomic_store(&v->kicked, 1);
	emu_cpu_kick(v->cpu);
	wake(v);
}

static int emu_get_state(struct accel_vcpu *av, struct x86_vcpu_state *s, unsigned parts,
                         struct err *e)
{
	struct emu_vcpu *v = (struct emu_vcpu *)av;
	(void)e;
	struct x86_vcpu_state all;
	emu_cpu_get_state(v->cpu, &all);
	if (parts & ACCEL_STATE_LAPIC)
		lapic_get_state(v->lapic, all.lapic);
	if (parts & ACCEL_STATE_MSRS) {
		lapic_msr(v->lapic, MSR_TSC_DEADLINE, &all.msr.tsc_deadline, 0);
	}
	if (parts & ACCEL_STATE_SREGS)
		lapic_msr(v->lapic, MSR_APIC_BASE, &all.msr.apic_base, 0);
	accel_state_copy(s, &all, parts);
	return 0;
}

static int emu_set_state(struct accel_vcpu *av, const struct x86_vcpu_state *s, unsigned parts,
                         struct err *e)
{
	struct emu_vcpu *v = (struct emu_vcpu *)av;
	struct x86_vcpu_state all;
	emu_cpu_get_state(v->cpu, &all);
	accel_state_copy(&all, s, parts);
	if (!(parts & ACCEL_STATE_MSRS))
		all.msr.tsc = EMU_TSC_KEEP; /* no drift from the get/set round trip */
	if (emu_cpu_set_state(v->cpu, &all, e))
		return -1;
	if (parts & ACCEL_STATE_SREGS) {
		uint64_t base = s->msr.apic_base;
		if (base)
			lapic_msr(v->lapic, MSR_APIC_BASE, &base, 1);
	}
	if (parts & ACCEL_STATE_LAPIC)
		lapic_set_state(v->lapic, s->lapic);
	if (parts & ACCEL_STATE_MSRS) {
		uint64_t d = s->msr.tsc_deadline;
		lapic_set_tsc_offset(v->lapic, emu_cpu_tsc_offset(v->cpu));
		lapic_msr(v->lapic, MSR_TSC_DEADLINE, &d, 1);
	}
	return 0;
}

static void emu_irq_line(struct accel_vm *avm, unsigned gsi, int level)
{
	x86_irq_set_level(&((struct emu_vm *)avm)->chip->router, gsi, level);
}

static int emu_no_fd(struct accel_vm *avm, unsigned gsi, int fd)
{
	(void)avm, (void)gsi, (void)fd;
	return -1;
}

static int emu_no_ioeventfd(struct accel_vm *avm, uint64_t addr, uint64_t datamatch, int fd)
{
	(void)avm, (void)addr, (void)datamatch, (void)fd;
	return -1;
}

static uint64_t emu_vcpu_instructions(struct accel_vcpu *av)
{
	return emu_cpu_instructions(((struct emu_vcpu *)av)->cpu);
}

static size_t emu_vcpu_recent_pages(struct accel_vcpu *av, uint64_t *pa, size_t max)
{
	return emu_cpu_recent_pages(((struct emu_vcpu *)av)->cpu, pa, max);
}

static int emu_get_irqchip(struct accel_vm *avm, struct x86_irqchip_state *s, struct err *e)
{
	(void)e;
	x86_irqchip_get_state(((struct emu_vm *)avm)->chip, s);
	return 0;
}

static int emu_set_irqchip(struct accel_vm *avm, const struct x86_irqchip_state *s, struct err *e)
{
	(void)e;
	x86_irqchip_set_state(((struct emu_vm *)avm)->chip, s);
	return 0;
}

/* Every vCPU drops write permission from its TLB, so its next store to
 * each page marks it again. */
static void dirty_resync(struct emu_vm *vm)
{
	for (unsigned i = 0; i < vm->cfg.ncpus; i++)
		if (vm->vcpus[i].cpu)
			emu_cpu_dirty_resync(vm->vcpus[i].cpu);
}

static int emu_dirty_start(struct accel_vm *avm, struct err *e)
{
	struct emu_vm *vm = (struct emu_vm *)avm;
	if (emu_mem_dirty_start(vm->mem, e))
		return -1;
	dirty_resync(vm);
	return 0;
}

static int emu_dirty_fetch(struct accel_vm *avm, uint64_t *bits, struct err *e)
{
	(void)e;
	struct emu_vm *vm = (struct emu_vm *)avm;
	emu_mem_dirty_take(vm->mem, bits);
	dirty_resync(vm);
	return 0;
}

static void emu_dirty_stop(struct accel_vm *avm)
{
	emu_mem_dirty_stop(((struct emu_vm *)avm)->mem);
}

const struct accel_ops accel_emu_ops = {
    .name = "emu",
    .calls_idle = 1,
    .vm_create = emu_vm_create,
    .vm_destroy = emu_vm_destroy,
    .max_vcpus = emu_max_vcpus,
    .supported_cpuid = emu_supported_cpuid,
    .map_memory = NULL, /* the CPUs use guest_mem's host mappings directly */
    .vcpu_create = emu_vcpu_create,
    .vcpu_destroy = emu_vcpu_destroy,
    .vcpu_thread_init = emu_vcpu_thread_init,
    .vcpu_run = emu_vcpu_run,
    .vcpu_kick = emu_vcpu_kick,
    .vcpu_get_state = emu_get_state,
    .vcpu_set_state = emu_set_state,
    .irq_line = emu_irq_line,
    .irqfd = emu_no_fd,
    .ioeventfd = emu_no_ioeventfd,
    .vcpu_instructions = emu_vcpu_instructions,
    .vcpu_recent_pages = emu_vcpu_recent_pages,
    .vm_get_irqchip = emu_get_irqchip,
    .vm_set_irqchip = emu_set_irqchip,
    .dirty_start = emu_dirty_start,
    .dirty_fetch = emu_dirty_fetch,
    .dirty_stop = emu_dirty_stop,
};
