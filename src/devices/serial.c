/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/serial.h"

#include "lib/clock.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

/* registers (offset from base) */
#define RBR_THR 0
#define IER     1
#define IIR_FCR 2
#define LCR     3
#define MCR     4
#define LSR     5
#define MSR     6
#define SCR     7

#define IER_RDI      0x01
#define IER_THRI     0x02
#define IIR_NONE     0x01
#define IIR_THRI     0x02
#define IIR_RDI      0x04
#define IIR_FIFO     0xc0
#define LCR_DLAB     0x80
#define MCR_DTR      0x01
#define MCR_RTS      0x02
#define MCR_OUT1     0x04
#define MCR_OUT2     0x08
#define MCR_LOOP     0x10
#define LSR_DR       0x01
#define LSR_THRE     0x20
#define LSR_TEMT     0x40
#define MSR_CTS      0x10
#define MSR_DSR      0x20
#define MSR_RI       0x40
#define MSR_DCD      0x80
#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02

static uint8_t iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO : 0;
	if ((s->ier & IER_RDI) && s->rx_count)
		return fifo | IIR_RDI;
	if ((s->ier & IER_THRI) && s->thri)
		return fifo | IIR_THRI;
	return fifo | IIR_NONE;
}

static void update_irq(struct serial *s)
{
	int level = !(iir(s) & IIR_NONE);
	/* OUT2 gates the interrupt on PC hardware, but guests that poll leave it
	 * clear and never enable IER, so the gate changes nothing for them. */
	if (level != s->level) {
		s->level = level;
		irq_line_set(&s->irq, level);
	}
}

/* Write buf[0..len) to the console. Wait for room in slices, so that a
 * console nobody reads (a full pipe, a stopped terminal) holds this vCPU
 * only until the VM ends; after that, one slice at most. */
static void put_out(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		int last = __atomic_load_n(&s->discard, __ATOMIC_ACQUIRE);
		struct pollfd p = {s->out_fd, POLLOUT, 0};
		int r = poll(&p, 1, 100);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			if (last)
				return;
			continue;
		}
		if (r < 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
			return; /* a dead console must not stop the guest */
		ssize_t n = write(s->out_fd, buf + done, len - done);
		if (n > 0)
			done += (size_t)n;
		else if (n < 0 && errno != EINTR && errno != EAGAIN)
			return;
	}
}

static void flush_locked(struct serial *s)
{
	unsigned len = s->tx_len;
	s->tx_len = 0;
	if (!len)
		return;
	put_out(s, s->tx, len);
	/* A pipe's reader woken by this write is placed on this CPU, expecting
	 * the writer to sleep; a vCPU thread goes on running its guest, and
	 * the reader would wait for the end of its time slice (milliseconds).
	 * Let it run now: nothing to do when nothing else waits. */
	sched_yield();
}

static void transmit(struct serial *s, uint8_t c)
{
	s->tx_bytes++;
	if (s->mcr & MCR_LOOP) {
		if (s->rx_count < SERIAL_FIFO)
			s->rx[(s->rx_head + s->rx_count++) % SERIAL_FIFO] = c;
		return;
	}
	if (s->out_fd < 0)
		return;
	if (!s->buffered) {
		if (!__atomic_load_n(&s->discard, __ATOMIC_ACQUIRE))
			put_out(s, &c, 1);
		return;
	}
	if (s->tx_len == 0)
		s->tx_since = clock_mono_ns();
	s->tx[s->tx_len++] = c;
	if (c == '\n' || s->tx_len == SERIAL_TXBUF)
		flush_locked(s);
}

/* Flush what has been held for SERIAL_HOLD_NS or longer. */
static void flush_aged_locked(struct serial *s)
{
	if (s->tx_len && clock_mono_ns() - s->tx_since >= SERIAL_HOLD_NS)
		flush_locked(s);
}

static uint8_t msr(const struct serial *s)
{
	if (!(s->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	uint8_t v = 0;
	if (s->mcr & MCR_RTS)
		v |= MSR_CTS;
	if (s->mcr & MCR_DTR)
		v |= MSR_DSR;
	if (s->mcr & MCR_OUT1)
		v |= MSR_RI;
	if (s->mcr & MCR_OUT2)
		v |= MSR_DCD;
	return v;
}

static uint8_t read_reg(struct serial *s, unsigned reg)
{
	switch (reg) {
	case RBR_THR:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		flush_aged_locked(s); /* waiting for input: the prompt goes out */
		if (!s->rx_count)
			return 0;
		uint8_t c = s->rx[s->rx_head];
		s->rx_head = (s->rx_head + 1) % SERIAL_FIFO;
		s->rx_count--;
		return c;
	case IER:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case IIR_FCR: {
		uint8_t v = iir(s);
		if ((v & 0x0f) == IIR_THRI)
			s->thri = 0; /* reading IIR acknowledges THRE */
		return v;
	}
	case LCR:
		return s->lcr;
	case MCR:
		return s->mcr;
	case LSR:
		flush_aged_locked(s); /* polling for room or input */
		return LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
	case MSR:
		return msr(s);
	default:
		return s->scr;
	}
}

static void write_reg(struct serial *s, unsigned reg, uint8_t v)
{
	switch (reg) {
	case RBR_THR:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
			return;
		}
		transmit(s, v);
		s->thri = 1; /* sent at once: the holding register is empty again */
		break;
	case IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			return;
		}
		if (!(s->ier & IER_THRI) && (v & IER_THRI))
			s->thri = 1;
		s->ier = v & 0x0f;
		break;
	case IIR_FCR:
		s->fcr = v & 0xc9;
		if (v & FCR_CLEAR_RX)
			s->rx_count = s->rx_head = 0;
		break;
	case LCR:
		s->lcr = v;
		break;
	case MCR:
		s->mcr = v & 0x1f;
		break;
	case SCR:
		s->scr = v;
		break;
	default: /* LSR, MSR are read-only */
		break;
	}
}

static void serial_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	struct serial *s = dev;
	memset(data, 0, size);
	data[0] = read_reg(s, (unsigned)off);
	update_irq(s);
}

static void serial_write(void *dev, uint64_t off, const uint8_t *data, unsigned size)
{
	struct serial *s = dev;
	(void)size;
	write_reg(s, (unsigned)off, data[0]);
	update_irq(s);
}

const struct io_ops serial_ops = {serial_read, serial_write};

void serial_init(struct serial *s, const struct irq_line *irq, int out_fd)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->irq = *irq;
	s->out_fd = out_fd;
	s->mcr = MCR_OUT2;
	s->dll = 12; /* 9600 baud */
}

void serial_destroy(struct serial *s)
{
	pthread_mutex_destroy(&s->lock);
}

void serial_set_buffered(struct serial *s, int on)
{
	pthread_mutex_lock(&s->lock);
	if (!on)
		flush_locked(s);
	s->buffered = on;
	pthread_mutex_unlock(&s->lock);
}

/* Flush what is held (only what has aged, if aged), taking the lock only
 * when something is held. */
static void flush(struct serial *s, int aged)
{
	if (!__atomic_load_n(&s->tx_len, __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&s->lock);
	if (aged)
		flush_aged_locked(s);
	else
		flush_locked(s);
	pthread_mutex_unlock(&s->lock);
}

void serial_flush(struct serial *s)
{
	flush(s, 0);
}

void serial_flush_aged(struct serial *s)
{
	flush(s, 1);
}

void serial_discard_output(struct serial *s)
{
	__atomic_store_n(&s->discard, 1, __ATOMIC_RELEASE);
}

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
	pthread_mutex_lock(&s->lock);
	size_t n = 0;
	while (n < len && s->rx_count < SERIAL_FIFO) {
		s->rx[(s->rx_head + s->rx_count) % SERIAL_FIFO] = buf[n++];
		s->rx_count++;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}
