/* SPDX-License-Identifier: Apache-2.0 */
/*
 * init (pid 1) for the slow virtio test: runs from an ext4 root on virtio-blk.
 * Prints /hello.txt, writes /written.txt (fsync), remounts / read-only so the
 * journal is checkpointed, and restarts the machine (capsa ends the VM).
 * Freestanding, no SSE; -m32 uses int $0x80 (paravirtual KVM hosts), -m64 syscall.
 */
#include "freestanding.h"

#define MS_RDONLY  1
#define MS_REMOUNT 32

static void out(const char *s)
{
	say(1, s);
}

void init_main(long *sp)
{
	(void)sp;
	static char buf[256];
	out("capsa-virtio: init running from the disk\n");
	long fd = sys5(NR_open, (long)"/hello.txt", 0, 0, 0, 0), n = 0;
	if (fd >= 0) {
		n = sys5(NR_read, fd, (long)buf, sizeof(buf) - 1, 0, 0);
		sys5(NR_close, fd, 0, 0, 0, 0);
	}
	buf[n > 0 ? n : 0] = 0;
	out("capsa-virtio: hello.txt: ");
	out(buf);
	static const char msg[] = "written by the guest on virtio-blk\n";
	fd = sys5(NR_open, (long)"/written.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644, 0, 0);
	if (fd >= 0 && sys5(NR_write, fd, (long)msg, sizeof(msg) - 1, 0, 0) == sizeof(msg) - 1 &&
	    sys5(NR_fsync, fd, 0, 0, 0, 0) == 0)
		out("capsa-virtio: wrote /written.txt\n");
	else
		out("capsa-virtio: writing /written.txt failed\n");
	if (fd >= 0)
		sys5(NR_close, fd, 0, 0, 0, 0);
	sys5(NR_sync, 0, 0, 0, 0, 0);
	if (sys5(NR_mount, 0, (long)"/", 0, MS_REMOUNT | MS_RDONLY, 0) == 0)
		out("capsa-virtio: remounted / read-only\n");
	restart();
	for (;;)
		;
}
