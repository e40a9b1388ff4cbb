/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/x86/lapic.h"

#include <string.h>

#define REG_ID     0x20
#define REG_VER    0x30
#define REG_TPR    0x80
#define REG_APR    0x90
#define REG_PPR    0xa0
#define REG_EOI    0xb0
#define REG_LDR    0xd0
#define REG_DFR    0xe0
#define REG_SVR    0xf0
#define REG_ISR    0x100
#define REG_TMR    0x180
#define REG_IRR    0x200
#define REG_ESR    0x280
#define REG_CMCI   0x2f0
#define REG_ICR    0x300
#define REG_ICR2   0x310
#define REG_LVTT   0x320
#define REG_THERM  0x330
#define REG_PERF   0x340
#define REG_LINT0  0x350
#define REG_LINT1  0x360
#define REG_LVTERR 0x370
#define REG_TMICT  0x380
#define REG_TMCCT  0x390
#define REG_TDCR   0x3e0

/* Version 0x14 (integrated xAPIC), 7 LVT entries (max index 6 incl.
 * CMCI), bit 24 clear: EOI-broadcast suppression is not offered. */
#define APIC_VERSION 0x00060014u

#define LVT_MASKED     (1u << 16)
#define SVR_ENABLE     0x100u
#define LVT_MODE(v)    (((v) >> 8) & 7)
#define TIMER_ONESHOT  0
#define TIMER_PERIODIC 1
#define TIMER_DEADLINE 2

#define ESR_SEND_ILLEGAL 0x20u
#define ESR_RECV_ILLEGAL 0x40u

/* A periodic timer faster than this would keep the timer thread busy and
 * flood the vCPU; KVM clamps the same way. */
#define MIN_PERIOD_NS 100000

static const unsigned lvt_regs[] = {REG_CMCI,  REG_LVTT,  REG_THERM, REG_PERF,
                                    REG_LINT0, REG_LINT1, REG_LVTERR};
#define NLVT (sizeof(lvt_regs) / sizeof(lvt_regs[0]))

/* What a register access decided to do once the LAPIC's lock is dropped. */
struct actions {
	int notify, eoi, ipi, init, sipi, nmi;
	uint8_t eoi_vec, sipi_vec;
	struct apic_msg msg;
};

static uint32_t rd(const struct lapic *l, unsigned r)
{
	uint32_t v;
	memcpy(&v, l->regs + r, 4);
	return v;
}

static void wr(struct lapic *l, unsigned r, uint32_t v)
{
	memcpy(l->regs + r, &v, 4);
}

static void bit_set(struct lapic *l, unsigned base, unsigned vec)
{
	unsigned r = base + (vec >> 5) * 16;
	wr(l, r, rd(l, r) | (1u << (vec & 31)));
}

static void bit_clear(struct lapic *l, unsigned base, unsigned vec)
{
	unsigned r = base + (vec >> 5) * 16;
	wr(l, r, rd(l, r) & ~(1u << (vec & 31)));
}

static int bit_test(const struct lapic *l, unsigned base, unsigned vec)
{
	return (rd(l, base + (vec >> 5) * 16) >> (vec & 31)) & 1;
}

static int highest(const struct lapic *l, unsigned base)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t w = rd(l, base + (unsigned)i * 16);
		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

static int hw_enabled(const struct lapic *l)
{
	return (l->apic_base & APIC_BASE_ENABLE) != 0;
}

static int enabled(const struct lapic *l)
{
	return hw_enabled(l) && (rd(l, REG_SVR) & SVR_ENABLE);
}

static void update_ppr(struct lapic *l)
{
	uint32_t tpr = rd(l, REG_TPR) & 0xff;
	int isrv = highest(l, REG_ISR);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
	wr(l, REG_PPR, (tpr & 0xf0) >= isr_class ? tpr : isr_class);
}

static int deliverable(const struct lapic *l)
{
	if (!enabled(l))
		return -1;
	int irrv = highest(l, REG_IRR);
	if (irrv < 0 || ((unsigned)irrv & 0xf0) <= (rd(l, REG_PPR) & 0xf0))
		return -1;
	return irrv;
}

/* The PIC's INTR reaches the CPU through LINT0 in ExtINT mode, or directly
 * while the APIC is hardware-disabled (as KVM accepts PIC interrupts). */
static int extint_pending(const struct lapic *l)
{
	if (l->extint_req)
		return 1;
	if (!l->lint_level[0])
		return 0;
	uint32_t lvt0 = rd(l, REG_LINT0);
	return !hw_enabled(l) || (!(lvt0 & LVT_MASKED) && LVT_MODE(lvt0) == APIC_DM_EXTINT);
}

static int has_interrupt(const struct lapic *l)
{
	return extint_pending(l) || deliverable(l) >= 0;
}

static void set_irr(struct lapic *l, unsigned vector, int level, struct actions *a)
{
	bit_set(l, REG_IRR, vector);
	if (level)
		bit_set(l, REG_TMR, vector);
	else
		bit_clear(l, REG_TMR, vector);
	if (deliverable(l) >= 0)
		a->notify = 1;
}

/* A local interrupt (LVT entry) fires: only fixed delivery is meaningful
 * for timer/error/thermal/perf; NMI and ExtINT come from the LINT pins. */
static void local_irq(struct lapic *l, uint32_t lvt, struct actions *a);

static void raise_error(struct lapic *l, uint32_t bit, struct actions *a)
{
	int fresh = !(l->esr_pending & bit);
	l->esr_pending |= bit;
	if (fresh)
		local_irq(l, rd(l, REG_LVTERR), a);
}

static void local_irq(struct lapic *l, uint32_t lvt, struct actions *a)
{
	if ((lvt & LVT_MASKED) || !enabled(l))
		return;
	switch (LVT_MODE(lvt)) {
	case APIC_DM_NMI:
		a->nmi = 1;
		return;
	case APIC_DM_FIXED:
		if ((lvt & 0xff) < 16) {
			/* recorded without an error interrupt: the error LVT's
			 * own vector may be the illegal one */
			l->esr_pending |= ESR_RECV_ILLEGAL;
			return;
		}
		set_irr(l, lvt & 0xff, 0, a);
		return;
	default:
		return;
	}
}

/* ---- timer ---- */

static unsigned timer_mode(const struct lapic *l)
{
	return (rd(l, REG_LVTT) >> 17) & 3;
}

static uint64_t divisor(uint32_t tdcr)
{
	unsigned v = (tdcr & 3) | ((tdcr & 8) >> 1);
	return 1ull << ((v + 1) & 7);
}

static uint64_t period_ns(const struct lapic *l)
{
	return (uint64_t)rd(l, REG_TMICT) * l->timer_div;
}

static void timer_stop(struct lapic *l)
{
	l->timer_on = 0;
	dev_timer_cancel(&l->timer);
}

static void timer_arm(struct lapic *l, int64_t at)
{
	l->timer_on = 1;
	l->timer_next_ns = at;
	dev_timer_arm(&l->timer, at);
}

static uint64_t arm_period(const struct lapic *l)
{
	uint64_t p = period_ns(l);
	return timer_mode(l) == TIMER_PERIODIC && p < MIN_PERIOD_NS ? MIN_PERIOD_NS : p;
}

static void timer_load(struct lapic *l, int64_t now)
{
	l->timer_div = divisor(rd(l, REG_TDCR));
	l->timer_load_ns = now;
	if (!rd(l, REG_TMICT)) {
		timer_stop(l);
		return;
	}
	timer_arm(l, now + (int64_t)arm_period(l));
}

static uint32_t current_count(const struct lapic *l, int64_t now)
{
	uint32_t tmict = rd(l, REG_TMICT);
	unsigned mode = timer_mode(l);
	if (mode == TIMER_DEADLINE || !tmict || !l->timer_on)
		return 0;
	uint64_t elapsed = now > l->timer_load_ns ? (uint64_t)(now - l->timer_load_ns) : 0;
	uint64_t p = period_ns(l);
	if (mode == TIMER_PERIODIC)
		elapsed %= p;
	else if (elapsed >= p)
		return 0;
	return tmict - (uint32_t)(elapsed / l->timer_div);
}

static void run_actions(struct lapic *l, const struct actions *a);

static void timer_fire(void *ctx, int64_t now)
{
	struct lapic *l = ctx;
	struct actions a = {0};
	pthread_mutex_lock(&l->lock);
	if (!l->timer_on || now < l->timer_next_ns) { /* re-programmed meanwhile */
		pthread_mutex_unlock(&l->lock);
		return;
	}
	unsigned mode = timer_mode(l);
	if (mode == TIMER_PERIODIC) {
		int64_t p = (int64_t)arm_period(l);
		int64_t next = l->timer_next_ns + p;
		if (next <= now) /* fell behind (host busy): skip, do not burst */
			next = now + p;
		timer_arm(l, next);
	} else {
		l->timer_on = 0;
		if (mode == TIMER_DEADLINE)
			l->tsc_deadline = 0;
	}
	local_irq(l, rd(l, REG_LVTT) & ~(0x700u), &a); /* timer is always fixed */
	pthread_mutex_unlock(&l->lock);
	run_actions(l, &a);
}

static void set_tsc_deadline(struct lapic *l, uint64_t tsc)
{
	if (timer_mode(l) != TIMER_DEADLINE)
		return; /* ignored outside TSC-deadline mode (SDM 10.5.4.1) */
	l->tsc_deadline = tsc;
	if (!tsc || !l->clock || !l->clock->khz) {
		timer_stop(l);
		return;
	}
	/* relative to the guest's now, so that the offset never wraps */
	uint64_t now = x86_clock_tsc(l->clock);
	int64_t ahead = (int64_t)(tsc - (now + l->tsc_offset));
	timer_arm(l, x86_clock_ns_at(l->clock, ahead > 0 ? now + (uint64_t)ahead : now));
}

void lapic_set_tsc_offset(struct lapic *l, uint64_t offset)
{
	pthread_mutex_lock(&l->lock);
	l->tsc_offset = offset;
	pthread_mutex_unlock(&l->lock);
}

/* ---- reset, delivery ---- */

static void reset_locked(struct lapic *l)
{
	uint32_t id = rd(l, REG_ID);
	memset(l->regs, 0, sizeof(l->regs));
	wr(l, REG_ID, id);
	wr(l, REG_VER, APIC_VERSION);
	wr(l, REG_DFR, 0xffffffffu);
	wr(l, REG_SVR, 0xff);
	for (unsigned i = 0; i < NLVT; i++)
		wr(l, lvt_regs[i], LVT_MASKED);
	/* The BSP starts in virtual-wire mode so the PIC reaches it (KVM's
	 * reset does the same). */
	if (l->apic_base & APIC_BASE_BSP)
		wr(l, REG_LINT0, APIC_DM_EXTINT << 8);
	l->esr_pending = 0;
	l->extint_req = 0;
	l->tsc_deadline = 0;
	l->timer_div = 2;
	timer_stop(l);
}

static void accept(struct lapic *l, const struct apic_msg *m, struct actions *a)
{
	switch (m->delivery) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		if (!enabled(l))
			return;
		if (m->vector < 16) {
			raise_error(l, ESR_RECV_ILLEGAL, a);
			return;
		}
		set_irr(l, m->vector, m->trigger, a);
		return;
	case APIC_DM_NMI:
		a->nmi = 1;
		return;
	case APIC_DM_INIT:
		if (m->trigger && !m->level)
			return; /* INIT level de-assert: no effect on this model */
		reset_locked(l);
		a->init = 1;
		return;
	case APIC_DM_STARTUP:
		a->sipi = 1;
		a->sipi_vec = m->vector;
		return;
	case APIC_DM_EXTINT:
		l->extint_req = 1;
		a->notify = 1;
		return;
	default: /* SMI and reserved modes */
		return;
	}
}

static void run_actions(struct lapic *l, const struct actions *a)
{
	const struct lapic_cpu_ops *ops = l->ops;
	if (a->eoi && l->bus && l->bus->eoi)
		l->bus->eoi(l->bus->eoi_ctx, a->eoi_vec);
	if (a->ipi && l->bus)
		apic_bus_deliver(l->bus, &a->msg, l);
	if (!ops)
		return;
	if (a->init && ops->init)
		ops->init(l->cpu);
	if (a->sipi && ops->sipi)
		ops->sipi(l->cpu, a->sipi_vec);
	if (a->nmi && ops->nmi)
		ops->nmi(l->cpu);
	if (a->notify && ops->notify)
		ops->notify(l->cpu);
}

static void deliver_one(struct lapic *l, const struct apic_msg *m)
{
	struct actions a = {0};
	pthread_mutex_lock(&l->lock);
	accept(l, m, &a);
	pthread_mutex_unlock(&l->lock);
	run_actions(l, &a);
}

static int matches(const struct lapic *l, const struct apic_msg *m)
{
	if (!m->logical)
		return m->dest == 0xff || m->dest == rd(l, REG_ID) >> 24;
	if (m->dest == 0xff)
		return 1;
	uint32_t ldr = rd(l, REG_LDR) >> 24;
	if ((rd(l, REG_DFR) >> 28) == 0xf) /* flat */
		return (ldr & m->dest) != 0;
	/* cluster: high nibble names the cluster, low nibble the members */
	return (ldr >> 4) == ((unsigned)m->dest >> 4) && (ldr & m->dest & 0xf);
}

void apic_bus_init(struct apic_bus *b)
{
	memset(b, 0, sizeof(*b));
}

void apic_bus_set_ioapic(struct apic_bus *b, void (*eoi)(void *ctx, uint8_t vector), void *ctx)
{
	b->eoi = eoi;
	b->eoi_ctx = ctx;
}

void apic_bus_set_pic(struct apic_bus *b, int (*extint_ack)(void *ctx), void *ctx)
{
	b->extint_ack = extint_ack;
	b->extint_ctx = ctx;
}

/* Lowest priority: the matching enabled LAPIC with the lowest task
 * priority class; ties rotate so that equal CPUs share the load. */
static void deliver_lowest(struct apic_bus *b, const struct apic_msg *m)
{
	struct lapic *best = NULL;
	unsigned best_pri = 0x100, start = __atomic_load_n(&b->lowest_rr, __ATOMIC_RELAXED);
	for (unsigned k = 0; k < b->n; k++) {
		unsigned i = (start + k) % b->n;
		struct lapic *l = b->cpu[i];
		if (!l)
			continue;
		pthread_mutex_lock(&l->lock);
		int ok = enabled(l) && matches(l, m);
		unsigned pri = rd(l, REG_TPR) & 0xf0;
		pthread_mutex_unlock(&l->lock);
		if (ok && pri < best_pri) {
			best = l;
			best_pri = pri;
		}
	}
	if (!best)
		return;
	__atomic_store_n(&b->lowest_rr, (best->index + 1) % b->n, __ATOMIC_RELAXED);
	deliver_one(best, m);
}

void apic_bus_deliver(struct apic_bus *b, const struct apic_msg *m, struct lapic *src)
{
	switch (m->shorthand) {
	case APIC_SH_SELF:
		if (src)
			deliver_one(src, m);
		return;
	case APIC_SH_ALL:
	case APIC_SH_OTHERS:
		for (unsigned i = 0; i < b->n; i++)
			if (b->cpu[i] && (m->shorthand == APIC_SH_ALL || b->cpu[i] != src))
				deliver_one(b->cpu[i], m);
		return;
	default:
		break;
	}
	if (m->delivery == APIC_DM_LOWEST && !(m->dest == 0xff && !m->logical)) {
		deliver_lowest(b, m);
		return;
	}
	for (unsigned i = 0; i < b->n; i++) {
		struct lapic *l = b->cpu[i];
		if (!l)
			continue;
		struct actions a = {0};
		pthread_mutex_lock(&l->lock);
		if (matches(l, m))
			accept(l, m, &a);
		pthread_mutex_unlock(&l->lock);
		run_actions(l, &a);
	}
}

void apic_bus_pic_intr(void *bus, int level)
{
	struct apic_bus *b = bus;
	if (b->n && b->cpu[0])
		lapic_set_lint(b->cpu[0], 0, level);
}

/* ---- registers ---- */

static uint32_t apr(const struct lapic *l)
{
	uint32_t tpr = rd(l, REG_TPR) & 0xff;
	int irrv = highest(l, REG_IRR), isrv = highest(l, REG_ISR);
	uint32_t c = (uint32_t)(irrv > isrv ? irrv : isrv);
	if (irrv < 0 && isrv < 0)
		c = 0;
	return (tpr & 0xf0) >= (c & 0xf0) ? tpr : (c & 0xf0);
}

static uint32_t read_reg(struct lapic *l, unsigned reg, int64_t now)
{
	switch (reg) {
	case REG_TMCCT:
		return current_count(l, now);
	case REG_APR:
		return apr(l);
	case REG_EOI:
		return 0;
	case REG_ICR:
		return rd(l, REG_ICR) & ~(1u << 12); /* delivery is instant: idle */
	default:
		return reg < LAPIC_PAGE_SIZE ? rd(l, reg) : 0;
	}
}

static void send_ipi(struct lapic *l, uint32_t lo, struct actions *a)
{
	struct apic_msg m = {
	    .vector = lo & 0xff,
	    .delivery = (lo >> 8) & 7,
	    .logical = (lo >> 11) & 1,
	    .level = (lo >> 14) & 1,
	    .trigger = (lo >> 15) & 1,
	    .shorthand = (lo >> 18) & 3,
	    .dest = rd(l, REG_ICR2) >> 24,
	};
	if ((m.delivery == APIC_DM_FIXED || m.delivery == APIC_DM_LOWEST) && m.vector < 16) {
		raise_error(l, ESR_SEND_ILLEGAL, a);
		return;
	}
	a->ipi = 1;
	a->msg = m;
}

static void write_svr(struct lapic *l, uint32_t v, struct actions *a)
{
	wr(l, REG_SVR, v & 0x3ff);
	if (!(v & SVR_ENABLE)) {
		/* software disable masks every LVT entry (SDM 10.4.7.2) */
		for (unsigned i = 0; i < NLVT; i++)
			wr(l, lvt_regs[i], rd(l, lvt_regs[i]) | LVT_MASKED);
	} else if (has_interrupt(l)) {
		a->notify = 1;
	}
}

static void write_lvt(struct lapic *l, unsigned reg, uint32_t v, uint32_t mask, struct actions *a)
{
	v &= mask;
	if (!(rd(l, REG_SVR) & SVR_ENABLE))
		v |= LVT_MASKED;
	if (reg == REG_LVTT && ((v >> 17) & 3) != timer_mode(l)) {
		/* a mode change stops the timer and forgets its programming */
		timer_stop(l);
		wr(l, REG_TMICT, 0);
		l->tsc_deadline = 0;
	}
	wr(l, reg, v);
	if (reg == REG_LINT0 && extint_pending(l))
		a->notify = 1;
}

static void do_eoi(struct lapic *l, struct actions *a)
{
	int isrv = highest(l, REG_ISR);
	if (isrv < 0)
		return;
	bit_clear(l, REG_ISR, (unsigned)isrv);
	if (bit_test(l, REG_TMR, (unsigned)isrv)) {
		a->eoi = 1;
		a->eoi_vec = (uint8_t)isrv;
	}
	update_ppr(l);
	if (deliverable(l) >= 0)
		a->notify = 1;
}

static void write_reg(struct lapic *l, unsigned reg, uint32_t v, int64_t now, struct actions *a)
{
	switch (reg) {
	case REG_ID:
		wr(l, REG_ID, v & 0xff000000u);
		break;
	case REG_TPR:
		wr(l, REG_TPR, v & 0xff);
		update_ppr(l);
		if (deliverable(l) >= 0)
			a->notify = 1;
		break;
	case REG_EOI:
		do_eoi(l, a);
		break;
	case REG_LDR:
		wr(l, REG_LDR, v & 0xff000000u);
		break;
	case REG_DFR:
		wr(l, REG_DFR, v | 0x0fffffffu);
		break;
	case REG_SVR:
		write_svr(l, v, a);
		break;
	case REG_ESR: /* a write latches the errors seen since the last one */
		wr(l, REG_ESR, l->esr_pending);
		l->esr_pending = 0;
		break;
	case REG_ICR:
		wr(l, REG_ICR, v & 0x000ccfffu);
		send_ipi(l, v, a);
		break;
	case REG_ICR2:
		wr(l, REG_ICR2, v & 0xff000000u);
		break;
	case REG_LVTT:
		write_lvt(l, reg, v, 0x700ffu, a);
		break;
	case REG_THERM:
	case REG_PERF:
	case REG_CMCI:
		write_lvt(l, reg, v, 0x107ffu, a);
		break;
	case REG_LINT0:
	case REG_LINT1:
		write_lvt(l, reg, v, 0x1a7ffu, a);
		break;
	case REG_LVTERR:
		write_lvt(l, reg, v, 0x100ffu, a);
		break;
	case REG_TMICT:
		if (timer_mode(l) == TIMER_DEADLINE)
			break;
		wr(l, REG_TMICT, v);
		timer_load(l, now);
		break;
	case REG_TDCR:
		wr(l, REG_TDCR, v & 0xb);
		break;
	default: /* read-only and reserved registers */
		break;
	}
}

void lapic_mmio_read(struct lapic *l, uint64_t off, uint8_t *data, unsigned size)
{
	memset(data, 0, size);
	pthread_mutex_lock(&l->lock);
	uint32_t v = 0;
	if (!hw_enabled(l))
		v = 0xffffffffu;
	else if (off < LAPIC_SIZE)
		v = read_reg(l, (unsigned)off & 0xff0, x86_clock_host_ns());
	pthread_mutex_unlock(&l->lock);
	unsigned within = (unsigned)(off & 0xf);
	for (unsigned i = 0; i < size && within + i < 4; i++)
		data[i] = (uint8_t)(v >> (8 * (within + i)));
}

void lapic_mmio_write(struct lapic *l, uint64_t off, const uint8_t *data, unsigned size)
{
	/* Registers are 32 bits on 16-byte boundaries; other accesses are
	 * undefined on hardware and ignored here, like KVM does. */
	if (size != 4 || (off & 0xf) || off >= LAPIC_SIZE)
		return;
	uint32_t v;
	memcpy(&v, data, 4);
	struct actions a = {0};
	pthread_mutex_lock(&l->lock);
	if (hw_enabled(l))
		write_reg(l, (unsigned)off, v, x86_clock_host_ns(), &a);
	pthread_mutex_unlock(&l->lock);
	run_actions(l, &a);
}

static void ops_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	lapic_mmio_read(dev, off, data, size);
}

static void ops_write(void *dev, uint64_t off, const uint8_t *data, unsigned size)
{
	lapic_mmio_write(dev, off, data, size);
}

const struct io_ops lapic_ops = {ops_read, ops_write};

int lapic_msr(struct lapic *l, uint32_t index, uint64_t *value, int is_write)
{
	if (index != MSR_APIC_BASE && index != MSR_TSC_DEADLINE)
		return -1; /* incl. x2APIC 0x800-0x8ff: x2APIC is not offered */
	struct actions a = {0};
	int ret = 0;
	pthread_mutex_lock(&l->lock);
	if (index == MSR_TSC_DEADLINE) {
		if (!is_write)
			*value = timer_mode(l) == TIMER_DEADLINE ? l->tsc_deadline : 0;
		else
			set_tsc_deadline(l, *value);
	} else if (!is_write) {
		*value = l->apic_base;
	} else if (*value & (0x6ffull | (~0ull << 52))) {
		ret = -1; /* reserved bits, or x2APIC enable */
	} else {
		l->apic_base = (*value & ~APIC_BASE_BSP) | (l->apic_base & APIC_BASE_BSP);
		if (has_interrupt(l))
			a.notify = 1;
	}
	pthread_mutex_unlock(&l->lock);
	run_actions(l, &a);
	return ret;
}

int lapic_ack(struct lapic *l)
{
	pthread_mutex_lock(&l->lock);
	if (extint_pending(l)) {
		l->extint_req = 0;
		pthread_mutex_unlock(&l->lock);
		struct apic_bus *b = l->bus;
		/* the PIC may drop or raise INTR again: it calls back into
		 * lapic_set_lint, so it runs without this LAPIC's lock */
		return b && b->extint_ack ? b->extint_ack(b->extint_ctx) : -1;
	}
	int v = deliverable(l);
	if (v >= 0) {
		bit_clear(l, REG_IRR, (unsigned)v);
		bit_set(l, REG_ISR, (unsigned)v);
		update_ppr(l);
	}
	pthread_mutex_unlock(&l->lock);
	return v;
}

int lapic_pending(struct lapic *l)
{
	pthread_mutex_lock(&l->lock);
	int r = has_interrupt(l);
	pthread_mutex_unlock(&l->lock);
	return r;
}

void lapic_set_lint(struct lapic *l, unsigned pin, int level)
{
	if (pin > 1)
		return;
	struct actions a = {0};
	level = level != 0;
	pthread_mutex_lock(&l->lock);
	int rising = level && !l->lint_level[pin];
	l->lint_level[pin] = (uint8_t)level;
	uint32_t lvt = rd(l, pin ? REG_LINT1 : REG_LINT0);
	if (pin == 0 && extint_pending(l)) {
		a.notify = 1;
	} else if (!hw_enabled(l)) {
		if (pin == 1 && rising) /* without an APIC, LINT1 is the NMI pin */
			a.nmi = 1;
	} else if (rising && LVT_MODE(lvt) != APIC_DM_EXTINT) {
		local_irq(l, lvt, &a);
	}
	pthread_mutex_unlock(&l->lock);
	run_actions(l, &a);
}

uint8_t lapic_get_tpr(struct lapic *l)
{
	pthread_mutex_lock(&l->lock);
	uint8_t t = (uint8_t)rd(l, REG_TPR);
	pthread_mutex_unlock(&l->lock);
	return t;
}

void lapic_set_tpr(struct lapic *l, uint8_t tpr)
{
	struct actions a = {0};
	pthread_mutex_lock(&l->lock);
	write_reg(l, REG_TPR, tpr, 0, &a);
	pthread_mutex_unlock(&l->lock);
	run_actions(l, &a);
}

void lapic_get_state(struct lapic *l, uint8_t regs[LAPIC_PAGE_SIZE])
{
	pthread_mutex_lock(&l->lock);
	memcpy(regs, l->regs, LAPIC_PAGE_SIZE);
	uint32_t cur = current_count(l, x86_clock_host_ns());
	memcpy(regs + REG_TMCCT, &cur, 4);
	pthread_mutex_unlock(&l->lock);
}

void lapic_set_state(struct lapic *l, const uint8_t regs[LAPIC_PAGE_SIZE])
{
	struct actions a = {0};
	pthread_mutex_lock(&l->lock);
	timer_stop(l);
	memcpy(l->regs, regs, LAPIC_PAGE_SIZE);
	wr(l, REG_VER, APIC_VERSION);
	update_ppr(l);
	l->esr_pending = 0;
	l->tsc_deadline = 0;
	int64_t now = x86_clock_host_ns();
	uint32_t tmict = rd(l, REG_TMICT), cur = rd(l, REG_TMCCT);
	unsigned mode = timer_mode(l);
	l->timer_div = divisor(rd(l, REG_TDCR));
	if (mode != TIMER_DEADLINE && tmict && cur) {
		if (cur > tmict)
			cur = tmict;
		/* continue where the saved count was, as if loaded earlier */
		l->timer_load_ns = now - (int64_t)((uint64_t)(tmict - cur) * l->timer_div);
		int64_t next = now + (int64_t)((uint64_t)cur * l->timer_div);
		if (mode == TIMER_PERIODIC && next - now < MIN_PERIOD_NS)
			next = now + MIN_PERIOD_NS;
		timer_arm(l, next);
	}
	wr(l, REG_TMCCT, 0);
	if (has_interrupt(l))
		a.notify = 1;
	pthread_mutex_unlock(&l->lock);
	run_actions(l, &a);
}

void lapic_reset(struct lapic *l)
{
	pthread_mutex_lock(&l->lock);
	reset_locked(l);
	pthread_mutex_unlock(&l->lock);
}

void lapic_init(struct lapic *l, struct apic_bus *bus, unsigned index, struct dev_timers *timers,
                const struct x86_clock *clock, const struct lapic_cpu_ops *ops, void *cpu)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	l->index = index;
	l->bus = bus;
	l->ops = ops;
	l->cpu = cpu;
	l->clock = clock;
	dev_timer_init(&l->timer, timers, timer_fire, l);
	l->apic_base = LAPIC_BASE | APIC_BASE_ENABLE | (index == 0 ? APIC_BASE_BSP : 0);
	wr(l, REG_ID, index << 24);
	reset_locked(l);
	if (bus && index < APIC_BUS_MAX) {
		bus->cpu[index] = l;
		if (bus->n <= index)
			bus->n = index + 1;
	}
}

void lapic_destroy(struct lapic *l)
{
	dev_timer_cancel(&l->timer);
	pthread_mutex_destroy(&l->lock);
}
