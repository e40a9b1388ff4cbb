/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test=smp and test=hlt: find the vCPUs in the Intel MP table, start the application
 * processors with INIT-SIPI-SIPI and a real-mode trampoline, wait (bounded) for each
 * to report in.
 */
#include "guest.h"
#include "io.h"

#define LAPIC_BASE     0xfee00000ull
#define LAPIC_ID       0x020
#define LAPIC_SVR      0x0f0
#define LAPIC_ICR_LO   0x300
#define LAPIC_ICR_HI   0x310
#define ICR_INIT       0x00004500u
#define ICR_STARTUP    0x00004600u
#define ICR_BUSY       0x00001000u
#define ICR_ALL_BUT_ME 0x000c0000u
#define WAIT_CYCLES    20000000000ul /* bounded wait for APs: ~7-10 s at 2-3 GHz */

struct mp_info {
	int found;
	uint32_t ncpus;
	uint8_t apic_ids[MAX_CPUS];
	uint32_t lapic, ioapic;
	uint32_t count, walked; /* entries: header count, entries found */
	uint64_t paddr;
};

static volatile uint32_t cpus_up;

static uint32_t lapic_read(uint32_t reg)
{
	return mmio_read32(LAPIC_BASE + reg);
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(LAPIC_BASE + reg, v);
}

static void delay_cycles(uint64_t n)
{
	uint64_t t0 = rdtsc();
	while (rdtsc() - t0 < n)
		cpu_relax();
}

static int checksum_ok(const uint8_t *p, uint32_t len)
{
	uint8_t s = 0;
	for (uint32_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s == 0;
}

static const uint8_t *scan_mp(uint64_t start, uint64_t len)
{
	for (uint64_t a = start; a + 16 <= start + len; a += 16) {
		const uint8_t *p = (const uint8_t *)(uintptr_t)a;
		if (p[0] == '_' && p[1] == 'M' && p[2] == 'P' && p[3] == '_' && p[8] == 1 &&
		    checksum_ok(p, 16))
			return p;
	}
	return 0;
}

static void mp_parse(struct mp_info *mp)
{
	const uint8_t *fp = scan_mp(0x9fc00, 0x400);
	if (!fp) {
		uint16_t ebda_seg;
		memcpy(&ebda_seg, (const void *)0x40e, 2);
		uint64_t ebda = (uint64_t)ebda_seg << 4;
		if (ebda >= 0x80000 && ebda < 0xa0000)
			fp = scan_mp(ebda, 0x400);
	}
	if (!fp)
		fp = scan_mp(0xf0000, 0x10000);
	if (!fp)
		return;
	mp->paddr = (uintptr_t)fp;
	uint32_t cfg;
	memcpy(&cfg, fp + 4, 4);
	if (!cfg || cfg >= 0x100000) /* the table lives below 1 MiB */
		return;
	const uint8_t *t = (const uint8_t *)(uintptr_t)cfg;
	uint16_t len, count;
	memcpy(&len, t + 4, 2);
	memcpy(&count, t + 34, 2);
	if (memcmp(t, "PCMP", 4) || len < 44 || cfg + len > 0x100000 || !checksum_ok(t, len))
		return;
	mp->found = 1;
	memcpy(&mp->lapic, t + 36, 4);
	uint32_t off = 44;
	/* Walk the entries by the table length: some firmware leaves the count at 0. */
	mp->count = count;
	while (off < len) {
		uint8_t type = t[off];
		uint32_t sz = type == 0 ? 20 : 8;
		if (type > 4 || off + sz > len)
			break;
		if (type == 0 && (t[off + 3] & 1) && mp->ncpus < MAX_CPUS)
			mp->apic_ids[mp->ncpus++] = t[off + 1];
		if (type == 2 && !mp->ioapic)
			memcpy(&mp->ioapic, t + off + 4, 4);
		off += sz;
		mp->walked++;
	}
}

static void send_ipi(uint32_t dest, uint32_t lo)
{
	lapic_write(LAPIC_ICR_HI, dest << 24);
	lapic_write(LAPIC_ICR_LO, lo);
	for (int i = 0; i < 100000 && (lapic_read(LAPIC_ICR_LO) & ICR_BUSY); i++)
		cpu_relax();
}

static void start_aps(const struct mp_info *mp, uint32_t self)
{
	memcpy((void *)AP_TRAMPOLINE_ADDR, ap_tramp_start, (size_t)(ap_tramp_end - ap_tramp_start));
	lapic_write(LAPIC_SVR, 0x1ff); /* software-enable the local APIC */
	uint32_t vector = AP_TRAMPOLINE_ADDR >> 12;
	if (!mp->found) {
		send_ipi(0, ICR_INIT | ICR_ALL_BUT_ME);
		delay_cycles(10000000);
		send_ipi(0, ICR_STARTUP | ICR_ALL_BUT_ME | vector);
		delay_cycles(1000000);
		send_ipi(0, ICR_STARTUP | ICR_ALL_BUT_ME | vector);
		return;
	}
	for (uint32_t i = 0; i < mp->ncpus; i++) {
		if (mp->apic_ids[i] == self)
			continue;
		send_ipi(mp->apic_ids[i], ICR_INIT);
		delay_cycles(10000000);
		send_ipi(mp->apic_ids[i], ICR_STARTUP | vector);
		delay_cycles(1000000);
		send_ipi(mp->apic_ids[i], ICR_STARTUP | vector);
	}
}

void ap_main(void)
{
	uint32_t id = lapic_read(LAPIC_ID) >> 24;
	gprintf("cpu %u up\n", id);
	__atomic_fetch_add(&cpus_up, 1, __ATOMIC_SEQ_CST);
	halt_forever();
}

void test_smp(const struct bootinfo *bi, int halt)
{
	struct mp_info mp = {0};
	mp_parse(&mp);
	uint32_t self = lapic_read(LAPIC_ID) >> 24;
	uint32_t want;
	if (mp.found) {
		gprintf("mptable: 0x%lx cpus=%u lapic=0x%x ioapic=0x%x entries=%u/%u\n", mp.paddr,
		        mp.ncpus, mp.lapic, mp.ioapic, mp.walked, mp.count);
		want = mp.ncpus;
	} else {
		/* No MP table: broadcast the start-up and take the expected count from
		 * the command line (cpus=N), if given. */
		want = (uint32_t)cmdline_num(bi->cmdline, "cpus", 0);
		gprintf("mptable: none (expected cpus from cmdline: %u)\n", want);
	}
	gprintf("cpu %u up (bsp)\n", self);
	cpus_up = 1;
	start_aps(&mp, self);
	uint64_t t0 = rdtsc();
	while (rdtsc() - t0 < WAIT_CYCLES) {
		if (want && cpus_up >= want)
			break;
		cpu_relax();
	}
	uint32_t up = cpus_up;
	if (halt) {
		gprintf("hlt: %u cpus halted, halting forever\n", up);
		halt_forever();
	}
	gprintf("smp: %u/%u cpus up\n", up, want);
	if (!want || up != want) {
		gprintf("smp: not every cpu reported in within %lu cycles\n", WAIT_CYCLES);
		guest_exit(1);
	}
	guest_exit(0);
}
