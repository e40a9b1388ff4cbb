/* SPDX-License-Identifier: Apache-2.0 */
/* The VM is a value: two VMs run at once in one process through the library
 * API, each with its own devices and console. Also the device models on
 * their own (serial, i8042, CMOS) through their bus interface. */
#include "vm/vmtest.h"

#include "devices/cmos.h"
#include "devices/i8042.h"
#include "devices/serial.h"
#include "vm/vm.h"

#include <poll.h>
#include <pthread.h>

struct job {
	struct vm *vm;
	struct vm_result res;
	int rc;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	struct err e = {0};
	j->rc = vm_run(j->vm, &j->res, &e);
	return NULL;
}

static struct vm *make_vm(const char *cmdline, unsigned cpus, int out_fd)
{
	struct vm_config cfg = {
	    .kernel = guest_path("testguest.elf"),
	    .cmdline = cmdline,
	    .cpus = cpus,
	    .memory = 64ULL << 20,
	    .console_out = out_fd,
	    .console_in = -1,
	};
	struct err pe = {0};
	if (accel_parse(vm_test_accel(), &cfg.accel, &pe))
		printf("# note: %s\n", pe.msg);
	struct vm *vm = NULL;
	struct err e = {0};
	if (vm_create(&vm, &cfg, &e))
		printf("# note: vm_create: %s\n", e.msg);
	return vm;
}

static void two_vms_in_one_process(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char *dir = test_tmpdir();
	char pa[4200], pb[4200];
	snprintf(pa, sizeof(pa), "%s/a.log", dir);
	snprintf(pb, sizeof(pb), "%s/b.log", dir);
	int fa = open(pa, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int fb = open(pb, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fa >= 0 && fb >= 0);
	for (int round = 0; round < 3; round++) {
		struct job a = {.vm = make_vm("test=smp", 2, fa)};
		struct job b = {.vm = make_vm("test=exit code=7", 1, fb)};
		assert_non_null(a.vm);
		assert_non_null(b.vm);
		pthread_t ta, tb;
		assert_int_equal(pthread_create(&ta, NULL, run_job, &a), 0);
		assert_int_equal(pthread_create(&tb, NULL, run_job, &b), 0);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		assert_int_equal(a.rc, 0);
		assert_int_equal(b.rc, 0);
		assert_int_equal(a.res.reason, VM_END_DEBUG_EXIT);
		assert_int_equal(a.res.status, 0);
		assert_int_equal(b.res.reason, VM_END_DEBUG_EXIT);
		assert_int_equal(b.res.status, 7);
		vm_destroy(a.vm);
		vm_destroy(b.vm);
	}
	close(fa);
	close(fb);
	char *la = read_file(pa, NULL), *lb = read_file(pb, NULL);
	assert_non_null(strstr(la, "smp: 2/2 cpus up"));
	assert_null(strstr(la, "exit 7"));
	assert_non_null(strstr(lb, "capsa test guest: exit 7"));
	assert_null(strstr(lb, "smp:"));
	free(la);
	free(lb);
	unlink(pa);
	unlink(pb);
	rmdir(dir);
	free(dir);
}

static void end_request_from_outside(void **state)
{
	(void)state;
	REQUIRE_KVM();
	struct job j = {.vm = make_vm("test=hlt", 2, -1)};
	assert_non_null(j.vm);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, run_job, &j), 0);
	usleep(100000);
	vm_request_end(j.vm, VM_END_SIGNAL, 15);
	vm_request_end(j.vm, VM_END_RESET, 0); /* the first request wins */
	pthread_join(t, NULL);
	assert_int_equal(j.rc, 0);
	assert_int_equal(j.res.reason, VM_END_SIGNAL);
	assert_int_equal(j.res.status, 128 + 15);
	vm_destroy(j.vm);
}

/* ---- device models ---- */

struct irq_log {
	int level, changes;
};

static void log_irq(void *ctx, unsigned irq, int level)
{
	struct irq_log *l = ctx;
	assert_int_equal(irq, 4);
	l->level = level;
	l->changes++;
}

static uint8_t rd(const struct io_ops *ops, void *dev, uint64_t off)
{
	uint8_t v[4] = {0};
	ops->read(dev, off, v, 1);
	return v[0];
}

static void wr(const struct io_ops *ops, void *dev, uint64_t off, uint8_t v)
{
	ops->write(dev, off, &v, 1);
}

/* A UART on IRQ 4, logged in *log, its output into the pipe p. */
static void uart_open(int p[2], struct irq_log *log, struct irq_line *line, struct serial *s)
{
	assert_int_equal(pipe(p), 0);
	*log = (struct irq_log){0};
	*line = (struct irq_line){log_irq, log, 4};
	serial_init(s, line, p[1]);
}

static void serial_uart(void **state)
{
	(void)state;
	int p[2];
	struct irq_log log;
	struct irq_line line;
	struct serial s;
	uart_open(p, &log, &line, &s);
	/* transmit */
	wr(&serial_ops, &s, 0, 'h');
	wr(&serial_ops, &s, 0, 'i');
	char out[2];
	assert_int_equal(read(p[0], out, 2), 2);
	assert_memory_equal(out, "hi", 2);
	assert_int_equal(rd(&serial_ops, &s, 5) & 0x60, 0x60); /* THRE|TEMT */
	/* scratch register */
	wr(&serial_ops, &s, 7, 0x5a);
	assert_int_equal(rd(&serial_ops, &s, 7), 0x5a);
	/* FIFO enabled: IIR reports it */
	wr(&serial_ops, &s, 2, 0x01);
	assert_int_equal(rd(&serial_ops, &s, 2) & 0xc0, 0xc0);
	/* THR-empty interrupt: raised on enable, acknowledged by reading IIR */
	wr(&serial_ops, &s, 1, 0x02);
	assert_int_equal(log.level, 1);
	assert_int_equal(rd(&serial_ops, &s, 2) & 0x0f, 0x02);
	assert_int_equal(log.level, 0);
	/* receive: data-ready interrupt and bytes in order, FIFO bounded */
	wr(&serial_ops, &s, 1, 0x01);
	uint8_t many[100];
	memset(many, 'x', sizeof(many));
	many[0] = 'a';
	assert_int_equal(serial_receive(&s, many, sizeof(many)), SERIAL_FIFO);
	assert_int_equal(log.level, 1);
	assert_int_equal(rd(&serial_ops, &s, 2) & 0x0f, 0x04);
	assert_int_equal(rd(&serial_ops, &s, 5) & 1, 1);
	assert_int_equal(rd(&serial_ops, &s, 0), 'a');
	for (int i = 1; i < SERIAL_FIFO; i++)
		assert_int_equal(rd(&serial_ops, &s, 0), 'x');
	assert_int_equal(rd(&serial_ops, &s, 5) & 1, 0);
	assert_int_equal(log.level, 0);
	/* divisor latch */
	wr(&serial_ops, &s, 3, 0x80);
	wr(&serial_ops, &s, 0, 0x01);
	wr(&serial_ops, &s, 1, 0x00);
	assert_int_equal(rd(&serial_ops, &s, 0), 0x01);
	wr(&serial_ops, &s, 3, 0x03);
	/* loopback: MSR mirrors MCR, THR comes back as RBR */
	wr(&serial_ops, &s, 4, 0x1a);
	assert_int_equal(rd(&serial_ops, &s, 6) & 0xf0, 0x90);
	wr(&serial_ops, &s, 0, 'L');
	assert_int_equal(rd(&serial_ops, &s, 0), 'L');
	serial_destroy(&s);
	close(p[0]);
	close(p[1]);
}

/* Bytes waiting in the read end of a pipe (without blocking), NUL-ended. */
static size_t pipe_take(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	struct pollfd p = {fd, POLLIN, 0};
	while (got < cap - 1 && poll(&p, 1, 0) == 1) {
		ssize_t k = read(fd, buf + got, cap - 1 - got);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	buf[got] = '\0';
	return got;
}

/* Buffered, transmitted bytes wait for a newline, a full buffer, a flush,
 * or (held for SERIAL_HOLD_NS) a poll of the line status register or a
 * flush of aged bytes; unbuffered ones go out at once. */
static void serial_buffered_output(void **state)
{
	(void)state;
	int p[2];
	struct irq_log log;
	struct irq_line line;
	struct serial s;
	uart_open(p, &log, &line, &s);
	serial_set_buffered(&s, 1);
	char out[512];
	/* a line goes out whole at its newline */
	wr(&serial_ops, &s, 0, 'a');
	wr(&serial_ops, &s, 0, 'b');
	assert_int_equal(pipe_take(p[0], out, sizeof(out)), 0);
	wr(&serial_ops, &s, 0, '\n');
	assert_int_equal(pipe_take(p[0], out, sizeof(out)), 3);
	assert_string_equal(out, "ab\n");
	/* a prompt: held while fresh, out once aged or flushed */
	wr(&serial_ops, &s, 0, '>');
	assert_int_equal(rd(&serial_ops, &s, 5) & 0x60, 0x60);
	serial_flush_aged(&s);
	assert_int_equal(pipe_take(p[0], out, sizeof(out)), 0);
	usleep(2 * SERIAL_HOLD_NS / 1000);
	serial_flush_aged(&s);
	assert_int_equal(pipe_take(p[0], out, sizeof(out)), 1);
	assert_string_equal(out, ">");
	wr(&serial_ops, &s, 0, '?');
	usleep(2 * SERIAL_HOLD_NS / 1000);
	rd(&serial_ops, &s, 5); /* polling the line status: out too */
	assert_int_equal(pipe_take(p[0], out, sizeof(out)), 1);
	assert_string_equal(out, "?");
	wr(&serial_ops, &s, 0, '$');
	serial_flush(&s); /* the guest halts, the VM pauses or ends */
	assert_int_equal(pipe_take(p[0], out, sizeof(out)), 1);
	assert_string_equal(out, "$");
	/* a full buffer goes out without a newline */
	for (int i = 0; i < SERIAL_TXBUF - 1; i++)
		wr(&serial_ops, &s, 0, 'x');
	assert_int_equal(pipe_take(p[0], out, sizeof(out)), 0);
	wr(&serial_ops, &s, 0, 'y');
	assert_int_equal(pipe_take(p[0], out, sizeof(out)), SERIAL_TXBUF);
	assert_int_equal(out[SERIAL_TXBUF - 1], 'y');
	/* unbuffered again: what was held goes out, then every byte at once */
	wr(&serial_ops, &s, 0, 'h');
	serial_set_buffered(&s, 0);
	wr(&serial_ops, &s, 0, 'i');
	assert_int_equal(pipe_take(p[0], out, sizeof(out)), 2);
	assert_string_equal(out, "hi");
	assert_int_equal(s.tx_bytes, 3 + 1 + 1 + 1 + SERIAL_TXBUF + 2);
	serial_destroy(&s);
	close(p[0]);
	close(p[1]);
}

struct end_log {
	enum vm_end_reason why;
	int n;
};

static void log_end(void *ctx, enum vm_end_reason why, int status)
{
	struct end_log *l = ctx;
	(void)status;
	l->why = why;
	l->n++;
}

static void i8042_controller(void **state)
{
	(void)state;
	struct end_log log = {0};
	struct vm_control ctl = {log_end, &log};
	struct i8042 k;
	i8042_init(&k, &ctl, NULL, NULL);
	wr(&i8042_ops, &k, 4, 0xaa); /* self test */
	assert_int_equal(rd(&i8042_ops, &k, 4) & 1, 1);
	assert_int_equal(rd(&i8042_ops, &k, 0), 0x55);
	assert_int_equal(rd(&i8042_ops, &k, 4) & 1, 0);
	wr(&i8042_ops, &k, 4, 0x60); /* write CTR */
	wr(&i8042_ops, &k, 0, 0x47);
	wr(&i8042_ops, &k, 4, 0x20); /* read CTR */
	assert_int_equal(rd(&i8042_ops, &k, 0), 0x47);
	assert_int_equal(log.n, 0);
	wr(&i8042_ops, &k, 4, 0xfe); /* pulse reset */
	assert_int_equal(log.n, 1);
	assert_int_equal(log.why, VM_END_RESET);
	assert_int_equal(rd(&i8042_ops, &k, 2), 0xff); /* not ours */
	i8042_destroy(&k);
}

static void count_rising(void *ctx, unsigned irq, int level)
{
	(void)irq;
	if (level)
		++*(int *)ctx;
}

/* Read every typed byte the way Linux's i8042 driver does: one per
 * interrupt, while the status register says the output buffer is full. */
static size_t read_keys(struct i8042 *k, const int *irqs, uint8_t *got, size_t cap)
{
	size_t n = 0;
	while (n < cap && (rd(&i8042_ops, k, 4) & 1)) {
		assert_int_equal(*irqs, (int)n + 1); /* one edge per byte */
		got[n++] = (uint8_t)rd(&i8042_ops, k, 0);
	}
	return n;
}

/* SendCtrlAltDel: the scancodes arrive in order, one byte and one IRQ 1 at
 * a time, in set 1 when the guest asked for translation, else set 2; none
 * while the keyboard port is disabled. */
static void i8042_ctrl_alt_del_keys(void **state)
{
	(void)state;
	struct end_log log = {0};
	struct vm_control ctl = {log_end, &log};
	int irqs = 0;
	struct irq_line kbd = {count_rising, &irqs, 1};
	struct i8042 k;
	i8042_init(&k, &ctl, &kbd, NULL);
	i8042_ctrl_alt_del(&k); /* port disabled since reset: held back */
	assert_int_equal(rd(&i8042_ops, &k, 4) & 1, 0);
	assert_int_equal(irqs, 0);
	wr(&i8042_ops, &k, 4, 0x60); /* CTR: keyboard interrupt, translation */
	wr(&i8042_ops, &k, 0, 0x41 | 0x04);
	uint8_t got[32];
	static const uint8_t set1[] = {0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d};
	assert_int_equal(read_keys(&k, &irqs, got, sizeof(got)), sizeof(set1));
	assert_memory_equal(got, set1, sizeof(set1));

	irqs = 0;
	wr(&i8042_ops, &k, 4, 0x60); /* no translation: set 2 */
	wr(&i8042_ops, &k, 0, 0x01 | 0x04);
	i8042_ctrl_alt_del(&k);
	static const uint8_t set2[] = {0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0,
	                               0x71, 0xf0, 0x11, 0xf0, 0x14};
	assert_int_equal(read_keys(&k, &irqs, got, sizeof(got)), sizeof(set2));
	assert_memory_equal(got, set2, sizeof(set2));
	assert_int_equal(log.n, 0);
	i8042_destroy(&k);
}

/* The two one-byte ranges used when port 0x61 belongs to a user-space PIT. */
static void i8042_split_ports(void **state)
{
	(void)state;
	struct end_log log = {0};
	struct vm_control ctl = {log_end, &log};
	struct i8042 k;
	i8042_init(&k, &ctl, NULL, NULL);
	wr(&i8042_cmd_ops, &k, 0, 0xaa);
	assert_int_equal(rd(&i8042_cmd_ops, &k, 0) & 1, 1);
	assert_int_equal(rd(&i8042_data_ops, &k, 0), 0x55);
	wr(&i8042_cmd_ops, &k, 0, 0xfe);
	assert_int_equal(log.why, VM_END_RESET);
	i8042_destroy(&k);
}

static time_t sample_time;
static time_t sample_now(void)
{
	return sample_time;
}

static time_t fixed_time(void)
{
	return 1700000000; /* 2023-11-14 22:13:20 UTC */
}

static void cmos_rtc(void **state)
{
	(void)state;
	struct cmos c;
	cmos_init(&c, 256ULL << 20);
	c.now = fixed_time;
	const uint8_t regs[][2] = {{0x00, 0x20}, {0x02, 0x13}, {0x04, 0x22}, {0x06, 0x03},
	                           {0x07, 0x14}, {0x08, 0x11}, {0x09, 0x23}, {0x32, 0x20},
	                           {0x0a, 0x26}, {0x0b, 0x02}, {0x0d, 0x80}};
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		wr(&cmos_ops, &c, 0, regs[i][0] | 0x80); /* NMI mask bit is ignored */
		assert_int_equal(rd(&cmos_ops, &c, 1), regs[i][1]);
	}
	wr(&cmos_ops, &c, 0, 0x40); /* NVRAM keeps what is written */
	wr(&cmos_ops, &c, 1, 0x99);
	wr(&cmos_ops, &c, 0, 0x40);
	assert_int_equal(rd(&cmos_ops, &c, 1), 0x99);
	wr(&cmos_ops, &c, 0, 0x00); /* the clock ignores writes */
	wr(&cmos_ops, &c, 1, 0x59);
	assert_int_equal(rd(&cmos_ops, &c, 1), 0x20);
	/* the clock matches the C library's UTC calendar across leap years and centuries */
	static const time_t samples[] = {0,          951782400,  951868799,  946684799,
	                                 1709164800, 4107542399, 1234567890, 2147483647};
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		sample_time = samples[i];
		c.now = sample_now;
		struct tm tm;
		gmtime_r(&samples[i], &tm);
		const int want[][2] = {{0x00, tm.tm_sec},        {0x02, tm.tm_min},
		                       {0x04, tm.tm_hour},       {0x06, tm.tm_wday + 1},
		                       {0x07, tm.tm_mday},       {0x08, tm.tm_mon + 1},
		                       {0x09, tm.tm_year % 100}, {0x32, (tm.tm_year + 1900) / 100}};
		for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
			wr(&cmos_ops, &c, 0, (uint8_t)want[k][0]);
			uint8_t v = rd(&cmos_ops, &c, 1);
			assert_int_equal((v >> 4) * 10 + (v & 15), want[k][1]);
		}
	}
	cmos_destroy(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(two_vms_in_one_process),
	    cmocka_unit_test(end_request_from_outside),
	    cmocka_unit_test(serial_uart),
	    cmocka_unit_test(serial_buffered_output),
	    cmocka_unit_test(i8042_controller),
	    cmocka_unit_test(i8042_ctrl_alt_del_keys),
	    cmocka_unit_test(i8042_split_ports),
	    cmocka_unit_test(cmos_rtc),
	};
	return RUN_VM_GROUPS("vm library", tests, NULL, NULL);
}
