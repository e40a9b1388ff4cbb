/* SPDX-License-Identifier: Apache-2.0 */
/* See http.h. The parser runs over whatever arrives; the callbacks only
 * copy the method, path and body into bounded buffers. */
#include "vm/api/http.h"

#include <errno.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Headers are bounded too, so a client cannot make the server read forever. */
#define HTTP_MAX_HEAD (16 * 1024)

struct parse_ctx {
	struct http_msg *m;
	size_t cap;
	size_t head;
	int too_large, done;
};

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct parse_ctx *c = p->data;
	size_t have = strlen(c->m->path);
	if (have + len >= sizeof(c->m->path)) {
		c->too_large = 1;
		return 1;
	}
	memcpy(c->m->path + have, at, len);
	c->m->path[have + len] = '\0';
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct parse_ctx *c = p->data;
	if (c->m->body_len + len > HTTP_MAX_BODY) {
		c->too_large = 1;
		return 1;
	}
	if (c->m->body_len + len + 1 > c->cap) {
		size_t cap = c->m->body_len + len + 1 + 1024;
		char *b = realloc(c->m->body, cap);
		if (!b)
			return 1;
		c->m->body = b;
		c->cap = cap;
	}
	memcpy(c->m->body + c->m->body_len, at, len);
	c->m->body_len += len;
	c->m->body[c->m->body_len] = '\0';
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct parse_ctx *c = p->data;
	/* refuse a declared oversized body before reading it */
	if ((p->flags & F_CONTENTLENGTH) && p->content_length > HTTP_MAX_BODY) {
		c->too_large = 1;
		return 2;
	}
	return 0;
}

static int on_complete(http_parser *p)
{
	struct parse_ctx *c = p->data;
	c->done = 1;
	http_parser_pause(p, 1);
	return 0;
}

static enum http_read_status read_msg(int fd, struct http_msg *m, enum http_parser_type type)
{
	memset(m, 0, sizeof(*m));
	m->body = calloc(1, 1);
	if (!m->body)
		return HTTP_READ_CLOSED;
	struct parse_ctx c = {.m = m, .cap = 1};
	http_parser_settings s;
	http_parser_settings_init(&s);
	s.on_url = on_url;
	s.on_body = on_body;
	s.on_headers_complete = on_headers_complete;
	s.on_message_complete = on_complete;
	http_parser p;
	http_parser_init(&p, type);
	p.data = &c;
	char buf[4096];
	while (!c.done) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return HTTP_READ_CLOSED;
		size_t used = http_parser_execute(&p, &s, buf, (size_t)n);
		if (c.too_large)
			return HTTP_READ_TOO_LARGE;
		if (c.done)
			break;
		if (HTTP_PARSER_ERRNO(&p) != HPE_OK || used != (size_t)n)
			return n == 0 && m->path[0] == '\0' && type == HTTP_REQUEST
			           ? HTTP_READ_CLOSED
			           : HTTP_READ_BAD;
		if (n == 0)
			return type == HTTP_REQUEST ? HTTP_READ_CLOSED : HTTP_READ_BAD;
		if (p.nread > HTTP_MAX_HEAD)
			return HTTP_READ_TOO_LARGE;
	}
	if (type == HTTP_REQUEST)
		snprintf(m->method, sizeof(m->method), "%s",
		         http_method_str((enum http_method)p.method));
	m->status = (int)p.status_code;
	return HTTP_READ_OK;
}

enum http_read_status http_read_request(int fd, struct http_msg *m)
{
	return read_msg(fd, m, HTTP_REQUEST);
}

enum http_read_status http_read_response(int fd, struct http_msg *m)
{
	return read_msg(fd, m, HTTP_RESPONSE);
}

void http_msg_free(struct http_msg *m)
{
	free(m->body);
	m->body = NULL;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Payload Too Large";
	case 500:
		return "Internal Server Error";
	default:
		return "Unknown";
	}
}

static int write_all(int fd, const char *p, size_t n, struct err *e)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return err_sys(e, "writing to the API socket");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int write_msg(int fd, const char *first_line, const char *json, struct err *e)
{
	size_t blen = json ? strlen(json) : 0;
	char head[512];
	int n = snprintf(head, sizeof(head),
	                 "%s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
	                 "Connection: close\r\n\r\n",
	                 first_line, blen);
	if (n < 0 || (size_t)n >= sizeof(head))
		return err_set(e, ERR_INTERNAL, "HTTP header too long");
	if (write_all(fd, head, (size_t)n, e))
		return -1;
	return blen ? write_all(fd, json, blen, e) : 0;
}

int http_write_response(int fd, int status, const char *json, struct err *e)
{
	char line[64];
	snprintf(line, sizeof(line), "HTTP/1.1 %d %s", status, http_reason(status));
	return write_msg(fd, line, json, e);
}

int http_write_request(int fd, const char *method, const char *path, const char *json,
                       struct err *e)
{
	char line[HTTP_MAX_PATH + 64];
	snprintf(line, sizeof(line), "%s %s HTTP/1.1\r\nHost: localhost", method, path);
	return write_msg(fd, line, json, e);
}
