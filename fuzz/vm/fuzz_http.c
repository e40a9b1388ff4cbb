/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: hostile bytes as one connection's input to the control
 * API (http_read_request, then vm_api_route) against a machine still being
 * configured, as `capsa vm run --api-sock PATH` serves before InstanceStart.
 * No thread waits to start a VM here, so InstanceStart and snapshot/load are
 * refused like in a process that is ending. The logger and the metrics are
 * configured to /dev/null first, so every request goes through their code and
 * PUT /logger or /metrics never opens a path from the input. Any crash, sanitizer report or
 * leak is a finding, and so is an error answer without a fault message or a
 * body that is not JSON. */
#include "vm/api/http.h"
#include "vm/api/instance.h"
#include "vm/api/routes.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void check_answer(int status, const char *body)
{
	if (status < 200 || status > 599)
		abort();
	if (status == 204 || (status == 200 && !body))
		return;
	json_object *o = body ? json_tokener_parse(body) : NULL;
	if (!o || !json_object_is_type(o, json_type_object))
		abort();
	if (status >= 400 && !json_object_object_get_ex(o, "fault_message", NULL))
		abort();
	json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm_api_machine m;
	struct err e = {0};
	if (vm_api_machine_init(&m, "console=ttyS0", &e))
		abort();
	struct vm_api_instance in;
	vm_api_instance_init(&in, &m, NULL);
	in.starter = 0; /* no thread to start a VM */
	if (vm_api_tel_set_logger(&in.tel, "/dev/null", "Trace", 1, 1, &e) ||
	    vm_api_tel_set_metrics(&in.tel, "/dev/null", &e))
		abort();

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	int buf = 1 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	for (size_t off = 0; off < size;) {
		ssize_t w = write(sv[0], data + off, size - off);
		if (w <= 0)
			abort();
		off += (size_t)w;
	}
	shutdown(sv[0], SHUT_WR);
	struct http_msg msg;
	if (http_read_request(sv[1], &msg) == HTTP_READ_OK) {
		char *body = NULL;
		int status = vm_api_route(&in, msg.method, msg.path, msg.body, msg.body_len, &body);
		check_answer(status, body);
		free(body);
	}
	http_msg_free(&msg);
	close(sv[0]);
	close(sv[1]);
	vm_api_instance_destroy(&in);
	vm_api_machine_free(&m);
	return 0;
}
