/* SPDX-License-Identifier: Apache-2.0 */
/* test=virtio-console-bench rounds=N size=S mib=M: the peer of the vsock
 * benchmark on VMMs without a usable vsock (QEMU needs vhost-vsock): a polling
 * virtio-console driver (device ID 3, no MULTIPORT, so port 0 on queues 0 and
 * 1) sends N messages of S bytes to a host echo on the console's chardev and
 * waits for each to come back, then streams M MiB through it; rdtsc cycles,
 * printed as by test=virtio-vsock-bench. */
#include "guest.h"
#include "io.h"
#include "virtio_drv.h"

#define Q_RX  0
#define Q_TX  1
#define NRX   16
#define RXLEN 65536
#define NTX   16
#define TXLEN 32768
#define WAIT  (40ull * 1000 * 1000 * 1000)
/* QEMU's virtconsole drops what its chardev cannot take at once, so at most
 * this much is in flight (the vsock benchmark uses the same window). */
#define WINDOW (128u << 10)

static uint8_t rxbuf[NRX][RXLEN] __attribute__((aligned(64)));
static uint8_t txbuf[NTX][TXLEN] __attribute__((aligned(64)));
static int txbusy[NTX];
static struct vdev dev;

static void post(unsigned q, uint16_t i, void *p, uint32_t len, int write)
{
	dev.q[q].desc[i] = (struct vdesc){(uintptr_t)p, len, (uint16_t)(write ? F_WRITE : 0), 0};
	vdrv_publish(&dev, q, i);
}

/* A free transmit slot, or -1 for now. */
static int tx_slot(void)
{
	uint32_t id, len;
	while (vdrv_poll_used(&dev, Q_TX, &id, &len))
		if (id < NTX)
			txbusy[id] = 0;
	for (int i = 0; i < NTX; i++)
		if (!txbusy[i])
			return i;
	return -1;
}

/* Received bytes (buffers given back at once). */
static unsigned rx_out; /* buffers the device holds, as far as we know */

/* Received bytes; buffers go back at once, with a kick only when the device
 * may be running short (a kick is a VM exit). */
static uint64_t poll_rx(void)
{
	uint32_t id, len;
	uint64_t got = 0;
	int n = 0;
	while (vdrv_poll_used(&dev, Q_RX, &id, &len)) {
		if (id < NRX) {
			got += len;
			rx_out--;
			post(Q_RX, (uint16_t)id, rxbuf[id], RXLEN, 1);
			n++;
		}
	}
	if (n && rx_out < NRX / 2)
		vdrv_kick(&dev, Q_RX);
	rx_out += (unsigned)n;
	return got;
}

/* Send total bytes and wait until as many came back. */
static int stream(uint64_t total, uint64_t *cycles)
{
	uint64_t sent = 0, back = 0, t0 = rdtsc(), last = t0;
	while (back < total) {
		int s = sent < total && sent - back < WINDOW ? tx_slot() : -1;
		if (s >= 0) {
			uint32_t n = total - sent < TXLEN ? (uint32_t)(total - sent) : TXLEN;
			if (n > WINDOW - (sent - back))
				n = (uint32_t)(WINDOW - (sent - back));
			txbusy[s] = 1;
			post(Q_TX, (uint16_t)s, txbuf[s], n, 0);
			vdrv_kick(&dev, Q_TX);
			sent += n;
			last = rdtsc();
		}
		uint64_t g = poll_rx();
		back += g;
		uint64_t now = rdtsc();
		if (g)
			last = now;
		if (now - last > WAIT) {
			gprintf("console: stream stalled sent=%lu back=%lu\n", sent, back);
			return -1;
		}
	}
	if (cycles)
		*cycles = rdtsc() - t0;
	return 0;
}

static const char *cmdline;

static void bench_main(uint64_t unused)
{
	(void)unused;
	if (!vdrv_find(&dev, cmdline, 3)) {
		gputs("console: no virtio-console device\n");
		guest_exit(1);
	}
	if (vdrv_init(&dev, 0, 2))
		guest_exit(1);
	dev.q[Q_RX].avail[0] = dev.q[Q_TX].avail[0] = 1; /* no interrupts: we poll */
	for (unsigned i = 0; i < NRX; i++)
		post(Q_RX, (uint16_t)i, rxbuf[i], RXLEN, 1);
	rx_out = NRX;
	vdrv_kick(&dev, Q_RX);
	uint64_t rounds = cmdline_num(cmdline, "rounds", 10000);
	uint64_t size = cmdline_num(cmdline, "size", 64);
	uint64_t mib = cmdline_num(cmdline, "mib", 64);
	if (size < 1 || size > TXLEN)
		size = 64;
	uint64_t t0 = rdtsc();
	for (uint64_t i = 0; i < rounds; i++)
		if (stream(size, 0))
			guest_exit(1);
	uint64_t rtt = rdtsc() - t0, bulk = 0;
	if (stream(mib << 20, &bulk))
		guest_exit(1);
	gprintf("bench: console rtt rounds=%lu size=%lu cycles=%lu\n", rounds, size, rtt);
	gprintf("bench: console bulk mib=%lu cycles=%lu\n", mib, bulk);
	guest_exit(0);
}

void test_virtio_console(const char *cl, const char *test)
{
	cmdline = cl;
	if (!memcmp(test, "virtio-console-bench", 21))
		run_user(bench_main, 0);
}
