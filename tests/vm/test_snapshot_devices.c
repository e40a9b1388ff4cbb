/* SPDX-License-Identifier: Apache-2.0 */
/* Snapshots of VMs with virtio devices: the counting guest keeping its
 * lines on a virtio-blk disk (with a virtio-rng beside it) is saved mid-run,
 * killed and restored, and must finish with the right checksum, without
 * starting over, having seen every line it wrote before the snapshot;
 * with --with-disks the file alone (moved, the disk image deleted) is the
 * VM, and the snapshot file is not written by the restored VM. Restore
 * refuses a changed disk (naming it) and broken or foreign device
 * sections. Linux on an ext4 virtio-blk root with busybox is saved after
 * its init's first line, restored, and goes on to write a file on the
 * disk, which the host reads from the image. */
#include "vm/snaptest.h"

#include "devices/x86/irqchip.h"
#include "vm/snapshot/devices.h"
#include "vm/snapshot/format.h"

#include <zlib.h>

#define LINES 150

static int setup(void **state)
{
	signal(SIGPIPE, SIG_IGN);
	return vm_tmp_setup(state);
}

static const char *disk_cmdline(void)
{
	static char buf[128];
	snprintf(buf, sizeof(buf), "test=count lines=%d work=%d disk=1", LINES,
	         accel_is_kvm() ? 3000000 : 100000);
	return buf;
}

enum { SAVE_RESUME = 1, SAVE_ALL_KINDS = 2 };

/* Run the guest with `disk` (and a virtio-rng; with SAVE_ALL_KINDS also a
 * balloon, user-mode network and vsock) to line 3, pause, save
 * (with_disks: data too) to `snap` through the CLI, then kill it, or with
 * SAVE_RESUME let it go on and finish. */
static void run_and_save(const char *disk, const char *snap, int with_disks, int how)
{
	char sock[4200], out[4200], spec[4300], vsock[4300];
	snprintf(sock, sizeof(sock), "%s", tmp("d.sock"));
	snprintf(out, sizeof(out), "%s", tmp("d.out"));
	snprintf(spec, sizeof(spec), "path=%s", disk);
	snprintf(vsock, sizeof(vsock), "cid=5,uds=%s", tmp("v.sock"));
	unlink(sock);
	const char *argv[] = {
	    "capsa",      "vm",           "run",    "--kernel", guest_path("testguest.elf"),
	    "--cmdline",  disk_cmdline(), "--disk", spec,       "--rng",
	    "--api-sock", sock,           NULL,     NULL,       NULL,
	    NULL,         NULL,           NULL,     NULL};
	if (how & SAVE_ALL_KINDS) {
		const char *more[] = {"--balloon", "1M", "--net", "user", "--vsock", vsock};
		memcpy(&argv[12], more, sizeof(more));
	}
	pid_t pid = spawn_capsa(out, tmp("d.err"), argv);
	assert_true(pid > 0);
	assert_true(wait_api(sock));
	assert_true(wait_file_has(out, "count: 3 sum", 60));
	struct run_result r;
	capsa_run(&r, 30, "vm", "pause", "--api-sock", sock, NULL);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	if (with_disks)
		capsa_run(&r, 60, "vm", "snapshot", "--api-sock", sock, "--file", snap,
		          "--with-disks", NULL);
	else
		capsa_run(&r, 60, "vm", "snapshot", "--api-sock", sock, "--file", snap, NULL);
	if (r.status)
		printf("# note: snapshot: %s\n", r.err);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	if (how & SAVE_RESUME) { /* the devices' I/O threads start again */
		capsa_run(&r, 30, "vm", "resume", "--api-sock", sock, NULL);
		assert_int_equal(r.status, 0);
		run_result_free(&r);
		int st;
		double took;
		assert_int_equal(wait_with_deadline(pid, 120, &st, &took), pid);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		assert_int_equal(file_count(out, "count: disk ok\n"), 1);
		assert_int_equal(file_count(out, "count: 0 sum="), 1);
		return;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(file_count(out, "count: done"), 0);
}

static void snapshot_with_disk(const char *disk, const char *snap, int with_disks)
{
	run_and_save(disk, snap, with_disks, 0);
}

/* The restored guest finished: right sum, no restart, its disk intact. */
static void expect_disk_run(const struct run_result *r)
{
	if (r->status)
		printf("# note: restore: %s\n", r->err);
	assert_int_equal(r->status, 0);
	char want[64];
	snprintf(want, sizeof(want), "count: done sum=0x%08x\n", count_expected_default());
	assert_non_null(strstr(r->out, want));
	assert_non_null(strstr(r->out, "count: disk ok\n"));
	assert_null(strstr(r->out, "count: 0 sum="));
	assert_null(strstr(r->out, "capsa test guest: test="));
}

/* The image holds the guest's last record: line LINES-1 and the final sum. */
static void expect_image(const char *img)
{
	int fd = open(img, O_RDONLY);
	assert_true(fd >= 0);
	uint8_t rec[12];
	assert_int_equal(pread(fd, rec, sizeof(rec), (LINES - 1) * 512), (ssize_t)sizeof(rec));
	close(fd);
	uint64_t line;
	uint32_t sum;
	memcpy(&line, rec, 8);
	memcpy(&sum, rec + 8, 4);
	assert_int_equal(line, LINES - 1);
	assert_int_equal(sum, count_expected_default());
}

/* A snapshot of the guest with a fresh disk: NAME.img and NAME.snap. */
static void disk_and_snapshot(const char *name, char *disk, char *snap, size_t cap)
{
	char n[64];
	snprintf(n, sizeof(n), "%s.img", name);
	snprintf(disk, cap, "%s", tmp(n));
	snprintf(n, sizeof(n), "%s.snap", name);
	snprintf(snap, cap, "%s", tmp(n));
	make_disk(disk);
	snapshot_with_disk(disk, snap, 0);
}

static void test_disk_snapshot(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char disk[4200], snap[4200];
	disk_and_snapshot("disk", disk, snap, sizeof(disk));
	struct run_result r;
	capsa_run(&r, 120, "vm", "restore", snap, "--console", "stdio", NULL);
	expect_disk_run(&r);
	run_result_free(&r);
	expect_image(disk);
	/* the restored VM wrote the disk: the snapshot no longer matches it */
	capsa_run(&r, 30, "vm", "restore", snap, "--console", "none", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "disk.img changed since the snapshot"));
	run_result_free(&r);
}

/* A pause quiesces the devices and a resume restarts them: the guest
 * finishes in the same process with its disk intact, and the snapshot
 * taken meanwhile restores to the same end. */
static void test_pause_resume_disk(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char disk[4200], snap[4200];
	snprintf(disk, sizeof(disk), "%s", tmp("pr.img"));
	snprintf(snap, sizeof(snap), "%s", tmp("pr.snap"));
	make_disk(disk);
	run_and_save(disk, snap, 1, SAVE_RESUME);
	expect_image(disk);
	unlink(disk);
	struct run_result r;
	capsa_run(&r, 120, "vm", "restore", snap, "--console", "stdio", NULL);
	expect_disk_run(&r);
	run_result_free(&r);
	expect_image(tmp("pr.snap.disk0.img"));
}

/* Every kind of device comes back from a snapshot: the balloon, network
 * and vsock devices (which this guest leaves alone) beside the disk, and
 * the vsock socket the killed process left behind is replaced. */
static void test_all_kinds(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char disk[4200], snap[4200];
	snprintf(disk, sizeof(disk), "%s", tmp("all.img"));
	snprintf(snap, sizeof(snap), "%s", tmp("all.snap"));
	make_disk(disk);
	run_and_save(disk, snap, 0, SAVE_ALL_KINDS);
	struct stat st;
	assert_int_equal(stat(tmp("v.sock"), &st), 0); /* left behind */
	struct run_result r;
	capsa_run(&r, 120, "vm", "restore", snap, "--console", "stdio", NULL);
	expect_disk_run(&r);
	run_result_free(&r);
	expect_image(disk);
}

static void test_with_disks(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char disk[4200], snap[4200], moved[4200], cmd[20000];
	snprintf(disk, sizeof(disk), "%s", tmp("wd.img"));
	snprintf(snap, sizeof(snap), "%s", tmp("wd.snap"));
	snprintf(moved, sizeof(moved), "%s", tmp("far/wd.snap"));
	make_disk(disk);
	snapshot_with_disk(disk, snap, 1);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/far' && mv '%s' '%s' && rm '%s'", vm_tmp_dir, snap,
	         moved, disk);
	assert_int_equal(system(cmd), 0);
	struct stat before, after;
	assert_int_equal(stat(moved, &before), 0);
	struct run_result r;
	capsa_run(&r, 30, "vm", "snapshot", "verify", moved, NULL);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	/* a refused network override extracts nothing */
	capsa_run(&r, 30, "vm", "restore", moved, "--net-override", "eth0=capsax", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "no interface \"eth0\""));
	run_result_free(&r);
	assert_int_equal(access(tmp("far/wd.snap.disk0.img"), F_OK), -1);
	capsa_run(&r, 120, "vm", "restore", moved, "--console", "stdio", NULL);
	expect_disk_run(&r);
	run_result_free(&r);
	/* the guest wrote its own copy of the disk, beside the snapshot */
	expect_image(tmp("far/wd.snap.disk0.img"));
	assert_int_equal(stat(moved, &after), 0);
	assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	capsa_run(&r, 30, "vm", "snapshot", "verify", moved, NULL);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	/* the copy is not overwritten; another directory may be given */
	capsa_run(&r, 30, "vm", "restore", moved, "--console", "none", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "already exists"));
	run_result_free(&r);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/other'", vm_tmp_dir);
	assert_int_equal(system(cmd), 0);
	capsa_run(&r, 120, "vm", "restore", moved, "--disk-dir", tmp("other"), "--console", "stdio",
	          NULL);
	expect_disk_run(&r);
	run_result_free(&r);
	expect_image(tmp("other/wd.snap.disk0.img"));
}

/* Section `type` of the snapshot open at fd: its table entry in *h. */
static struct snap_section *find_section(int fd, struct snap_header *h, uint32_t type)
{
	assert_int_equal(pread(fd, h, sizeof(*h), 0), (ssize_t)sizeof(*h));
	for (uint32_t i = 0; i < h->nsections; i++)
		if (h->sec[i].type == type)
			return &h->sec[i];
	fail_msg("no section of type %u", type);
	return NULL;
}

/* Rewrite section `type` of a copy of `from` at `to` with `edit` applied
 * to its bytes (which may shrink it), fixing the checksums so that only
 * the section's meaning is wrong. */
static void edit_section(const char *from, const char *to, uint32_t type,
                         void (*edit)(uint8_t *buf, uint64_t *size))
{
	char cmd[9000];
	snprintf(cmd, sizeof(cmd), "cp --sparse=always '%s' '%s'", from, to);
	assert_int_equal(system(cmd), 0);
	int fd = open(to, O_RDWR);
	assert_true(fd >= 0);
	struct snap_header *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	struct snap_section *s = find_section(fd, h, type);
	uint8_t *buf = malloc(s->size);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, s->size, (off_t)s->offset), (ssize_t)s->size);
	edit(buf, &s->size);
	s->crc = (uint32_t)crc32(0, buf, (uInt)s->size);
	assert_int_equal(pwrite(fd, buf, s->size, (off_t)s->offset), (ssize_t)s->size);
	h->header_crc = snap_header_crc(h);
	assert_int_equal(pwrite(fd, h, sizeof(*h), 0), (ssize_t)sizeof(*h));
	close(fd);
	free(buf);
	free(h);
}

static void drop_rng(uint8_t *buf, uint64_t *size)
{
	(void)size;
	((struct snap_devices_hdr *)buf)->cfg.rng = 0;
}
static void swap_kinds(uint8_t *buf, uint64_t *size)
{
	(void)size;
	/* version 2: the device names come before the records */
	struct snap_dev_rec *r = (struct snap_dev_rec *)(buf + sizeof(struct snap_devices_hdr) +
	                                                 sizeof(struct vm_device_names));
	r->kind = VM_DEV_NET;
}
static void bad_name(uint8_t *buf, uint64_t *size)
{
	(void)size;
	struct vm_device_names *n =
	    (struct vm_device_names *)(buf + sizeof(struct snap_devices_hdr));
	memset(n->iface[1], 'x', sizeof(n->iface[1]));
}
static void cut_short(uint8_t *buf, uint64_t *size)
{
	(void)buf;
	*size -= 24;
}
static void bad_path(uint8_t *buf, uint64_t *size)
{
	(void)size;
	struct snap_devices_hdr *h = (struct snap_devices_hdr *)buf;
	memset(h->cfg.disks[0].path, 'x', sizeof(h->cfg.disks[0].path));
}
/* The device section as version 1 wrote it: no names. */
static void version1(uint8_t *buf, uint64_t *size)
{
	size_t h = sizeof(struct snap_devices_hdr), n = sizeof(struct vm_device_names);
	memmove(buf + h, buf + h + n, *size - h - n);
	*size -= n;
	((struct snap_devices_hdr *)buf)->version = 1;
}
static void many_disks(uint8_t *buf, uint64_t *size)
{
	(void)size;
	((struct snap_devices_hdr *)buf)->cfg.ndisks = 1000;
}

static void test_refusals(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char disk[4200], snap[4200];
	disk_and_snapshot("bad", disk, snap, sizeof(disk));

	edit_section(snap, tmp("norng.snap"), SNAP_SEC_DEVICES, drop_rng);
	expect_refused(tmp("norng.snap"), "has 2 devices, its configuration 1");
	edit_section(snap, tmp("kind.snap"), SNAP_SEC_DEVICES, swap_kinds);
	expect_refused(tmp("kind.snap"), "a different device set");
	edit_section(snap, tmp("cut.snap"), SNAP_SEC_DEVICES, cut_short);
	expect_refused(tmp("cut.snap"), "snapshot device");
	edit_section(snap, tmp("path.snap"), SNAP_SEC_DEVICES, bad_path);
	expect_refused(tmp("path.snap"), "device configuration is corrupt");
	edit_section(snap, tmp("name.snap"), SNAP_SEC_DEVICES, bad_name);
	expect_refused(tmp("name.snap"), "interface name 1 is corrupt");
	edit_section(snap, tmp("many.snap"), SNAP_SEC_DEVICES, many_disks);
	expect_refused(tmp("many.snap"), "device configuration is corrupt");
	edit_section(snap, tmp("dcut.snap"), SNAP_SEC_DISKS, cut_short);
	expect_refused(tmp("dcut.snap"), "disk section");

	/* a byte of the device section changed without fixing its checksum */
	char cmd[9000];
	snprintf(cmd, sizeof(cmd),
	         "cp --sparse=always '%s' '%s' && printf '\\132' | dd conv=notrunc bs=1 "
	         "seek=$(( $(od -An -tu8 -j %zu -N8 '%s') + 100 )) status=none of='%s'",
	         snap, tmp("flip.snap"),
	         offsetof(struct snap_header, sec) + 5 * sizeof(struct snap_section) + 8, snap,
	         tmp("flip.snap"));
	assert_int_equal(system(cmd), 0);
	expect_refused(tmp("flip.snap"), "corrupt");

	/* a device section of version 1 (no device names) still loads */
	edit_section(snap, tmp("v1.snap"), SNAP_SEC_DEVICES, version1);
	struct run_result r;
	capsa_run(&r, 120, "vm", "restore", tmp("v1.snap"), "--console", "stdio", NULL);
	expect_disk_run(&r);
	run_result_free(&r);

	/* a write to the disk (its modification time changes) */
	struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
	assert_int_equal(utimensat(AT_FDCWD, disk, ts, 0), 0);
	expect_refused(snap, "bad.img changed since the snapshot");
	unlink(disk);
	expect_refused(snap, "bad.img");
}

/* The init script: a marker, a pause long enough for the host to save the
 * VM, then a file on the root disk. */
static const char linux_init[] =
    "#!/bin/sh\n"
    "mount -t proc proc /proc\n"
    "echo capsa-snap: ready\n"
    "sleep 4\n"
    "echo \"after restore: $(md5sum </etc/words | cut -c1-8)\" >/after.txt\n"
    "sync\n"
    "echo capsa-snap: written\n"
    "reboot -f\n";

/* A 24 MiB ext4 image with busybox as /bin/sh and linux_init as /init.sh. */
static void make_root(const char *img)
{
	static const char *const applets[] = {"sh",  "mount", "echo", "sleep",  "md5sum",
	                                      "cut", "cat",   "sync", "reboot", NULL};
	busybox_image(tmp("root"), applets, "alpha\nzulu\n", linux_init, img);
}

/* A VM configured through the API with interface "eth0" on one tap, saved,
 * and loaded into a fresh process with network_overrides: the interface
 * keeps its name (PATCH by "eth0" works after the load) and comes back on
 * the tap the override names; an override naming an interface the
 * snapshot lacks is refused, through the API and the CLI. */
static void save_with_iface(const char *snap, const char *tap)
{
	const char *sock = tmp("ni.sock"), *out = tmp("ni.out"), *err = tmp("ni.err");
	const char *argv[] = {"capsa", "vm", "run", "--api-sock", sock, "--console", "stdio", NULL};
	pid_t pid = spawn_capsa_api(out, err, argv, sock);
	char req[4400];
	snprintf(req, sizeof(req), "{\"kernel_image_path\":\"%s\",\"boot_args\":\"%s\"}",
	         guest_path("testguest.elf"), count_cmdline());
	assert_int_equal(api(sock, "PUT", "/boot-source", req, NULL), 204);
	assert_int_equal(
	    api(sock, "PUT", "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":64}", NULL),
	    204);
	snprintf(req, sizeof(req), "{\"iface_id\":\"eth0\",\"host_dev_name\":\"%s\"}", tap);
	assert_int_equal(api(sock, "PUT", "/network-interfaces/eth0", req, NULL), 204);
	assert_int_equal(api(sock, "PUT", "/actions", "{\"action_type\":\"InstanceStart\"}", NULL),
	                 204);
	assert_true(wait_file_has(out, "count: 3 sum", 60));
	assert_int_equal(api(sock, "PATCH", "/vm", "{\"state\":\"Paused\"}", NULL), 204);
	snprintf(req, sizeof(req), "{\"snapshot_path\":\"%s\"}", snap);
	assert_int_equal(api(sock, "PUT", "/snapshot/create", req, NULL), 204);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_net_override(void **state)
{
	(void)state;
	REQUIRE_KVM();
	if (access("/dev/net/tun", R_OK | W_OK))
		skip_because("host has no /dev/net/tun: tap devices cannot be made");
	char snap[4200], tap_a[16], tap_b[16], req[4400], path[64];
	snprintf(snap, sizeof(snap), "%s", tmp("ni.snap"));
	snprintf(tap_a, sizeof(tap_a), "capsana%u", (unsigned)getpid() % 100000);
	snprintf(tap_b, sizeof(tap_b), "capsanb%u", (unsigned)getpid() % 100000);
	save_with_iface(snap, tap_a);

	struct run_result r;
	capsa_run(&r, 30, "vm", "restore", snap, "--net-override", "eth9=x", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "no interface \"eth9\""));
	run_result_free(&r);
	capsa_run(&r, 30, "vm", "restore", snap, "--net-override", "eth0", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "expected ID=TAP"));
	run_result_free(&r);

	const char *sock = tmp("nl.sock"), *out = tmp("nl.out");
	const char *argv[] = {"capsa", "vm", "run", "--api-sock", sock, NULL};
	pid_t pid = spawn_capsa_api(out, tmp("nl.err"), argv, sock);
	char *body = NULL;
	snprintf(req, sizeof(req),
	         "{\"snapshot_path\":\"%s\",\"network_overrides\":[{\"iface_id\":\"eth9\","
	         "\"host_dev_name\":\"%s\"}]}",
	         snap, tap_b);
	assert_int_equal(api(sock, "PUT", "/snapshot/load", req, &body), 400);
	assert_non_null(strstr(body, "no interface \\\"eth9\\\""));
	free(body);
	snprintf(req, sizeof(req),
	         "{\"snapshot_path\":\"%s\",\"network_overrides\":[{\"iface_id\":\"eth0\","
	         "\"host_dev_name\":\"%s\"}]}",
	         snap, tap_b);
	assert_int_equal(api(sock, "PUT", "/snapshot/load", req, NULL), 204);
	snprintf(path, sizeof(path), "/sys/class/net/%s", tap_b);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(api(sock, "GET", "/vm/config", NULL, &body), 200);
	snprintf(req, sizeof(req), "\"iface_id\":\"eth0\",\"host_dev_name\":\"%s\"", tap_b);
	if (!strstr(body, req))
		printf("# note: GET /vm/config: %s\n", body);
	assert_non_null(strstr(body, req));
	free(body);
	assert_int_equal(api(sock, "PATCH", "/network-interfaces/eth0",
	                     "{\"iface_id\":\"eth0\",\"rx_rate_limiter\":{\"bandwidth\":"
	                     "{\"size\":100000000,\"refill_time\":100}}}",
	                     NULL),
	                 204);
	assert_int_equal(api(sock, "PATCH", "/vm", "{\"state\":\"Resumed\"}", NULL), 204);
	expect_finished_from(pid, out, 0);
}

static void test_linux_disk(void **state)
{
	(void)state;
	REQUIRE_USER64_GUEST();
	if (access("/bin/busybox", X_OK) || access("/sbin/debugfs", X_OK))
		skip_because("Debian's busybox-static or e2fsprogs (debugfs) is not installed");
	char kernel[4200], img[4200], snap[4200], spec[4300], sock[4200], out[4200];
	guest_kernel(kernel, sizeof(kernel));
	snprintf(img, sizeof(img), "%s", tmp("root.ext4"));
	snprintf(snap, sizeof(snap), "%s", tmp("linux.snap"));
	snprintf(sock, sizeof(sock), "%s", tmp("l.sock"));
	snprintf(out, sizeof(out), "%s", tmp("l.out"));
	snprintf(spec, sizeof(spec), "path=%s", img);
	make_root(img);
	const char *argv[] = {"capsa",
	                      "vm",
	                      "run",
	                      "--kernel",
	                      kernel,
	                      "--memory",
	                      "256M",
	                      "--disk",
	                      spec,
	                      "--cmdline",
	                      "console=ttyS0 reboot=k panic=-1 root=/dev/vda rw rootfstype=ext4 "
	                      "init=/bin/sh -- /init.sh",
	                      "--api-sock",
	                      sock,
	                      NULL};
	pid_t pid = spawn_capsa(out, tmp("l.err"), argv);
	assert_true(wait_api(sock));
	if (!wait_file_has(out, "capsa-snap: ready", 300))
		printf("# note: console: %s\n", read_file(out, NULL));
	assert_true(file_count(out, "capsa-snap: ready") == 1);
	pause_save_kill(sock, snap, pid);
	assert_int_equal(file_count(out, "capsa-snap: written"), 0);
	/* timers are kept relative to the save: the PIT's load time (set while
	 * Linux booted, seconds ago) is an age, not the host's clock (hours) */
	struct snap_header h;
	struct x86_irqchip_state chip;
	int fd = open(snap, O_RDONLY);
	assert_true(fd >= 0);
	struct snap_section *sec = find_section(fd, &h, SNAP_SEC_IRQCHIP);
	assert_int_equal(sec->size, sizeof(chip));
	assert_int_equal(pread(fd, &chip, sizeof(chip), (off_t)sec->offset), (ssize_t)sizeof(chip));
	close(fd);
	int64_t age = chip.pit.channels[0].count_load_time;
	assert_true(age >= 0 && age < INT64_C(300000000000));

	struct run_result r;
	restore_linux(&r, snap, 400, "capsa-snap: written");
	assert_null(strstr(r.out, "capsa-snap: ready"));
	run_result_free(&r);
	/* md5 of "alpha\nzulu\n", computed on the host the same way */
	char *const cat[] = {"/sbin/debugfs", "-R", "cat /after.txt", img, NULL};
	run_cmd(&r, cat, 60);
	char *const sum[] = {"/bin/sh", "-c", "printf 'alpha\\nzulu\\n' | md5sum | cut -c1-8",
	                     NULL};
	struct run_result m;
	run_cmd(&m, sum, 60);
	char want[64];
	snprintf(want, sizeof(want), "after restore: %.8s\n", m.out);
	if (!strstr(r.out, want))
		printf("# note: after.txt: %s (want %s)\n", r.out, want);
	assert_non_null(strstr(r.out, want));
	run_result_free(&m);
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_disk_snapshot), cmocka_unit_test(test_pause_resume_disk),
	    cmocka_unit_test(test_all_kinds),     cmocka_unit_test(test_with_disks),
	    cmocka_unit_test(test_refusals),      cmocka_unit_test(test_linux_disk),
	    cmocka_unit_test(test_net_override),
	};
	return RUN_VM_GROUPS("vm/snapshot devices", tests, setup, vm_tmp_teardown);
}
