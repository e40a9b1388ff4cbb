/* SPDX-License-Identifier: Apache-2.0 */
#include "oci/ns.h"
#include "oci/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int oci_format_idmap(const struct oci_idmap *m, size_t n, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + o, len - o, "%u %u %u\n", m[i].container_id, m[i].host_id,
		                 m[i].size);
		if (w < 0 || (size_t)w >= len - o)
			return -1;
		o += (size_t)w;
	}
	return 0;
}

static int write_map(pid_t pid, const char *file, const struct oci_idmap *m, size_t n,
                     struct err *e)
{
	char buf[340 * 36 + 1], path[64];
	if (oci_format_idmap(m, n, buf, sizeof(buf)) < 0)
		return err_set(e, ERR_INPUT, "%s: too many mappings", file);
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "opening %s", path);
	ssize_t w = write(fd, buf, strlen(buf));
	int saved = errno;
	close(fd);
	if (w < 0)
		return err_errno(e, saved, "writing %s (linux.%s)", path,
		                 !strcmp(file, "uid_map") ? "uidMappings" : "gidMappings");
	return 0;
}

int oci_write_idmaps(pid_t pid, const struct oci_idmap *u, size_t nu, const struct oci_idmap *g,
                     size_t ng, struct err *e)
{
	if (geteuid() != 0) {
		char path[64];
		struct err ignore = {0};
		snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
		util_write_str(path, "deny", &ignore);
	}
	if (write_map(pid, "uid_map", u, nu, e) < 0)
		return -1;
	return write_map(pid, "gid_map", g, ng, e);
}

int oci_idmap_userns_fd(const struct oci_idmap *u, size_t nu, const struct oci_idmap *g, size_t ng,
                        struct err *e)
{
	if (!nu || !ng)
		return err_set(e, ERR_INPUT, "an idmapped mount needs uid and gid mappings");
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_sys(e, "pipe");
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return err_sys(e, "creating a user namespace for an idmapped mount");
	}
	if (pid == 0) {
		char c;
		close(p[1]);
		(void)!read(p[0], &c, 1); /* wait until the parent is done */
		_exit(0);
	}
	close(p[0]);
	int fd = -1;
	if (oci_write_idmaps(pid, u, nu, g, ng, e) == 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			err_sys(e, "opening %s", path);
	}
	close(p[1]);
	waitpid(pid, NULL, 0);
	return fd;
}
