/* SPDX-License-Identifier: Apache-2.0 */
/* Echo server for bench/virtio-vsock: listens on a Unix socket path, serves
 * one connection at a time, writes back everything it reads. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2 || strlen(argv[1]) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		fprintf(stderr, "usage: vsock-echo PATH\n");
		return 2;
	}
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	memcpy(a.sun_path, argv[1], strlen(argv[1]) + 1);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 4)) {
		perror(argv[1]);
		return 1;
	}
	static char buf[1 << 16];
	for (;;) {
		int fd = accept(l, NULL, NULL);
		if (fd < 0)
			return errno == EINTR ? 0 : 1;
		ssize_t r;
		while ((r = read(fd, buf, sizeof(buf))) > 0)
			for (ssize_t off = 0, w; off < r; off += w)
				if ((w = write(fd, buf + off, (size_t)(r - off))) <= 0)
					goto next;
	next:
		close(fd);
	}
}
