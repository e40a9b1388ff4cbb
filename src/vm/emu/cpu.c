/* SPDX-License-Identifier: Apache-2.0 */
/* The vCPU object and its run loop: between blocks it handles the
 * requests other threads post (kick, interrupt, NMI, INIT, SIPI), the
 * interrupt shadow, HLT and the instruction budget; inside a block it
 * calls the decoded handlers one after the other. */
#include "vm/emu/block.h"
#include "vm/emu/ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int emu_cpu_create(struct emu_cpu **out, const struct emu_cpu_config *cfg, struct err *e)
{
	if (!cfg->mem || !cfg->clock)
		return err_set(e, ERR_INTERNAL, "emu: vCPU %u created without memory or clock",
		               cfg->index);
	struct emu_cpu *c = calloc(1, sizeof(*c));
	if (!c)
		return err_sys(e, "emu: allocating vCPU %u", cfg->index);
	c->mem = cfg->mem;
	c->bus = cfg->bus;
	c->clock = cfg->clock;
	c->index = cfg->index;
	c->delivering = -1;
	if (cfg->ncpuid) {
		c->cpuid = calloc(cfg->ncpuid, sizeof(*c->cpuid));
		if (!c->cpuid) {
			free(c);
			return err_sys(e, "emu: allocating CPUID of vCPU %u", cfg->index);
		}
		memcpy(c->cpuid, cfg->cpuid, cfg->ncpuid * sizeof(*c->cpuid));
		c->ncpuid = cfg->ncpuid;
	}
	if (emu_blocks_init(c) < 0 || emu_recent_init(c) < 0) {
		emu_recent_free(c);
		emu_blocks_free(c);
		free(c->cpuid);
		free(c);
		return err_errno(e, ENOMEM, "emu: allocating the code cache of vCPU %u",
		                 cfg->index);
	}
	struct x86_vcpu_state s;
	x86_state_reset(&s, cfg->index);
	/* Every vCPU counts the VM's one clock from power-on: equal TSCs on
	 * all of them, whenever each was created (Linux checks for warps). */
	s.msr.tsc = EMU_TSC_KEEP;
	emu_cpu_set_state(c, &s, e);
	*out = c;
	return 0;
}

void emu_cpu_destroy(struct emu_cpu *c)
{
	if (!c)
		return;
	emu_recent_free(c);
	emu_blocks_free(c);
	free(c->cpuid);
	free(c);
}

void emu_cpu_get_state(const struct emu_cpu *cc, struct x86_vcpu_state *s)
{
	struct emu_cpu *c = (struct emu_cpu *)cc; /* materializing flags is not a state change */
	emu_flags_materialize(c);
	uint8_t lapic[X86_LAPIC_REGS_SIZE];
	memcpy(lapic, s->lapic, sizeof(lapic));
	*s = c->s;
	memcpy(s->lapic, lapic, sizeof(lapic));
	s->rip = c->rip;
	s->msr.tsc = emu_tsc(c);
}

int emu_cpu_set_state(struct emu_cpu *c, const struct x86_vcpu_state *s, struct err *e)
{
	if ((s->cr0 & EMU_CR0_PG) && !(s->efer & EMU_EFER_LMA))
		return err_set(
		    e, ERR_INPUT,
		    "emu: vCPU %u: paging outside long mode (cr0=%#llx efer=%#llx) is not "
		    "implemented",
		    c->index, (unsigned long long)s->cr0, (unsigned long long)s->efer);
	if ((s->cr0 & EMU_CR0_PE) && (s->rflags & EMU_F_VM))
		return err_set(e, ERR_INPUT, "emu: vCPU %u: virtual-8086 mode is not implemented",
		               c->index);
	c->s = *s;
	c->rip = s->rip;
	c->s.rflags |= 2;
	c->lf_op = EMU_LF_NONE;
	if (s->msr.tsc != EMU_TSC_KEEP)
		c->tsc_offset = s->msr.tsc - x86_clock_tsc(c->clock);
	emu_update_mode(c);
	emu_tlb_flush(c, 0);
	return 0;
}

uint64_t emu_cpu_instructions(const struct emu_cpu *c)
{
	return c->icount;
}

uint64_t emu_cpu_tsc_offset(const struct emu_cpu *c)
{
	return c->tsc_offset;
}

void emu_cpu_kick(struct emu_cpu *c)
{
	atomic_fetch_or(&c->req, EMU_REQ_KICK);
}
void emu_cpu_dirty_resync(struct emu_cpu *c)
{
	atomic_fetch_or(&c->req, EMU_REQ_DIRTY);
}
void emu_cpu_dirty_settle(struct emu_cpu *c)
{
	if (atomic_load(&c->req) & EMU_REQ_DIRTY) {
		atomic_fetch_and(&c->req, ~EMU_REQ_DIRTY);
		emu_tlb_drop_writes(c);
	}
}
void emu_cpu_notify(struct emu_cpu *c)
{
	atomic_fetch_or(&c->req, EMU_REQ_INTR);
}
void emu_cpu_nmi(struct emu_cpu *c)
{
	atomic_fetch_or(&c->req, EMU_REQ_NMI);
}
void emu_cpu_init(struct emu_cpu *c)
{
	atomic_fetch_or(&c->req, EMU_REQ_INIT);
}
void emu_cpu_sipi(struct emu_cpu *c, uint8_t vector)
{
	atomic_store(&c->sipi_vec, vector);
	atomic_fetch_or(&c->req, EMU_REQ_SIPI);
}

static void set_exit(struct emu_cpu *c, enum emu_exit_reason r)
{
	c->exit_pending = 1;
	c->exit_reason = r;
}

/* INIT: the reset state except the APIC base and the TSC, waiting for SIPI. */
static void do_init(struct emu_cpu *c)
{
	struct x86_vcpu_state s;
	uint64_t apic_base = c->s.msr.apic_base;
	x86_state_reset(&s, c->index);
	s.msr.apic_base = apic_base;
	s.msr.tsc = emu_tsc(c);
	s.ev.run_state = X86_WAIT_FOR_SIPI;
	emu_cpu_set_state(c, &s, NULL);
}

static void do_sipi(struct emu_cpu *c)
{
	uint8_t v = atomic_load(&c->sipi_vec);
	struct x86_segment *cs = &c->s.seg[X86_CS];
	cs->selector = (uint16_t)(v << 8);
	cs->base = (uint64_t)v << 12;
	c->rip = 0;
	c->s.ev.run_state = X86_RUNNABLE;
	emu_update_mode(c);
}

/* Deliver an external event; faults during delivery come back through
 * emu_exception with `delivering` set. */
static void deliver_ext(struct emu_cpu *c, int vec)
{
	c->delivering = vec;
	emu_deliver(c, vec, 0, 0, 0, 1);
	c->delivering = -1;
	c->s.ev.run_state = X86_RUNNABLE;
}

/* Requests and interrupts at a block boundary. Returns 1 to leave the run
 * loop (an exit reason is set). */
static int events(struct emu_cpu *c)
{
	uint32_t req = atomic_load_explicit(&c->req, memory_order_acquire);
	/* before a kick: a pause must find every store of this vCPU marked */
	if (req & EMU_REQ_DIRTY)
		emu_cpu_dirty_settle(c);
	if (req & EMU_REQ_KICK) {
		atomic_fetch_and(&c->req, ~EMU_REQ_KICK);
		set_exit(c, EMU_EXIT_KICK);
		return 1;
	}
	if (req & EMU_REQ_INIT) {
		/* A SIPI sent after this INIT may already be pending: it is taken
		 * below, so the waiting vCPU needs no second wake-up. */
		atomic_fetch_and(&c->req, ~(uint32_t)EMU_REQ_INIT);
		do_init(c);
		req = atomic_load_explicit(&c->req, memory_order_acquire);
	}
	if (c->s.ev.run_state == X86_WAIT_FOR_SIPI) {
		if (!(req & EMU_REQ_SIPI)) {
			set_exit(c, EMU_EXIT_WAIT_SIPI);
			return 1;
		}
		atomic_fetch_and(&c->req, ~EMU_REQ_SIPI);
		do_sipi(c);
		return 0;
	}
	if (req & EMU_REQ_SIPI) /* ignored outside wait-for-SIPI */
		atomic_fetch_and(&c->req, ~EMU_REQ_SIPI);
	int shadow = c->s.ev.interrupt_shadow != 0;
	if ((req & EMU_REQ_NMI) && !c->s.ev.nmi_masked && !shadow) {
		atomic_fetch_and(&c->req, ~EMU_REQ_NMI);
		c->s.ev.nmi_masked = 1;
		deliver_ext(c, EMU_NMI);
		return 0;
	}
	if ((req & EMU_REQ_INTR) && (c->s.rflags & EMU_F_IF) && !shadow) {
		atomic_fetch_and(&c->req, ~EMU_REQ_INTR);
		int v = c->bus.intr_ack ? c->bus.intr_ack(c->bus.ctx) : -1;
		if (v >= 0) {
			/* more may be pending: ask again at the next boundary */
			atomic_fetch_or(&c->req, EMU_REQ_INTR);
			deliver_ext(c, v);
			return 0;
		}
	}
	if (c->s.ev.run_state == X86_HALTED) {
		set_exit(c, EMU_EXIT_HALT);
		return 1;
	}
	return 0;
}

/* TF was set when the instruction began: #DB after it (DR6.BS). An
 * instruction that faulted or trapped itself never gets here. */
static void single_step_trap(struct emu_cpu *c)
{
	c->s.dr[6] |= 1u << 14;
	c->delivering = EMU_DB;
	emu_deliver(c, EMU_DB, 0, 0, 0, 0);
	c->delivering = -1;
}

static void run_blocks(struct emu_cpu *c, uint64_t limit)
{
	struct emu_block *prev = NULL;
	for (;;) {
		if (EMU_UNLIKELY(atomic_load_explicit(&c->req, memory_order_relaxed) ||
		                 c->s.ev.run_state != X86_RUNNABLE)) {
			if (events(c))
				return;
		}
		if (EMU_UNLIKELY(c->icount >= limit)) {
			set_exit(c, EMU_EXIT_BUDGET);
			return;
		}
		uint32_t key = c->code_sz | (c->cpl == 3 ? EMU_KEY_CPL3 : 0u) |
		               ((c->s.rflags & EMU_F_TF) ? EMU_KEY_STEP : 0u);
		uint64_t la = (c->rip + c->segbase[X86_CS]) & c->la_mask;
		struct emu_block *b = NULL;
		if (c->ret_pending) {
			c->ret_pending = 0;
			b = emu_block_after_ret(c, la, key);
		}
		if (!b)
			b = emu_block_next(c, prev, la, key);
		prev = b;
		int shadow = c->s.ev.interrupt_shadow;
		c->blk = b;
		c->icount += b->ninsn;
		/* handlers may run their successors themselves (EMU_NEXT): go on
		 * after the last one that ran, which c->cur names */
		for (struct emu_insn *i = b->insn;;) {
			c->cur = i;
			if (i->fn(c, i))
				break;
			i = c->cur + 1;
		}
		c->cur = NULL;
		c->blk = NULL;
		if (EMU_UNLIKELY(shadow))
			c->s.ev.interrupt_shadow = 0;
		if (EMU_UNLIKELY(c->exit_pending))
			return;
		if (EMU_UNLIKELY(key & EMU_KEY_STEP))
			single_step_trap(c);
	}
}

int emu_cpu_run(struct emu_cpu *c, uint64_t max_insns, struct emu_exit *x, struct err *e)
{
	(void)e;
	c->exit_pending = 0;
	c->exit_msg[0] = 0;
	uint64_t limit = max_insns ? c->icount + max_insns : UINT64_MAX;
	if (setjmp(c->jb)) {
		/* an exception unwound a handler (or a delivery) */
		c->cur = NULL;
		c->blk = NULL;
		if (c->bounce_locked) {
			c->bounce_locked = 0;
			pthread_mutex_unlock(&c->mem->lock);
		}
		emu_exception(c);
	}
	if (!c->exit_pending)
		run_blocks(c, limit);
	x->reason = c->exit_reason;
	snprintf(x->msg, sizeof(x->msg), "%s", c->exit_msg);
	c->exit_pending = 0;
	return 0;
}
