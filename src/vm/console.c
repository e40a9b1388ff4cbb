/* SPDX-License-Identifier: Apache-2.0 */
/* Console input: bytes from the host (a terminal, a pipe) into the serial
 * port's receive FIFO. On a terminal, Ctrl-A x ends the VM and Ctrl-A
 * Ctrl-A sends one Ctrl-A. */
#include "vm/vm_internal.h"

#include "vm/sandbox.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define CTRL_A 0x01

static void *console_thread(void *arg)
{
	struct vm *vm = arg;
	struct console *c = &vm->console;
	uint8_t buf[256];
	size_t have = 0, sent = 0;
	int in_open = 1, esc = 0;
	struct err e = {0};
	if (sandbox_enter_thread(0, &e)) {
		vm_end_with_report(vm, VM_END_ERROR, 1, e.msg);
		return NULL;
	}
	for (;;) {
		struct pollfd p[2] = {{c->stop_fd, POLLIN, 0},
		                      {in_open && have == sent ? c->in_fd : -1, POLLIN, 0}};
		int n = poll(p, 2, have > sent ? 5 : -1);
		if (n < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (have > sent) {
			sent += serial_receive(&vm->serial, buf + sent, have - sent);
			continue;
		}
		if (!p[1].revents)
			continue;
		uint8_t raw[128];
		ssize_t r = read(c->in_fd, raw, sizeof(raw));
		if (r <= 0) {
			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			in_open = 0; /* end of input: the guest keeps running */
			continue;
		}
		have = sent = 0;
		for (ssize_t i = 0; i < r; i++) {
			uint8_t ch = raw[i];
			if (c->escape && esc) {
				esc = 0;
				if (ch == 'x' || ch == 'X') {
					vm_request_end(vm, VM_END_USER, 0);
					continue;
				}
				if (ch != CTRL_A)
					buf[have++] = CTRL_A;
			} else if (c->escape && ch == CTRL_A) {
				esc = 1;
				continue;
			}
			buf[have++] = ch;
		}
		sent += serial_receive(&vm->serial, buf, have);
	}
	return NULL;
}

int console_start(struct vm *vm, struct err *e)
{
	struct console *c = &vm->console;
	if (c->in_fd < 0)
		return 0;
	c->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (c->stop_fd < 0)
		return err_sys(e, "console: eventfd");
	int rc = pthread_create(&c->thread, NULL, console_thread, vm);
	if (rc)
		return err_errno(e, rc, "starting the console thread");
	c->started = 1;
	return 0;
}

void console_stop(struct vm *vm)
{
	struct console *c = &vm->console;
	if (c->started) {
		uint64_t one = 1;
		ssize_t w = write(c->stop_fd, &one, sizeof(one));
		(void)w;
		pthread_join(c->thread, NULL);
		c->started = 0;
	}
	if (c->stop_fd >= 0)
		close(c->stop_fd);
	c->stop_fd = -1;
}
