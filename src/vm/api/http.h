/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP/1.1 messages on a stream socket for the control API, parsed with
 * http-parser (Debian's libhttp-parser). One request or response per
 * connection: the server answers with "Connection: close". */
#ifndef CAPSA_VM_API_HTTP_H
#define CAPSA_VM_API_HTTP_H

#include "lib/err.h"

#include <stddef.h>

/* Largest request body the API accepts (the requests are small JSON
 * objects); larger bodies get 413. */
#define HTTP_MAX_BODY (16 * 1024)
#define HTTP_MAX_PATH 256

enum http_read_status {
	HTTP_READ_OK,
	HTTP_READ_BAD,       /* malformed request: 400 */
	HTTP_READ_TOO_LARGE, /* body or header beyond the limits: 413 */
	HTTP_READ_CLOSED,    /* the peer went away or timed out: no answer */
};

struct http_msg {
	char method[16]; /* requests */
	char path[HTTP_MAX_PATH];
	int status; /* responses */
	char *body; /* malloc'd, NUL-terminated ("" when empty) */
	size_t body_len;
};

/* Read one request from fd. Returns one of http_read_status; m->body is
 * always malloc'd or NULL, release with http_msg_free. */
enum http_read_status http_read_request(int fd, struct http_msg *m);
/* Read one response (the client side), until the message ends or EOF. */
enum http_read_status http_read_response(int fd, struct http_msg *m);
void http_msg_free(struct http_msg *m);

/* Write a response with a JSON body (may be NULL for none). */
int http_write_response(int fd, int status, const char *json, struct err *e);
/* Write a request with an optional JSON body. */
int http_write_request(int fd, const char *method, const char *path, const char *json,
                       struct err *e);

const char *http_reason(int status);

#endif
