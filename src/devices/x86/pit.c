/* SPDX-License-Identifier: Apache-2.0 */
/* Counter arithmetic after QEMU's i8254 model: a channel remembers when
 * its count was loaded and derives count and output from the time since. */
#include "devices/x86/pit.h"

#include "devices/x86/clock.h"

#include <string.h>

#define RW_LSB   1
#define RW_MSB   2
#define RW_WORD0 3
#define RW_WORD1 4

#define MIN_PERIOD_NS 100000
/* A channel nobody programmed yet (KVM's reset value): it raises no IRQ. */
#define MODE_UNSET 0xff
/* Port 0x61 bit 4 toggles with the DRAM refresh, every 15.085 us. */
#define REFRESH_NS 15085

static uint64_t ticks_since(const struct kvm_pit_channel_state *c, int64_t now)
{
	if (now <= c->count_load_time)
		return 0;
	return (uint64_t)((unsigned __int128)(uint64_t)(now - c->count_load_time) * PIT_HZ /
	                  1000000000u);
}

static int64_t ticks_to_ns(uint64_t ticks)
{
	return (int64_t)((unsigned __int128)ticks * 1000000000u / PIT_HZ);
}

static uint32_t get_count(const struct kvm_pit_channel_state *c, int64_t now)
{
	uint64_t d = ticks_since(c, now);
	switch (c->mode) {
	case 0:
	case 1:
	case 4:
	case 5:
		return (uint32_t)((c->count - d) & 0xffff);
	case 3: /* counts down by two, twice per period */
		return (uint32_t)(c->count - ((2 * d) % c->count)) & 0xffff;
	default:
		return (uint32_t)(c->count - (d % c->count)) & 0xffff;
	}
}

static int get_out(const struct kvm_pit_channel_state *c, int64_t now)
{
	uint64_t d = ticks_since(c, now);
	switch (c->mode) {
	default:
	case 0:
		return d >= c->count;
	case 1:
		return d < c->count;
	case 2: /* low for one clock at the end of each period */
		return (d % c->count) != (c->count - 1) || c->count == 1;
	case 3:
		return (d % c->count) < ((c->count + 1) >> 1);
	case 4:
	case 5:
		return d == c->count;
	}
}

static int periodic(const struct kvm_pit_channel_state *c)
{
	return c->mode == 2 || c->mode == 3;
}

static int64_t period_ns(const struct kvm_pit_channel_state *c)
{
	int64_t p = ticks_to_ns(c->count);
	return periodic(c) && p < MIN_PERIOD_NS ? MIN_PERIOD_NS : p;
}

static void irq_stop(struct pit *p)
{
	p->timer_on = 0;
	dev_timer_cancel(&p->timer);
}

static void irq_arm(struct pit *p, int64_t at)
{
	p->timer_on = 1;
	p->next_ns = at;
	dev_timer_arm(&p->timer, at);
}

/* Channel 0 was (re)loaded: its next terminal count raises IRQ 0. */
static void irq_reload(struct pit *p)
{
	const struct kvm_pit_channel_state *c = &p->st.channels[0];
	irq_stop(p);
	if (c->mode != 0 && c->mode != 4 && !periodic(c))
		return; /* gate-triggered 1 and 5: channel 0's gate never rises again */
	irq_arm(p, c->count_load_time + period_ns(c));
}

static void pit_fire(void *ctx, int64_t now)
{
	struct pit *p = ctx;
	pthread_mutex_lock(&p->lock);
	if (!p->timer_on || now < p->next_ns) {
		pthread_mutex_unlock(&p->lock);
		return;
	}
	const struct kvm_pit_channel_state *c = &p->st.channels[0];
	if (periodic(c)) {
		int64_t next = p->next_ns + period_ns(c);
		if (next <= now) /* host was busy: skip missed periods */
			next = now + period_ns(c);
		irq_arm(p, next);
	} else {
		p->timer_on = 0;
	}
	p->irqs++;
	irq_line_set(&p->irq0, 1);
	irq_line_set(&p->irq0, 0);
	pthread_mutex_unlock(&p->lock);
}

static void load_count(struct pit *p, unsigned ch, uint32_t val, int64_t now)
{
	struct kvm_pit_channel_state *c = &p->st.channels[ch];
	c->count = val ? val : 0x10000;
	c->count_load_time = now;
	if (ch == 0)
		irq_reload(p);
}

static void latch_count(struct kvm_pit_channel_state *c, int64_t now)
{
	if (c->count_latched)
		return;
	c->latched_count = (uint16_t)get_count(c, now);
	c->count_latched = c->rw_mode;
}

static void latch_status(struct kvm_pit_channel_state *c, int64_t now)
{
	if (c->status_latched)
		return;
	c->status =
	    (uint8_t)((get_out(c, now) << 7) | (c->rw_mode << 4) | ((c->mode & 7) << 1) | c->bcd);
	c->status_latched = 1;
}

static void write_control(struct pit *p, uint8_t v, int64_t now)
{
	unsigned ch = v >> 6;
	if (ch == 3) { /* read-back: bit 5 clear latches counts, bit 4 status */
		for (unsigned i = 0; i < 3; i++) {
			if (!(v & (2 << i)))
				continue;
			if (!(v & 0x20))
				latch_count(&p->st.channels[i], now);
			if (!(v & 0x10))
				latch_status(&p->st.channels[i], now);
		}
		return;
	}
	struct kvm_pit_channel_state *c = &p->st.channels[ch];
	unsigned access = (v >> 4) & 3;
	if (access == 0) {
		latch_count(c, now);
		return;
	}
	c->rw_mode = (uint8_t)access;
	c->read_state = (uint8_t)access;
	c->write_state = (uint8_t)access;
	c->mode = (v >> 1) & 7;
	if (c->mode >= 6)
		c->mode -= 4;
	c->bcd = v & 1;
	/* a new mode stops the counter until its count is written */
	if (ch == 0)
		irq_stop(p);
}

static void write_counter(struct pit *p, unsigned ch, uint8_t v, int64_t now)
{
	struct kvm_pit_channel_state *c = &p->st.channels[ch];
	switch (c->write_state) {
	default:
	case RW_LSB:
		load_count(p, ch, v, now);
		break;
	case RW_MSB:
		load_count(p, ch, (uint32_t)v << 8, now);
		break;
	case RW_WORD0:
		c->write_latch = v;
		c->write_state = RW_WORD1;
		break;
	case RW_WORD1:
		load_count(p, ch, c->write_latch | ((uint32_t)v << 8), now);
		c->write_state = RW_WORD0;
		break;
	}
}

static uint8_t read_counter(struct kvm_pit_channel_state *c, int64_t now)
{
	if (c->status_latched) {
		c->status_latched = 0;
		return c->status;
	}
	if (c->count_latched) {
		switch (c->count_latched) {
		default:
		case RW_LSB:
			c->count_latched = 0;
			return (uint8_t)c->latched_count;
		case RW_MSB:
			c->count_latched = 0;
			return (uint8_t)(c->latched_count >> 8);
		case RW_WORD0: /* LSB now, MSB next */
			c->count_latched = RW_MSB;
			return (uint8_t)c->latched_count;
		}
	}
	uint32_t count = get_count(c, now);
	switch (c->read_state) {
	default:
	case RW_LSB:
		return (uint8_t)count;
	case RW_MSB:
		return (uint8_t)(count >> 8);
	case RW_WORD0:
		c->read_state = RW_WORD1;
		return (uint8_t)count;
	case RW_WORD1:
		c->read_state = RW_WORD0;
		return (uint8_t)(count >> 8);
	}
}

static void pit_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	struct pit *p = dev;
	memset(data, 0, size);
	if (!size || off > 3)
		return;
	if (off == 3) {
		data[0] = 0xff; /* the control word register is write-only */
		return;
	}
	pthread_mutex_lock(&p->lock);
	data[0] = read_counter(&p->st.channels[off], x86_clock_host_ns());
	pthread_mutex_unlock(&p->lock);
}

static void pit_write(void *dev, uint64_t off, const uint8_t *data, unsigned size)
{
	struct pit *p = dev;
	if (!size || off > 3)
		return;
	pthread_mutex_lock(&p->lock);
	int64_t now = x86_clock_host_ns();
	if (off == 3)
		write_control(p, data[0], now);
	else
		write_counter(p, (unsigned)off, data[0], now);
	pthread_mutex_unlock(&p->lock);
}

const struct io_ops pit_ops = {pit_read, pit_write};

static void set_gate2(struct pit *p, int gate, int64_t now)
{
	struct kvm_pit_channel_state *c = &p->st.channels[2];
	/* modes 1, 2, 3 and 5 restart counting on a rising gate */
	if (gate && !c->gate && c->mode != 0 && c->mode != 4)
		c->count_load_time = now;
	c->gate = (uint8_t)gate;
}

static void speaker_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	struct pit *p = dev;
	memset(data, 0, size);
	if (!size || off)
		return;
	pthread_mutex_lock(&p->lock);
	int64_t now = x86_clock_host_ns();
	const struct kvm_pit_channel_state *c = &p->st.channels[2];
	data[0] =
	    (uint8_t)((c->gate & 1) | ((p->st.flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON) ? 2 : 0) |
	              (((now / REFRESH_NS) & 1) << 4) | (get_out(c, now) << 5));
	pthread_mutex_unlock(&p->lock);
}

static void speaker_write(void *dev, uint64_t off, const uint8_t *data, unsigned size)
{
	struct pit *p = dev;
	if (!size || off)
		return;
	pthread_mutex_lock(&p->lock);
	set_gate2(p, data[0] & 1, x86_clock_host_ns());
	if (data[0] & 2)
		p->st.flags |= KVM_PIT_FLAGS_SPEAKER_DATA_ON;
	else
		p->st.flags &= ~KVM_PIT_FLAGS_SPEAKER_DATA_ON;
	pthread_mutex_unlock(&p->lock);
}

const struct io_ops pit_speaker_ops = {speaker_read, speaker_write};

/* KVM's reset state, so that states compare equal across accelerators. */
static void channel_reset(struct kvm_pit_channel_state *c, int64_t now)
{
	memset(c, 0, sizeof(*c));
	c->count = 0x10000;
	c->mode = MODE_UNSET;
	c->count_load_time = now;
}

void pit_init(struct pit *p, const struct irq_line *irq0, struct dev_timers *timers)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	p->irq0 = *irq0;
	dev_timer_init(&p->timer, timers, pit_fire, p);
	int64_t now = x86_clock_host_ns();
	for (unsigned i = 0; i < 3; i++)
		channel_reset(&p->st.channels[i], now);
	/* channels 0 and 1 have their gates tied high; channel 0 stays
	 * silent until the guest programs it */
	p->st.channels[0].gate = p->st.channels[1].gate = 1;
}

void pit_destroy(struct pit *p)
{
	dev_timer_cancel(&p->timer);
	pthread_mutex_destroy(&p->lock);
}

void pit_get_state(struct pit *p, struct kvm_pit_state2 *s)
{
	pthread_mutex_lock(&p->lock);
	*s = p->st;
	pthread_mutex_unlock(&p->lock);
}

static void sanitize(struct kvm_pit_channel_state *c)
{
	if (c->count == 0 || c->count > 0x10000)
		c->count = 0x10000;
	if (c->mode != MODE_UNSET) {
		c->mode &= 7;
		if (c->mode >= 6)
			c->mode -= 4;
	}
	c->rw_mode &= 3;
	if (c->read_state > RW_WORD1)
		c->read_state = RW_LSB;
	if (c->write_state > RW_WORD1)
		c->write_state = RW_LSB;
	if (c->count_latched > RW_WORD0)
		c->count_latched = 0;
	c->status_latched &= 1;
	c->bcd &= 1;
	c->gate &= 1;
}

/* A load time from a snapshot is host-monotonic ns; one that is in the
 * future or absurdly far past (overflowing the arithmetic) means now. */
static void sanitize_time(struct kvm_pit_channel_state *c, int64_t now)
{
	if (c->count_load_time > now || c->count_load_time < now - (INT64_C(1) << 60))
		c->count_load_time = now;
}

void pit_set_state(struct pit *p, const struct kvm_pit_state2 *s)
{
	pthread_mutex_lock(&p->lock);
	p->st = *s;
	p->st.flags &= KVM_PIT_FLAGS_SPEAKER_DATA_ON | KVM_PIT_FLAGS_HPET_LEGACY;
	int64_t now = x86_clock_host_ns();
	for (unsigned i = 0; i < 3; i++) {
		sanitize(&p->st.channels[i]);
		sanitize_time(&p->st.channels[i], now);
	}
	p->st.channels[0].gate = p->st.channels[1].gate = 1;
	const struct kvm_pit_channel_state *c = &p->st.channels[0];
	irq_stop(p);
	if (periodic(c)) {
		/* next terminal count on the saved schedule */
		int64_t per = period_ns(c), at = c->count_load_time + per;
		if (at <= now)
			at += ((now - at) / per + 1) * per;
		irq_arm(p, at);
	} else if (c->mode == 0 || c->mode == 4) {
		int64_t at = c->count_load_time + period_ns(c);
		if (at > now)
			irq_arm(p, at);
	}
	pthread_mutex_unlock(&p->lock);
}
