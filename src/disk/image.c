/* SPDX-License-Identifier: Apache-2.0 */
#include "disk/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run argv; 0 if it exited 0, else an error quoting its first output line. */
static int run(char *const argv[], struct err *e)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return err_sys(e, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return err_sys(e, "fork");
	}
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	char out[512];
	size_t n = 0;
	ssize_t k;
	char sink[4096];
	while ((k = read(p[0], n < sizeof(out) - 1 ? out + n : sink,
	                 n < sizeof(out) - 1 ? sizeof(out) - 1 - n : sizeof(sink))) > 0 ||
	       (k < 0 && errno == EINTR))
		if (k > 0 && n < sizeof(out) - 1)
			n += (size_t)k;
	close(p[0]);
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return err_set(e, ERR_SYSTEM, "cannot run %s (install e2fsprogs and tar)", argv[0]);
	return err_set(e, ERR_INPUT, "%s failed: %s", argv[0], out[0] ? out : "no message");
}

int image_create_ext4(const char *from, uint64_t size, const char *out, struct err *e)
{
	struct stat st;
	if (stat(from, &st)) {
		err_sys(e, "--from %s", from);
		e->kind = ERR_INPUT;
		return -1;
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return err_set(e, ERR_INPUT, "--from %s: not a directory or a tar file", from);
	if (size < (1u << 20) || size % 1024)
		return err_set(e, ERR_INPUT, "--size: at least 1M and a multiple of 1K");
	int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		err_sys(e, "creating %s", out);
		e->kind = errno == EEXIST ? ERR_INPUT : ERR_SYSTEM;
		return -1;
	}
	int rc = ftruncate(fd, (off_t)size) ? err_sys(e, "sizing %s", out) : 0;
	close(fd);
	char tmp[] = "/tmp/capsa-image-XXXXXX";
	const char *src = from;
	int extracted = 0;
	if (!rc && S_ISREG(st.st_mode)) {
		if (!mkdtemp(tmp)) {
			rc = err_sys(e, "mkdtemp");
		} else {
			extracted = 1;
			char *tar[] = {"tar", "-xf", (char *)from, "-C", tmp, "--numeric-owner",
			               NULL};
			rc = run(tar, e);
			src = tmp;
		}
	}
	if (!rc) {
		char kb[32];
		snprintf(kb, sizeof(kb), "%lluk", (unsigned long long)(size / 1024));
		/* inode tables and journal initialized now, so the guest kernel needs no
		 * ext4lazyinit thread later */
		char *mkfs[] = {"mkfs.ext4",
		                "-q",
		                "-F",
		                "-L",
		                "capsa-root",
		                "-E",
		                "lazy_itable_init=0,lazy_journal_init=0",
		                "-d",
		                (char *)src,
		                (char *)out,
		                kb,
		                NULL};
		rc = run(mkfs, e);
	}
	if (extracted) {
		char *rm[] = {"rm", "-rf", tmp, NULL};
		struct err ignore = {0};
		run(rm, &ignore);
	}
	if (rc)
		unlink(out);
	return rc;
}
