/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/api/client.h"

#include "vm/api/http.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int vm_api_call(const char *sock, const char *method, const char *path, const char *json,
                int *status, char **body, struct err *e)
{
	*body = NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(sock) >= sizeof(sa.sun_path))
		return err_set(e, ERR_INPUT, "--api-sock %s: path too long", sock);
	strcpy(sa.sun_path, sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(e, "creating a socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err_sys(e, "--api-sock %s: cannot connect", sock);
		e->kind = ERR_INPUT;
		close(fd);
		return -1;
	}
	if (http_write_request(fd, method, path, json, e)) {
		close(fd);
		return -1;
	}
	struct http_msg m;
	enum http_read_status st = http_read_response(fd, &m);
	close(fd);
	if (st != HTTP_READ_OK) {
		http_msg_free(&m);
		return err_set(e, ERR_SYSTEM, "--api-sock %s: no valid HTTP response", sock);
	}
	*status = m.status;
	*body = m.body;
	return 0;
}
