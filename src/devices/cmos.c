/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/cmos.h"

#include <string.h>

#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS   0x04
#define RTC_WEEKDAY 0x06
#define RTC_DAY     0x07
#define RTC_MONTH   0x08
#define RTC_YEAR    0x09
#define RTC_REG_A   0x0a
#define RTC_REG_B   0x0b
#define RTC_REG_C   0x0c
#define RTC_REG_D   0x0d
#define RTC_CENTURY 0x32

static uint8_t bcd(int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

struct civil {
	int year, month, day, hour, min, sec, wday; /* month 1-12, wday 0 = Sunday */
};

/* UTC calendar fields by arithmetic (days-from-civil inverted): no libc time
 * zone code, which would open files from a sandboxed vCPU thread. */
static struct civil civil_from_time(int64_t t)
{
	struct civil c;
	int64_t days = t / 86400, rem = t % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	c.hour = (int)(rem / 3600);
	c.min = (int)(rem % 3600 / 60);
	c.sec = (int)(rem % 60);
	c.wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	int64_t doe = days - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	c.day = (int)(doy - (153 * mp + 2) / 5 + 1);
	c.month = (int)(mp < 10 ? mp + 3 : mp - 9);
	c.year = (int)(yoe + era * 400 + (c.month <= 2));
	return c;
}

static uint8_t clock_reg(struct cmos *c, uint8_t reg)
{
	struct civil t = civil_from_time((int64_t)(c->now ? c->now() : time(NULL)));
	switch (reg) {
	case RTC_SECONDS:
		return bcd(t.sec);
	case RTC_MINUTES:
		return bcd(t.min);
	case RTC_HOURS:
		return bcd(t.hour);
	case RTC_WEEKDAY:
		return bcd(t.wday + 1);
	case RTC_DAY:
		return bcd(t.day);
	case RTC_MONTH:
		return bcd(t.month);
	case RTC_YEAR:
		return bcd(t.year % 100);
	default:
		return bcd(t.year / 100);
	}
}

static void cmos_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	struct cmos *c = dev;
	memset(data, 0, size);
	if (off == 0) {
		data[0] = 0xff; /* the index register is write-only */
		return;
	}
	uint8_t r = c->index;
	if (r <= RTC_YEAR || r == RTC_CENTURY)
		data[0] = clock_reg(c, r);
	else if (r == RTC_REG_C)
		data[0] = 0; /* no interrupt flags: reading clears them */
	else
		data[0] = c->ram[r];
}

static void cmos_write(void *dev, uint64_t off, const uint8_t *data, unsigned size)
{
	struct cmos *c = dev;
	(void)size;
	if (off == 0) {
		c->index = data[0] & 0x7f; /* bit 7 is the NMI mask */
		return;
	}
	uint8_t r = c->index;
	/* The clock follows the host; writes to it and to C/D are ignored. */
	if (r <= RTC_YEAR || r == RTC_CENTURY || r == RTC_REG_C || r == RTC_REG_D)
		return;
	if (r == RTC_REG_A)
		c->ram[r] = data[0] & 0x7f; /* UIP is read-only */
	else
		c->ram[r] = data[0];
}

const struct io_ops cmos_ops = {cmos_read, cmos_write};

void cmos_init(struct cmos *c, uint64_t ram_size)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->ram[RTC_REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate */
	c->ram[RTC_REG_B] = 0x02; /* 24-hour, BCD, no interrupts */
	c->ram[RTC_REG_D] = 0x80; /* battery good */
	/* Memory size in the classic CMOS fields (KiB above 1 MiB, 64 KiB above 16 MiB). */
	uint64_t ext_kib = ram_size > (1 << 20) ? (ram_size - (1 << 20)) >> 10 : 0;
	if (ext_kib > 0xffff)
		ext_kib = 0xffff;
	c->ram[0x17] = c->ram[0x30] = (uint8_t)ext_kib;
	c->ram[0x18] = c->ram[0x31] = (uint8_t)(ext_kib >> 8);
	uint64_t above16 = ram_size > (16 << 20) ? (ram_size - (16 << 20)) >> 16 : 0;
	if (above16 > 0xffff)
		above16 = 0xffff;
	c->ram[0x34] = (uint8_t)above16;
	c->ram[0x35] = (uint8_t)(above16 >> 8);
}

void cmos_destroy(struct cmos *c)
{
	pthread_mutex_destroy(&c->lock);
}
