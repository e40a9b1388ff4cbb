/* SPDX-License-Identifier: Apache-2.0 */
/* See server.h. One connection at a time: requests are short and a pause
 * or snapshot must not run concurrently with another anyway. A client that
 * stalls is cut off by a receive timeout so it cannot hold the API. */
#include "vm/api/server.h"

#include "vm/api/http.h"
#include "vm/api/routes.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct vm_api {
	struct vm_api_instance *in;
	int listen_fd, stop_fd;
	pthread_t thread;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static void serve_one(struct vm_api *a, int fd)
{
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	struct http_msg m;
	enum http_read_status st = http_read_request(fd, &m);
	int status;
	char *body = NULL;
	switch (st) {
	case HTTP_READ_OK:
		status = vm_api_route(a->in, m.method, m.path, m.body, m.body_len, &body);
		break;
	case HTTP_READ_BAD:
		status = 400;
		body = vm_api_fault("malformed HTTP request");
		break;
	case HTTP_READ_TOO_LARGE:
		status = 413;
		body = vm_api_fault("request too large");
		break;
	default:
		http_msg_free(&m);
		return;
	}
	struct err e = {0};
	http_write_response(fd, status, body, &e); /* a vanished client is its problem */
	free(body);
	http_msg_free(&m);
}

static void *api_thread(void *arg)
{
	struct vm_api *a = arg;
	for (;;) {
		struct pollfd p[2] = {{a->listen_fd, POLLIN, 0}, {a->stop_fd, POLLIN, 0}};
		/* the periodic metrics line is written by this thread too */
		int n = poll(p, 2, vm_api_tel_due_ms(&a->in->tel));
		if (n == 0)
			vm_api_tel_tick(&a->in->tel);
		if (n <= 0 && (n == 0 || errno == EINTR))
			continue;
		if (n < 0 || p[1].revents)
			break;
		int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_one(a, fd);
		close(fd);
	}
	return NULL;
}

static int listen_on(struct vm_api *a, const char *path, struct err *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(e, ERR_INPUT, "--api-sock %s: path too long", path);
	strcpy(sa.sun_path, path);
	a->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (a->listen_fd < 0)
		return err_sys(e, "creating the API socket");
	unlink(path);
	/* the socket file is born with 0600: only its owner may drive the VM */
	mode_t old = umask(0177);
	int rc = bind(a->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc) {
		err_sys(e, "--api-sock %s: cannot bind", path);
		e->kind = ERR_INPUT;
		return -1;
	}
	strcpy(a->path, path); /* ours to remove from now on */
	if (chmod(path, 0600) || listen(a->listen_fd, 8))
		return err_sys(e, "--api-sock %s: cannot listen", path);
	return 0;
}

int vm_api_start(struct vm_api **out, struct vm_api_instance *in, const char *path, struct err *e)
{
	*out = NULL;
	struct vm_api *a = calloc(1, sizeof(*a));
	if (!a)
		return err_sys(e, "allocating the API server");
	a->in = in;
	a->listen_fd = a->stop_fd = -1;
	if (listen_on(a, path, e))
		goto fail;
	a->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (a->stop_fd < 0) {
		err_sys(e, "eventfd");
		goto fail;
	}
	int rc = pthread_create(&a->thread, NULL, api_thread, a);
	if (rc) {
		err_errno(e, rc, "starting the API thread");
		goto fail;
	}
	*out = a;
	return 0;
fail:
	if (a->listen_fd >= 0) {
		close(a->listen_fd);
		if (a->path[0])
			unlink(a->path);
	}
	if (a->stop_fd >= 0)
		close(a->stop_fd);
	free(a);
	return -1;
}

struct vm_api_instance *vm_api_instance_of(struct vm_api *a)
{
	return a ? a->in : NULL;
}

void vm_api_stop(struct vm_api *a)
{
	if (!a)
		return;
	uint64_t one = 1;
	ssize_t w = write(a->stop_fd, &one, sizeof(one));
	(void)w; /* an eventfd write of 1 cannot fail */
	pthread_join(a->thread, NULL);
	close(a->listen_fd);
	close(a->stop_fd);
	unlink(a->path);
	free(a);
}
