/* SPDX-License-Identifier: Apache-2.0 */
/* See stream.h. Everything read from the peer is checked before use. */
#include "vm/migrate/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

int mig_parse_addr(const char *spec, const char *what, struct sockaddr_storage *sa,
                   socklen_t *salen, struct err *e)
{
	char host[256];
	const char *h = spec && !strncmp(spec, "tcp:", 4) ? spec + 4 : NULL;
	const char *colon = h ? strrchr(h, ':') : NULL;
	if (!colon || colon == h || (size_t)(colon - h) >= sizeof(host) || !colon[1])
		return err_set(e, ERR_INPUT, "%s '%s': use tcp:HOST:PORT", what, spec ? spec : "");
	memcpy(host, h, (size_t)(colon - h));
	host[colon - h] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') { /* [IPv6] */
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return err_set(e, ERR_INPUT, "%s '%s': bad port", what, spec);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *ai = NULL;
	int rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc || !ai || ai->ai_addrlen > sizeof(*sa)) {
		if (ai)
			freeaddrinfo(ai);
		return err_set(e, ERR_INPUT, "%s '%s': cannot resolve %s: %s", what, spec, host,
		               rc ? gai_strerror(rc) : "no address");
	}
	memcpy(sa, ai->ai_addr, ai->ai_addrlen);
	*salen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

void mig_set_timeout(int fd, double seconds)
{
	struct timeval tv = {(time_t)seconds,
	                     (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6)};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

void mig_set_nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int mig_connect(const struct sockaddr_storage *sa, socklen_t salen, double timeout, int *out,
                struct err *e)
{
	int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_sys(e, "creating a socket");
	int rc = connect(fd, (const struct sockaddr *)sa, salen);
	if (rc && errno == EINPROGRESS) {
		struct pollfd p = {fd, POLLOUT, 0};
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		rc = poll(&p, 1, (int)(timeout * 1000));
		if (rc == 0)
			errno = ETIMEDOUT;
		else if (rc > 0 && !getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl))
			errno = soerr;
		rc = rc > 0 && soerr == 0 ? 0 : -1;
	}
	if (rc) {
		err_sys(e, "cannot connect");
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	mig_set_nodelay(fd);
	*out = fd;
	return 0;
}

static int write_all(int fd, const void *buf, size_t len, struct err *e)
{
	const char *p = buf;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_sys(e, "sending the migration stream");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Header and payload in one system call (one segment for a small record),
 * then what is left. */
static int write_two(int fd, const void *a, size_t alen, const void *b, size_t blen, struct err *e)
{
	struct iovec iov[2] = {{(void *)a, alen}, {(void *)b, blen}};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = blen ? 2 : 1};
	ssize_t n;
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return err_sys(e, "sending the migration stream");
	size_t done = (size_t)n;
	if (done < alen)
		return write_all(fd, (const char *)a + done, alen - done, e) ||
		               (blen && write_all(fd, b, blen, e))
		           ? -1
		           : 0;
	done -= alen;
	return done < blen ? write_all(fd, (const char *)b + done, blen - done, e) : 0;
}

/* 0 when all read; 1 when the peer closed before the first byte. */
static int read_all(int fd, void *buf, size_t len, struct err *e)
{
	char *p = buf;
	size_t got = 0;
	while (got < len) {
		ssize_t n = recv(fd, p + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(e, "receiving the migration stream");
		if (n == 0) {
			if (got == 0)
				return 1;
			return err_set(e, ERR_INPUT, "the migration stream ends inside a record");
		}
		got += (size_t)n;
	}
	return 0;
}

struct preamble {
	char magic[8];
	uint32_t version, pad;
};

int mig_send_preamble(int fd, struct err *e)
{
	struct preamble p = {MIG_MAGIC, MIG_VERSION, 0};
	return write_all(fd, &p, sizeof(p), e);
}

int mig_recv_preamble(int fd, struct err *e)
{
	struct preamble p;
	int rc = read_all(fd, &p, sizeof(p), e);
	if (rc < 0)
		return -1;
	if (rc > 0 || memcmp(p.magic, MIG_MAGIC, 8))
		return err_set(e, ERR_INPUT, "not a capsa migration stream (bad magic)");
	if (p.version != MIG_VERSION)
		return err_set(e, ERR_INPUT, "migration stream version %u, this capsa reads %u",
		               p.version, MIG_VERSION);
	return 0;
}

int mig_send(int fd, uint32_t type, const void *buf, size_t len, struct err *e)
{
	struct mig_record_header h = {type, (uint32_t)len, (uint32_t)crc32(0, buf, (uInt)len), 0};
	if (len > MIG_MAX_RECORD)
		return err_set(e, ERR_INTERNAL, "migration record of %zu bytes", len);
	return write_two(fd, &h, sizeof(h), buf, len, e);
}

int mig_recv(int fd, uint32_t *type, void **buf, size_t *len, size_t max, struct err *e)
{
	*buf = NULL;
	struct mig_record_header h;
	int rc = read_all(fd, &h, sizeof(h), e);
	if (rc > 0) {
		errno = ECONNRESET;
		return err_sys(e, "the peer closed the migration stream");
	}
	if (rc)
		return -1;
	if (h.type < MIG_HELLO || h.type > MIG_SYNC)
		return err_set(e, ERR_INPUT, "migration record of unknown type %u", h.type);
	if (h.len > max)
		return err_set(e, ERR_INPUT, "migration record type %u of %u bytes, at most %zu",
		               h.type, h.len, max);
	char *b = malloc((size_t)h.len + 1);
	if (!b)
		return err_sys(e, "allocating %u bytes", h.len);
	rc = h.len ? read_all(fd, b, h.len, e) : 0;
	if (rc > 0)
		rc = err_set(e, ERR_INPUT, "the migration stream ends inside a record");
	if (rc == 0 && (uint32_t)crc32(0, (const Bytef *)b, h.len) != h.crc)
		rc = err_set(e, ERR_INPUT,
		             "migration record type %u is corrupt (checksum mismatch)", h.type);
	if (rc) {
		free(b);
		return -1;
	}
	b[h.len] = '\0';
	*type = h.type;
	*buf = b;
	*len = h.len;
	return 0;
}
