/* SPDX-License-Identifier: Apache-2.0 */
#include "common/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void test_measured(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("# measured: ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
}

const char *test_root(void)
{
	const char *r = getenv("CAPSA_ROOT");
	return r ? r : ".";
}

const char *test_capsa_bin(void)
{
	static char buf[4096];
	const char *b = getenv("CAPSA_BIN");
	if (b)
		return b;
	snprintf(buf, sizeof(buf), "%s/build/asan/capsa", test_root());
	return buf;
}

char *test_tmpdir(void)
{
	char *t = strdup("/tmp/capsa-test-XXXXXX");
	if (!t || !mkdtemp(t)) {
		free(t);
		return NULL;
	}
	return t;
}

int test_tmpdir_remove(char *dir)
{
	char cmd[4200];
	int rc = 0;
	if (dir && (size_t)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) < sizeof(cmd))
		rc = system(cmd) ? -1 : 0;
	free(dir);
	return rc;
}

double now_secs(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_read(struct buf *b, int fd, int *open)
{
	if (b->cap - b->len < 4097) {
		b->cap = b->cap ? b->cap * 2 : 8192;
		b->p = realloc(b->p, b->cap);
		b->p[b->len] = '\0';
	}
	ssize_t n = read(fd, b->p + b->len, b->cap - b->len - 1);
	if (n <= 0) {
		if (n < 0 && errno == EINTR)
			return;
		*open = 0;
		return;
	}
	b->len += (size_t)n;
	b->p[b->len] = '\0';
}

void run_cmd(struct run_result *r, char *const argv[], double timeout_s)
{
	int po[2], pe[2];
	memset(r, 0, sizeof(*r));
	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC)) {
		r->status = -1;
		return;
	}
	double t0 = now_secs();
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	struct buf bo = {0}, be = {0};
	int oo = 1, eo = 1;
	while (oo || eo) {
		struct pollfd p[2] = {{oo ? po[0] : -1, POLLIN, 0}, {eo ? pe[0] : -1, POLLIN, 0}};
		double left = timeout_s - (now_secs() - t0);
		if (left <= 0) {
			kill(pid, SIGKILL);
			r->timed_out = 1;
			break;
		}
		int n = poll(p, 2, (int)(left * 1000) + 1);
		if (n < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			buf_read(&bo, po[0], &oo);
		if (p[1].revents)
			buf_read(&be, pe[0], &eo);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	r->secs = now_secs() - t0;
	close(po[0]);
	close(pe[0]);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = bo.p ? bo.p : strdup("");
	r->err = be.p ? be.p : strdup("");
}

void run_result_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n <= 0) {
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd);
}

char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 8192, n = 0;
	char *p = malloc(cap);
	size_t k;
	while (p && (k = fread(p + n, 1, cap - n - 1, f)) > 0) {
		n += k;
		if (cap - n < 2) {
			cap *= 2;
			p = realloc(p, cap);
		}
	}
	fclose(f);
	if (!p)
		return NULL;
	p[n] = '\0';
	if (len)
		*len = n;
	return p;
}
