/* SPDX-License-Identifier: Apache-2.0 */
#include "oci/util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct arena_block {
	struct arena_block *next;
	max_align_t data[];
};

void *arena_alloc(struct arena *a, size_t size)
{
	if (size > ((size_t)1 << 30))
		return NULL;
	struct arena_block *b = calloc(1, sizeof(*b) + size + 1);
	if (!b)
		return NULL;
	b->next = a->head;
	a->head = b;
	return b->data;
}

char *arena_strdup(struct arena *a, const char *s)
{
	size_t n = strlen(s);
	char *p = arena_alloc(a, n + 1);
	if (p)
		memcpy(p, s, n + 1);
	return p;
}

void arena_free(struct arena *a)
{
	while (a->head) {
		struct arena_block *n = a->head->next;
		free(a->head);
		a->head = n;
	}
}

int util_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int util_write_atomic(const char *path, const char *data, size_t len, struct err *e)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return err_set(e, ERR_INPUT, "path too long: %s", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys(e, "creating %s", tmp);
	/* rename() makes it atomic; state lives on tmpfs, so no fsync */
	if (util_write_all(fd, data, len) < 0) {
		err_sys(e, "writing %s", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		err_sys(e, "renaming %s", tmp);
		unlink(tmp);
		return -1;
	}
	return 0;
}

int util_write_str(const char *path, const char *s, struct err *e)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "opening %s", path);
	ssize_t w = write(fd, s, strlen(s));
	int saved = errno;
	close(fd);
	if (w < 0)
		return err_errno(e, saved, "writing '%s' to %s", s, path);
	return 0;
}

int util_mkdir_p(const char *path, mode_t mode, struct err *e)
{
	char buf[4096];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof(buf))
		return err_set(e, ERR_INPUT, "bad directory path '%s'", path);
	/* The common case first: only the last component is missing (this
	 * also keeps away from locks on busy parents such as cgroup roots). */
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return err_sys(e, "creating directory %s", path);
	memcpy(buf, path, n + 1);
	char *slash = strrchr(buf, '/');
	if (!slash || slash == buf)
		return err_sys(e, "creating directory %s", path);
	*slash = '\0';
	if (util_mkdir_p(buf, mode, e) < 0)
		return -1;
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return err_sys(e, "creating directory %s", path);
	return 0;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)f;
	if (flag == FTW_DP || flag == FTW_D)
		return rmdir(p) < 0 && errno != ENOENT ? 0 : 0;
	unlink(p);
	return 0;
}

int util_rm_rf(const char *path)
{
	int r = nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	if (r < 0 && errno == ENOENT)
		return 0;
	struct stat st;
	return lstat(path, &st) == 0 ? -1 : 0;
}

int util_valid_id(const char *id, struct err *e)
{
	size_t n = strlen(id);
	if (n == 0 || n > 1024 || !strcmp(id, ".") || !strcmp(id, ".."))
		return err_set(e, ERR_INPUT, "invalid container id '%.64s'", id);
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '+' || c == '-' || c == '.'))
			return err_set(e, ERR_INPUT,
			               "invalid container id '%.64s': only [A-Za-z0-9_+.-] allowed",
			               id);
	}
	return 0;
}

unsigned long long util_proc_start_time(pid_t pid, int *zombie)
{
	char path[64], buf[1024];
	if (zombie)
		*zombie = 0;
	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return 0;
	p += 2; /* field 3: state */
	if (zombie)
		*zombie = (*p == 'Z' || *p == 'X');
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return 0;
		p++;
	}
	return strtoull(p, NULL, 10);
}
