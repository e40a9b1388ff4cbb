/* SPDX-License-Identifier: Apache-2.0 */
#include "oci/terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

int oci_unix_connect(const char *path, struct err *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(e, ERR_INPUT, "socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(e, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err_sys(e, "connecting to %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

int oci_send_fd(int sock, int fd, const void *data, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof(cbuf));
	char dummy = 0;
	struct iovec iov = {.iov_base = len ? (void *)data : &dummy, .iov_len = len ? len : 1};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	ssize_t r;
	do
		r = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : 0;
}

int oci_recv_fd(int sock, void *data, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char dummy;
	struct iovec iov = {.iov_base = len ? data : &dummy, .iov_len = len ? len : 1};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t r;
	do
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int))) {
		errno = EBADMSG;
		return -1;
	}
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (len && (size_t)r < len)
		((char *)data)[r] = '\0';
	return fd;
}

int oci_terminal_setup(int console_sock, struct err *e)
{
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return err_sys(e, "process.terminal: opening /dev/ptmx in the container");
	char name[128];
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ptsname_r(master, name, sizeof(name)) != 0) {
		close(master);
		return err_sys(e, "process.terminal: setting up the pty");
	}
	int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		close(master);
		return err_sys(e, "process.terminal: opening %s", name);
	}
	if (oci_send_fd(console_sock, master, name, strlen(name)) < 0) {
		err_sys(e, "process.terminal: sending the pty to the console socket");
		close(master);
		close(slave);
		return -1;
	}
	close(master);
	setsid();
	if (ioctl(slave, TIOCSCTTY, 0) < 0) {
		close(slave);
		return err_sys(e, "process.terminal: TIOCSCTTY");
	}
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0) {
			close(slave);
			return err_sys(e, "process.terminal: dup2");
		}
	if (slave > 2)
		close(slave);
	return 0;
}

static volatile sig_atomic_t winch;
static void on_winch(int sig)
{
	(void)sig;
	winch = 1;
}

static void copy_size(int master)
{
	struct winsize ws;
	if (ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

void oci_terminal_relay(int master, pid_t pid, int *status)
{
	struct termios saved, raw;
	int is_tty = tcgetattr(0, &saved) == 0;
	if (is_tty) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
		copy_size(master);
	}
	struct sigaction sa = {.sa_handler = on_winch};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGWINCH, &sa, NULL);
	int in_open = 1, done = 0;
	char buf[4096];
	*status = 0;
	while (!done) {
		if (winch) {
			winch = 0;
			copy_size(master);
		}
		struct pollfd p[2] = {{master, POLLIN, 0}, {in_open ? 0 : -1, POLLIN, 0}};
		int n = poll(p, 2, 100);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = read(master, buf, sizeof(buf));
			if (r > 0)
				(void)!write(1, buf, (size_t)r);
		}
		if (n > 0 && (p[1].revents & (POLLIN | POLLHUP))) {
			ssize_t r = read(0, buf, sizeof(buf));
			if (r > 0)
				(void)!write(master, buf, (size_t)r);
			else
				in_open = 0;
		}
		if (waitpid(pid, status, WNOHANG) == pid) {
			/* drain what the process wrote last */
			for (;;) {
				struct pollfd d = {master, POLLIN, 0};
				if (poll(&d, 1, 0) <= 0 || !(d.revents & POLLIN))
					break;
				ssize_t r = read(master, buf, sizeof(buf));
				if (r <= 0)
					break;
				(void)!write(1, buf, (size_t)r);
			}
			done = 1;
		}
	}
	if (is_tty)
		tcsetattr(0, TCSANOW, &saved);
}
