/* SPDX-License-Identifier: Apache-2.0 */
/* test=virtio-blk, virtio-blk-bench, virtio-blk-writer, virtio-blk-swap, virtio-rng,
 * virtio-balloon: device tests at CPL3 on the polling driver in virtio_drv.c
 * (interrupts stay disabled; the used ring is polled). The same code runs
 * under QEMU microvm (vbase=0xfeb00000 vstride=0x200 vcount=24). */
#include "guest.h"
#include "io.h"
#include "virtio_drv.h"

#define QS VDRV_QS

static struct vdev dev;
static struct vdesc *desc; /* queue 0's descriptor table */
static struct vdesc itable[4] __attribute__((aligned(64)));
static uint8_t data[1 << 20] __attribute__((aligned(4096)));

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};
static struct blk_hdr hdrs[QS / 3];
static volatile uint8_t stat[QS / 3];

static const char *cmdline;

static uint32_t rd(uint32_t off)
{
	return vdrv_rd(&dev, off);
}
static void wr(uint32_t off, uint32_t v)
{
	vdrv_wr(&dev, off, v);
}
static int find(uint32_t id)
{
	return vdrv_find(&dev, cmdline, id);
}
/* Negotiate VERSION_1 plus `want` and set up queue 0; 0 on success. */
static int dev_init(uint64_t want)
{
	int rc = vdrv_init(&dev, want, 1);
	desc = dev.q[0].desc;
	return rc;
}
static void publish(uint16_t head)
{
	vdrv_publish(&dev, 0, head);
}
static void kick(void)
{
	vdrv_kick(&dev, 0);
}
/* Wait for one used element; returns its length, or -1 on timeout/NEEDS_RESET. */
static int64_t wait_used(uint32_t *id)
{
	return vdrv_wait_used(&dev, 0, id, 0);
}

/* One blk request with slot s (descriptors 3s..3s+2); not waited for. */
static void blk_submit(unsigned s, uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
	unsigned d = 3 * s;
	hdrs[s] = (struct blk_hdr){type, 0, sector};
	stat[s] = 0xff;
	desc[d] = (struct vdesc){(uintptr_t)&hdrs[s], sizeof(hdrs[s]), F_NEXT, (uint16_t)(d + 1)};
	if (len) {
		desc[d + 1] = (struct vdesc){(uintptr_t)buf, len,
		                             (uint16_t)(F_NEXT | (type == 1 ? 0 : F_WRITE)),
		                             (uint16_t)(d + 2)};
		desc[d + 2] = (struct vdesc){(uintptr_t)&stat[s], 1, F_WRITE, 0};
	} else {
		desc[d].next = (uint16_t)(d + 2);
		desc[d + 2] = (struct vdesc){(uintptr_t)&stat[s], 1, F_WRITE, 0};
	}
	publish((uint16_t)d);
}

static int blk_do(uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
	blk_submit(0, type, sector, buf, len);
	kick();
	if (wait_used(0) < 0)
		return -1;
	return stat[0];
}

static uint32_t sum(const uint8_t *p, uint32_t n)
{
	uint32_t s = 0;
	for (uint32_t i = 0; i < n; i++)
		s += p[i];
	return s;
}

static void blk_main(uint64_t unused)
{
	(void)unused;
	if (!find(2)) {
		gputs("blk: no virtio-blk device\n");
		guest_exit(1);
	}
	gprintf("virtio: base=0x%lx version=%u device=%u\n", dev.base, rd(R_VERSION),
	        rd(R_DEVICE_ID));
	if (dev_init((1ull << 28) | (1ull << 29) | (1ull << 9) | (1ull << 6) | (1ull << 13) |
	             (1ull << 14)))
		guest_exit(1);
	uint64_t cap = rd(R_CONFIG) | ((uint64_t)rd(R_CONFIG + 4) << 32);
	gprintf("blk: capacity=%lu\n", cap);
	int fails = 0;
	/* read sectors 8..15 and report their checksum; the host knows the pattern */
	int st = blk_do(0, 8, data, 4096);
	gprintf("blk: read status=%d sum=0x%x\n", st, sum(data, 4096));
	fails += st != 0;
	/* write sectors 16..23 with (i * 7 + 3) & 0xff; the host checks the file */
	for (uint32_t i = 0; i < 4096; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	st = blk_do(1, 16, data, 4096);
	gprintf("blk: write status=%d\n", st);
	fails += st != 0;
	memset(data, 0, 4096);
	st = blk_do(0, 16, data, 4096);
	int same = 1;
	for (uint32_t i = 0; i < 4096; i++)
		same &= data[i] == (uint8_t)(i * 7 + 3);
	gprintf("blk: read back status=%d same=%d\n", st, same);
	fails += st != 0 || !same;
	st = blk_do(4, 0, 0, 0);
	gprintf("blk: flush status=%d\n", st);
	fails += st != 0;
	memset(data, 0, 64);
	st = blk_do(8, 0, data, 20);
	data[20] = 0;
	gprintf("blk: id status=%d id=%s\n", st, (char *)data);
	st = blk_do(0, cap, data, 512);
	gprintf("blk: beyond end status=%d\n", st);
	fails += st != 1;
	st = blk_do(99, 0, data, 512);
	gprintf("blk: unknown type status=%d\n", st);
	fails += st != 2;
	/* the same read through an indirect table */
	hdrs[0] = (struct blk_hdr){0, 0, 16};
	stat[0] = 0xff;
	memset(data, 0, 4096);
	itable[0] = (struct vdesc){(uintptr_t)&hdrs[0], 16, F_NEXT, 1};
	itable[1] = (struct vdesc){(uintptr_t)data, 4096, F_NEXT | F_WRITE, 2};
	itable[2] = (struct vdesc){(uintptr_t)&stat[0], 1, F_WRITE, 0};
	desc[0] = (struct vdesc){(uintptr_t)itable, 3 * sizeof(struct vdesc), F_INDIRECT, 0};
	publish(0);
	kick();
	int64_t got = wait_used(0);
	same = 1;
	for (uint32_t i = 0; i < 4096; i++)
		same &= data[i] == (uint8_t)(i * 7 + 3);
	gprintf("blk: indirect status=%d len=%d same=%d\n", stat[0], (int)got, same);
	fails += stat[0] != 0 || !same;
	/* a hostile chain: a buffer far outside guest RAM; the device must ask for a reset */
	hdrs[0] = (struct blk_hdr){0, 0, 0};
	desc[0] = (struct vdesc){(uintptr_t)&hdrs[0], 16, F_NEXT, 1};
	desc[1] = (struct vdesc){0x7ff000000000ull, 4096, F_NEXT | F_WRITE, 2};
	desc[2] = (struct vdesc){(uintptr_t)&stat[0], 1, F_WRITE, 0};
	publish(0);
	kick();
	uint32_t s = 0;
	for (int i = 0; i < 1000000 && !(s & ST_NEED_RST); i++)
		s = rd(R_STATUS);
	gprintf("blk: hostile chain status=0x%x\n", s);
	fails += !(s & ST_NEED_RST);
	/* reset, set up again, and the device works */
	if (dev_init((1ull << 28) | (1ull << 29)))
		fails++;
	st = blk_do(0, 16, data, 4096);
	gprintf("blk: after reset status=%d sum=0x%x\n", st, sum(data, 4096));
	fails += st != 0;
	gprintf("blk: failures=%d\n", fails);
	guest_exit(fails ? 1 : 0);
}

static uint64_t capacity(void)
{
	return rd(R_CONFIG) | ((uint64_t)rd(R_CONFIG + 4) << 32);
}

/* The host swaps the disk's file: wait for the capacity to change, then
 * report the configuration-change interrupt bit and sectors 8..15's sum. */
static void swap_main(uint64_t unused)
{
	(void)unused;
	if (!find(2) || dev_init((1ull << 9) | (1ull << 6) | (1ull << 2)))
		guest_exit(1);
	uint64_t cap = capacity();
	gprintf("swap: capacity=%lu waiting\n", cap);
	while (capacity() == cap)
		;
	uint32_t isr = rd(R_ISR);
	wr(R_ISR_ACK, isr);
	int st = blk_do(0, 8, data, 4096);
	gprintf("swap: capacity=%lu isr=%u read status=%d sum=0x%x\n", capacity(), isr, st,
	        sum(data, 4096));
	guest_exit(st ? 1 : 0);
}

static void rng_main(uint64_t unused)
{
	(void)unused;
	if (!find(4)) {
		gputs("rng: no virtio-rng device\n");
		guest_exit(1);
	}
	if (dev_init(0))
		guest_exit(1);
	uint8_t *a = data, *b = data + 4096;
	memset(a, 0, 128);
	desc[0] = (struct vdesc){(uintptr_t)a, 64, F_WRITE, 0};
	publish(0);
	kick();
	int64_t la = wait_used(0);
	desc[0] = (struct vdesc){(uintptr_t)b, 64, F_WRITE, 0};
	publish(0);
	kick();
	int64_t lb = wait_used(0);
	int zero = 1;
	for (int i = 0; i < 64; i++)
		zero &= a[i] == 0;
	int differ = memcmp(a, b, 64) != 0;
	gprintf("rng: got=%d,%d nonzero=%d differ=%d\n", (int)la, (int)lb, !zero, differ);
	guest_exit(la == 64 && lb == 64 && !zero && differ ? 0 : 1);
}

/* Benchmark: 4 KiB random reads (ops=N, depth=D) then 1 MiB sequential reads
 * (mib=M); cycles are rdtsc counts, the host turns them into rates. */
static void bench_main(uint64_t unused)
{
	(void)unused;
	if (!find(2) || dev_init((1ull << 28) | (1ull << 29)))
		guest_exit(1);
	uint64_t cap = rd(R_CONFIG) | ((uint64_t)rd(R_CONFIG + 4) << 32);
	uint64_t ops = cmdline_num(cmdline, "ops", 20000);
	uint64_t depth = cmdline_num(cmdline, "depth", 1);
	uint64_t mib = cmdline_num(cmdline, "mib", 64);
	if (depth < 1 || depth > QS / 3)
		depth = 1;
	uint64_t blocks = cap / 8, seed = 0x9e3779b97f4a7c15ull;
	uint64_t t0 = rdtsc(), done = 0, sent = 0;
	for (; sent < depth && sent < ops; sent++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		blk_submit((unsigned)sent, 0, ((seed >> 20) % blocks) * 8, data + 4096 * sent,
		           4096);
	}
	kick();
	while (done < ops) {
		uint32_t id;
		if (wait_used(&id) < 0)
			guest_exit(1);
		done++;
		if (sent < ops) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			unsigned s = id / 3;
			blk_submit(s, 0, ((seed >> 20) % blocks) * 8, data + 4096 * s, 4096);
			sent++;
			kick();
		}
	}
	uint64_t t1 = rdtsc();
	gprintf("bench: randread4k ops=%lu depth=%lu cycles=%lu\n", ops, depth, t1 - t0);
	uint64_t chunks = cap / 2048, pos = 0;
	t0 = rdtsc();
	for (uint64_t i = 0; i < mib; i++) {
		if (blk_do(0, pos * 2048, data, 1 << 20) != 0)
			guest_exit(1);
		pos = (pos + 1) % (chunks ? chunks : 1);
	}
	t1 = rdtsc();
	gprintf("bench: seqread1m mib=%lu cycles=%lu\n", mib, t1 - t0);
	guest_exit(0);
}

/* Queue depth: read the first blocks=N 4 KiB blocks (default: the whole
 * disk) with depth=D requests in flight, each into its own buffer, and hash
 * the bytes in disk order; the host hashes the image the same way, so a
 * completion matched to the wrong request shows. */
static void depth_main(uint64_t unused)
{
	(void)unused;
	if (!find(2) || dev_init((1ull << 28) | (1ull << 29)))
		guest_exit(1);
	uint64_t cap = rd(R_CONFIG) | ((uint64_t)rd(R_CONFIG + 4) << 32);
	uint64_t depth = cmdline_num(cmdline, "depth", 16);
	uint64_t blocks = cmdline_num(cmdline, "blocks", cap / 8);
	if (depth < 1 || depth > QS / 3)
		depth = QS / 3;
	if (blocks > cap / 8)
		blocks = cap / 8;
	uint32_t hash = 2166136261u;
	uint64_t maxq = 0;
	for (uint64_t b = 0; b < blocks; b += depth) {
		uint64_t n = blocks - b < depth ? blocks - b : depth;
		for (uint64_t k = 0; k < n; k++) {
			stat[k] = 0xff;
			blk_submit((unsigned)k, 0, (b + k) * 8, data + 4096 * k, 4096);
		}
		kick();
		for (uint64_t k = 0; k < n; k++)
			if (wait_used(0) < 0)
				guest_exit(1);
		if (n > maxq)
			maxq = n;
		for (uint64_t k = 0; k < n; k++) {
			if (stat[k] != 0) {
				gprintf("depth: block %lu status=%u\n", b + k, stat[k]);
				guest_exit(1);
			}
			for (unsigned i = 0; i < 4096; i++)
				hash = (hash ^ data[4096 * k + i]) * 16777619u;
		}
	}
	gprintf("depth: blocks=%lu depth=%lu hash=0x%x\n", blocks, maxq, hash);
	guest_exit(0);
}

/* Crash test: 4 KiB writes to sectors 8i, each filled with the 64-bit value
 * i + 1 and flushed; "writer: flushed i" after each flush. */
static void writer_main(uint64_t unused)
{
	(void)unused;
	if (!find(2) || dev_init((1ull << 9) | (1ull << 28) | (1ull << 29)))
		guest_exit(1);
	uint64_t cap = rd(R_CONFIG) | ((uint64_t)rd(R_CONFIG + 4) << 32);
	uint64_t n = cmdline_num(cmdline, "writes", cap / 8);
	if (n > cap / 8)
		n = cap / 8;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t *w = (uint64_t *)data;
		for (unsigned k = 0; k < 512; k++)
			w[k] = i + 1;
		if (blk_do(1, 8 * i, data, 4096) != 0 || blk_do(4, 0, 0, 0) != 0)
			guest_exit(1);
		gprintf("writer: flushed %lu\n", i);
	}
	guest_exit(0);
}

/* Balloon: give back up to 256 pages of `data` (filled with 0xa5 first); after
 * the host has freed them they read as zeros. */
static uint32_t pfns[256];

static void balloon_main(uint64_t unused)
{
	(void)unused;
	if (!find(5))
		guest_exit(1);
	wr(R_DEV_FEATSEL, 0);
	uint32_t deflate_on_oom = (rd(R_DEV_FEAT) >> 2) & 1;
	if (dev_init(0))
		guest_exit(1);
	uint32_t target = rd(R_CONFIG);
	uint32_t n = target < 256 ? target : 256;
	memset(data, 0xa5, 256 * 4096);
	for (uint32_t i = 0; i < n; i++)
		pfns[i] = (uint32_t)(((uintptr_t)data >> 12) + i);
	if (n) {
		desc[0] = (struct vdesc){(uintptr_t)pfns, 4 * n, 0, 0};
		publish(0);
		kick();
		if (wait_used(0) < 0)
			guest_exit(1);
	}
	wr(R_CONFIG + 4, n);
	uint32_t zeroed = 0, kept = 0;
	for (uint32_t i = 0; i < 256; i++) {
		int z = 1, a = 1;
		for (uint32_t k = 0; k < 4096; k++) {
			z &= data[4096 * i + k] == 0;
			a &= data[4096 * i + k] == 0xa5;
		}
		zeroed += i < n && z;
		kept += i >= n && a;
	}
	gprintf("balloon: deflate_on_oom=%u target=%u inflated=%u zeroed=%u untouched=%u\n",
	        deflate_on_oom, target, n, zeroed, kept);
	guest_exit(zeroed == n && kept == 256 - n ? 0 : 1);
}

int guest_blk_open(const char *cl)
{
	cmdline = cl;
	return find(2) && dev_init((1ull << 9) | (1ull << 28) | (1ull << 29)) == 0 ? 0 : -1;
}

int guest_blk_io(int write, uint64_t sector, void *buf, uint32_t len)
{
	return blk_do(write ? 1 : 0, sector, buf, len);
}

void test_virtio(const char *cl, const char *test)
{
	cmdline = cl;
	if (!memcmp(test, "virtio-blk-writer", 18))
		run_user(writer_main, 0);
	if (!memcmp(test, "virtio-blk-depth", 17))
		run_user(depth_main, 0);
	if (!memcmp(test, "virtio-blk-swap", 16))
		run_user(swap_main, 0);
	if (!memcmp(test, "virtio-blk-bench", 17))
		run_user(bench_main, 0);
	if (!memcmp(test, "virtio-blk", 11))
		run_user(blk_main, 0);
	if (!memcmp(test, "virtio-balloon", 15))
		run_user(balloon_main, 0);
	if (!memcmp(test, "virtio-rng", 11))
		run_user(rng_main, 0);
}
