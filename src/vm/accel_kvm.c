/* SPDX-License-Identifier: Apache-2.0 */
/* The KVM accelerator: every KVM ioctl capsa makes, except the state
 * conversions in accel_kvm_state.c. KVM keeps the interrupt controllers
 * (in-kernel irqchip and PIT) and reports port I/O and MMIO as exits, which
 * are dispatched to the machine's buses here. Kicks: the vCPU thread runs
 * KVM_RUN with the kick signal unblocked only inside the guest
 * (KVM_SET_SIGNAL_MASK), so a kick sent while the thread handles an exit
 * stays pending and makes the next KVM_RUN return at once; immediate_exit
 * covers the same window where KVM supports it. */
#include "vm/accel_kvm.h"

#include "mem/dirty.h"
#include "vm/x86/layout.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE    0x2ff

struct kvm_vm {
	struct accel_vm base;
	struct kvm_host host;
	int fd;
	struct accel_vm_config cfg;
	/* pages devices wrote while dirty logging is on (KVM's own log only
	 * sees the guest's writes) */
	struct gm_dirty dev_dirty;
};

struct kvm_vcpu {
	struct accel_vcpu base;
	struct kvm_vm *vm;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	int thread_known;
};

static void on_kick(int sig)
{
	(void)sig;
}

static void dma_written(void *ctx, uint64_t gpa, uint64_t len)
{
	struct kvm_vm *vm = ctx;
	gm_dirty_mark(&vm->dev_dirty, vm->cfg.mem, gpa, len);
}

static int kvm_vm_create(struct accel_vm **out, const struct accel_vm_config *c, struct err *e)
{
	*out = NULL;
	struct kvm_vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return err_sys(e, "allocating the KVM VM");
	vm->base.ops = &accel_kvm_ops;
	vm->base.kind = ACCEL_KVM;
	vm->fd = -1;
	vm->cfg = *c;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_kick;
	sigemptyset(&sa.sa_mask);
	if (kvm_host_open(&vm->host, c->kvm_path ? c->kvm_path : "/dev/kvm", e))
		goto fail;
	if ((int)c->ncpus > vm->host.max_vcpus) {
		err_set(e, ERR_INPUT, "--cpus %u: this host's KVM allows at most %d", c->ncpus,
		        vm->host.max_vcpus);
		goto fail;
	}
	if (sigaction(accel_kick_signal(), &sa, NULL)) {
		err_sys(e, "installing the vCPU kick signal handler");
		goto fail;
	}
	vm->fd = ioctl(vm->host.fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		err_sys(e, "KVM_CREATE_VM");
		goto fail;
	}
	uint64_t ident = LAYOUT_IDENT_MAP;
	struct kvm_pit_config pit = {.flags = 0};
	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_TSS)) {
		err_sys(e, "KVM_SET_TSS_ADDR");
	} else if (ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &ident)) {
		err_sys(e, "KVM_SET_IDENTITY_MAP_ADDR");
	} else if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0)) {
		err_sys(e, "KVM_CREATE_IRQCHIP");
	} else if (ioctl(vm->fd, KVM_CREATE_PIT2, &pit)) {
		err_sys(e, "KVM_CREATE_PIT2");
	} else {
		c->mem->on_write_ctx = vm;
		c->mem->on_write = dma_written;
		*out = &vm->base;
		return 0;
	}
fail:
	accel_kvm_ops.vm_destroy(&vm->base);
	return -1;
}

static void kvm_vm_destroy(struct accel_vm *avm)
{
	struct kvm_vm *vm = (struct kvm_vm *)avm;
	if (!vm)
		return;
	if (vm->cfg.mem && vm->cfg.mem->on_write == dma_written)
		vm->cfg.mem->on_write = NULL;
	gm_dirty_free(&vm->dev_dirty);
	if (vm->fd >= 0)
		close(vm->fd);
	kvm_host_close(&vm->host);
	free(vm);
}

static unsigned kvm_max_vcpus(struct accel_vm *avm)
{
	return (unsigned)((struct kvm_vm *)avm)->host.max_vcpus;
}

static struct cpuid_entry *kvm_supported_cpuid(struct accel_vm *avm, size_t *n, struct err *e)
{
	return kvm_host_supported_cpuid(&((struct kvm_vm *)avm)->host, n, e);
}

/* KVM_SET_USER_MEMORY_REGION waits for an SRCU grace period (milliseconds
 * on some hosts): the VM core calls this on a thread of its own. */
static int set_slots(struct kvm_vm *vm, uint32_t flags, struct err *e)
{
	const struct guest_mem *gm = vm->cfg.mem;
	for (unsigned i = 0; i < gm->n; i++) {
		struct kvm_userspace_memory_region r = {
		    .slot = i,
		    .flags = flags,
		    .guest_phys_addr = gm->r[i].gpa,
		    .memory_size = gm->r[i].size,
		    .userspace_addr = (uint64_t)(uintptr_t)gm->r[i].host,
		};
		if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r))
			return err_sys(e, "KVM_SET_USER_MEMORY_REGION slot %u", i);
	}
	return 0;
}

static int kvm_map_memory(struct accel_vm *avm, struct err *e)
{
	return set_slots((struct kvm_vm *)avm, 0, e);
}

/* Dirty logging: KVM_MEM_LOG_DIRTY_PAGES on every slot (slot i is region
 * i, so a slot's pages follow the previous slots' in the RAM numbering of
 * mem/dirty.h), KVM_GET_DIRTY_LOG to fetch and clear; device writes come
 * from the guest_mem write listener. */
static int kvm_dirty_start(struct accel_vm *avm, struct err *e)
{
	struct kvm_vm *vm = (struct kvm_vm *)avm;
	if (gm_dirty_start(&vm->dev_dirty, vm->cfg.mem, e))
		return -1;
	if (set_slots(vm, KVM_MEM_LOG_DIRTY_PAGES, e)) {
		gm_dirty_stop(&vm->dev_dirty);
		return err_prefix(e, "starting dirty-page logging");
	}
	return 0;
}

static int kvm_dirty_fetch(struct accel_vm *avm, uint64_t *bits, struct err *e)
{
	struct kvm_vm *vm = (struct kvm_vm *)avm;
	const struct guest_mem *gm = vm->cfg.mem;
	uint64_t base = 0; /* first page of the slot */
	for (unsigned i = 0; i < gm->n; i++) {
		uint64_t n = gm->r[i].size / 4096;
		uint64_t *log = calloc(gm_dirty_words(n) ? gm_dirty_words(n) : 1, 8);
		if (!log)
			return err_sys(e, "allocating the dirty log");
		struct kvm_dirty_log d = {.slot = i, .dirty_bitmap = log};
		if (ioctl(vm->fd, KVM_GET_DIRTY_LOG, &d)) {
			free(log);
			return err_sys(e, "KVM_GET_DIRTY_LOG slot %u", i);
		}
		for (uint64_t w = 0; w < gm_dirty_words(n); w++)
			for (uint64_t b = log[w]; b; b &= b - 1) {
				uint64_t p = base + w * 64 + (uint64_t)__builtin_ctzll(b);
				bits[p / 64] |= 1ULL << (p % 64);
			}
		free(log);
		base += n;
	}
	gm_dirty_take(&vm->dev_dirty, bits);
	return 0;
}

static void kvm_dirty_stop(struct accel_vm *avm)
{
	struct kvm_vm *vm = (struct kvm_vm *)avm;
	struct err e = {0};
	gm_dirty_stop(&vm->dev_dirty);
	set_slots(vm, 0, &e); /* logging left on only costs speed */
}

static int set_cpuid(int fd, const struct cpuid_entry *ent, size_t n, struct err *e)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
	if (!c)
		return err_sys(e, "allocating CPUID");
	memcpy(c->entries, ent, n * sizeof(struct kvm_cpuid_entry2));
	c->nent = (uint32_t)n;
	int rc = ioctl(fd, KVM_SET_CPUID2, c);
	free(c);
	return rc ? err_sys(e, "KVM_SET_CPUID2") : 0;
}

/* What KVM's reset state lacks: MSRs Linux expects initialised, the FPU
 * control words, and the LINT pins wired as on a PC (ExtINT, NMI). */
static int init_vcpu_state(struct kvm_vcpu *v, struct err *e)
{
	static const struct {
		uint32_t index;
		uint64_t value;
	} msrs[] = {
	    {0x174, 0},
	    {0x175, 0},
	    {0x176, 0},
	    {0xc0000081, 0},
	    {0xc0000082, 0},
	    {0xc0000083, 0},
	    {0xc0000084, 0},
	    {0xc0000102, 0},
	    {MSR_IA32_MISC_ENABLE, 1},          /* fast string operations */
	    {MSR_MTRR_DEF_TYPE, (1 << 11) | 6}, /* MTRRs on, default write-back */
	};
	enum { N = sizeof(msrs) / sizeof(msrs[0]) };
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry ent[N];
	} m;
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = N;
	for (unsigned i = 0; i < N; i++)
		m.ent[i] = (struct kvm_msr_entry){.index = msrs[i].index, .data = msrs[i].value};
	int n = ioctl(v->fd, KVM_SET_MSRS, &m);
	if (n < 0)
		return err_sys(e, "KVM_SET_MSRS");
	if (n != N)
		return err_set(e, ERR_SYSTEM, "KVM_SET_MSRS: KVM refused MSR %#x", msrs[n].index);

	struct kvm_fpu fpu;
	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	if (ioctl(v->fd, KVM_SET_FPU, &fpu))
		return err_sys(e, "KVM_SET_FPU");

	struct kvm_lapic_state la;
	if (ioctl(v->fd, KVM_GET_LAPIC, &la))
		return err_sys(e, "KVM_GET_LAPIC");
	x86_lapic_wire_lints((uint8_t *)la.regs);
	if (ioctl(v->fd, KVM_SET_LAPIC, &la))
		return err_sys(e, "KVM_SET_LAPIC");
	return 0;
}

static void kvm_vcpu_destroy(struct accel_vcpu *av)
{
	struct kvm_vcpu *v = (struct kvm_vcpu *)av;
	if (!v)
		return;
	if (v->run)
		munmap(v->run, (size_t)v->vm->host.vcpu_mmap_size);
	if (v->fd >= 0)
		close(v->fd);
	free(v);
}

static int kvm_vcpu_create(struct accel_vm *avm, unsigned index, const struct cpuid_entry *cpuid,
                           size_t ncpuid, struct accel_vcpu **out, struct err *e)
{
	struct kvm_vm *vm = (struct kvm_vm *)avm;
	*out = NULL;
	struct kvm_vcpu *v = calloc(1, sizeof(*v));
	if (!v)
		return err_sys(e, "allocating vCPU %u", index);
	v->base = (struct accel_vcpu){avm, index};
	v->vm = vm;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (v->fd < 0) {
		err_sys(e, "KVM_CREATE_VCPU %u", index);
		goto fail;
	}
	void *run = mmap(NULL, (size_t)vm->host.vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	                 v->fd, 0);
	if (run == MAP_FAILED) {
		err_sys(e, "vCPU %u: mapping kvm_run", index);
		goto fail;
	}
	v->run = run;
	if (set_cpuid(v->fd, cpuid, ncpuid, e) || init_vcpu_state(v, e)) {
		err_prefix(e, "vCPU %u", index);
		goto fail;
	}
	*out = &v->base;
	return 0;
fail:
	kvm_vcpu_destroy(&v->base);
	return -1;
}

static int kvm_vcpu_thread_init(struct accel_vcpu *av, struct err *e)
{
	struct kvm_vcpu *v = (struct kvm_vcpu *)av;
	v->thread = pthread_self();
	__atomic_store_n(&v->thread_known, 1, __ATOMIC_RELEASE);
	sigset_t cur;
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	sigdelset(&cur, accel_kick_signal());
	struct {
		struct kvm_signal_mask hdr;
		uint8_t set[8];
	} km;
	km.hdr.len = 8; /* the kernel's sigset size on x86-64 */
	memcpy(km.set, &cur, 8);
	if (ioctl(v->fd, KVM_SET_SIGNAL_MASK, &km))
		return err_sys(e, "vCPU %u: KVM_SET_SIGNAL_MASK", av->index);
	return 0;
}

static void kvm_vcpu_kick(struct accel_vcpu *av)
{
	struct kvm_vcpu *v = (struct kvm_vcpu *)av;
	if (v->vm->host.immediate_exit)
		v->run->immediate_exit = 1;
	if (__atomic_load_n(&v->thread_known, __ATOMIC_ACQUIRE))
		pthread_kill(v->thread, accel_kick_signal());
}

static void drain_kick(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, accel_kick_signal());
	struct timespec zero = {0, 0};
	while (sigtimedwait(&s, NULL, &zero) > 0)
		;
}

static void handle_io(struct kvm_vcpu *v)
{
	struct kvm_run *r = v->run;
	unsigned size = r->io.size;
	uint64_t total = (uint64_t)size * r->io.count;
	if ((size != 1 && size != 2 && size != 4) ||
	    r->io.data_offset + total > (uint64_t)v->vm->host.vcpu_mmap_size)
		return;
	uint8_t *p = (uint8_t *)r + r->io.data_offset;
	for (uint32_t i = 0; i < r->io.count; i++, p += size) {
		if (r->io.direction == KVM_EXIT_IO_OUT)
			iobus_write(v->vm->cfg.pio, r->io.port, p, size);
		else
			iobus_read(v->vm->cfg.pio, r->io.port, p, size);
	}
}

static void handle_mmio(struct kvm_vcpu *v)
{
	struct kvm_run *r = v->run;
	unsigned len = r->mmio.len;
	if (len == 0 || len > sizeof(r->mmio.data))
		return;
	if (r->mmio.is_write)
		iobus_write(v->vm->cfg.mmio, r->mmio.phys_addr, r->mmio.data, len);
	else
		iobus_read(v->vm->cfg.mmio, r->mmio.phys_addr, r->mmio.data, len);
}

/* Turn a KVM exit into an accel exit; 1 if it was handled here. */
static int translate_exit(struct kvm_vcpu *v, struct accel_exit *x)
{
	struct kvm_run *r = v->run;
	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(v);
		return 1;
	case KVM_EXIT_MMIO:
		handle_mmio(v);
		return 1;
	case KVM_EXIT_HLT:
	case KVM_EXIT_INTR:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		x->kind = ACCEL_EXIT_NONE;
		return 0;
	case KVM_EXIT_SHUTDOWN:
		x->kind = ACCEL_EXIT_CRASH;
		snprintf(x->what, sizeof(x->what), "triple fault (KVM_EXIT_SHUTDOWN)");
		return 0;
	case KVM_EXIT_SYSTEM_EVENT:
		if (r->system_event.type == KVM_SYSTEM_EVENT_RESET) {
			x->kind = ACCEL_EXIT_RESET;
		} else if (r->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN) {
			x->kind = ACCEL_EXIT_POWEROFF;
		} else {
			x->kind = ACCEL_EXIT_CRASH;
			snprintf(x->what, sizeof(x->what), "guest system event %u",
			         r->system_event.type);
		}
		return 0;
	case KVM_EXIT_INTERNAL_ERROR:
		x->kind = ACCEL_EXIT_CRASH;
		snprintf(x->what, sizeof(x->what), "KVM internal error, suberror %u%s",
		         r->internal.suberror,
		         r->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
		             ? " (instruction emulation failed)"
		             : "");
		return 0;
	case KVM_EXIT_FAIL_ENTRY:
		x->kind = ACCEL_EXIT_CRASH;
		snprintf(x->what, sizeof(x->what), "VM entry failed, hardware reason %#llx",
		         (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
		return 0;
	default:
		x->kind = ACCEL_EXIT_CRASH;
		snprintf(x->what, sizeof(x->what), "unhandled KVM exit reason %u", r->exit_reason);
		return 0;
	}
}

static void kvm_vcpu_run(struct accel_vcpu *av, struct accel_exit *x)
{
	struct kvm_vcpu *v = (struct kvm_vcpu *)av;
	x->what[0] = '\0';
	for (;;) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				drain_kick();
				v->run->immediate_exit = 0;
				x->kind = ACCEL_EXIT_NONE;
				return;
			}
			x->kind = ACCEL_EXIT_ERROR;
			snprintf(x->what, sizeof(x->what), "KVM_RUN: %s", strerror(errno));
			return;
		}
		if (!translate_exit(v, x))
			return;
	}
}

static void kvm_irq_line(struct accel_vm *avm, unsigned gsi, int level)
{
	struct kvm_irq_level l = {.irq = gsi, .level = (uint32_t)level};
	/* Failure here would mean the irqchip vanished; nothing a device can do. */
	(void)ioctl(((struct kvm_vm *)avm)->fd, KVM_IRQ_LINE, &l);
}

static int kvm_irqfd(struct accel_vm *avm, unsigned gsi, int fd)
{
	struct kvm_irqfd irqfd = {.fd = (uint32_t)fd, .gsi = gsi};
	return ioctl(((struct kvm_vm *)avm)->fd, KVM_IRQFD, &irqfd) ? -1 : 0;
}

static int kvm_ioeventfd(struct accel_vm *avm, uint64_t addr, uint64_t datamatch, int fd)
{
	struct kvm_ioeventfd io = {
	    .datamatch = datamatch,
	    .addr = addr,
	    .len = 4,
	    .fd = fd,
	    .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
	};
	return ioctl(((struct kvm_vm *)avm)->fd, KVM_IOEVENTFD, &io) ? -1 : 0;
}

static int kvm_get_state(struct accel_vcpu *av, struct x86_vcpu_state *s, unsigned parts,
                         struct err *e)
{
	return kvm_state_get(((struct kvm_vcpu *)av)->fd, s, parts, e);
}

static int kvm_set_state(struct accel_vcpu *av, const struct x86_vcpu_state *s, unsigned parts,
                         struct err *e)
{
	return kvm_state_set(((struct kvm_vcpu *)av)->fd, s, parts, e);
}

static int kvm_get_irqchip(struct accel_vm *avm, struct x86_irqchip_state *s, struct err *e)
{
	return kvm_irqchip_get(((struct kvm_vm *)avm)->fd, s, e);
}

static int kvm_set_irqchip(struct accel_vm *avm, const struct x86_irqchip_state *s, struct err *e)
{
	return kvm_irqchip_set(((struct kvm_vm *)avm)->fd, s, e);
}

const struct accel_ops accel_kvm_ops = {
    .name = "kvm",
    .vm_create = kvm_vm_create,
    .vm_destroy = kvm_vm_destroy,
    .max_vcpus = kvm_max_vcpus,
    .supported_cpuid = kvm_supported_cpuid,
    .map_memory = kvm_map_memory,
    .vcpu_create = kvm_vcpu_create,
    .vcpu_destroy = kvm_vcpu_destroy,
    .vcpu_thread_init = kvm_vcpu_thread_init,
    .vcpu_run = kvm_vcpu_run,
    .vcpu_kick = kvm_vcpu_kick,
    .vcpu_get_state = kvm_get_state,
    .vcpu_set_state = kvm_set_state,
    .irq_line = kvm_irq_line,
    .irqfd = kvm_irqfd,
    .ioeventfd = kvm_ioeventfd,
    .vm_get_irqchip = kvm_get_irqchip,
    .vm_set_irqchip = kvm_set_irqchip,
    .dirty_start = kvm_dirty_start,
    .dirty_fetch = kvm_dirty_fetch,
    .dirty_stop = kvm_dirty_stop,
};
