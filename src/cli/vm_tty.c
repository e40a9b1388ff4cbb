/* SPDX-License-Identifier: Apache-2.0 */
/* Raw mode for the console terminal, restored on every way out. */
#include "cli/vm_cmds.h"

#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;
static int saved_fd = -1;

void tty_raw_end(void)
{
	if (saved_fd >= 0) {
		tcsetattr(saved_fd, TCSADRAIN, &saved);
		saved_fd = -1;
	}
}

int tty_raw_begin(int fd)
{
	if (!isatty(fd) || tcgetattr(fd, &saved))
		return -1;
	struct termios raw = saved;
	cfmakeraw(&raw);
	/* Keep output processing so that bare \n from a guest starts a new line. */
	raw.c_oflag |= OPOST | ONLCR;
	if (tcsetattr(fd, TCSADRAIN, &raw))
		return -1;
	saved_fd = fd;
	atexit(tty_raw_end);
	return 0;
}
