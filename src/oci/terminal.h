/* SPDX-License-Identifier: Apache-2.0 */
/* Pseudo-terminals for containers and passing fds over unix sockets. */
#ifndef CAPSA_OCI_TERMINAL_H
#define CAPSA_OCI_TERMINAL_H

#include "lib/err.h"

#include <stddef.h>
#include <sys/types.h>

/* Connect to a unix socket path (console socket, seccomp listener). */
int oci_unix_connect(const char *path, struct err *e);
/* Send fd with SCM_RIGHTS and a payload. Returns 0 or -1 (errno). */
int oci_send_fd(int sock, int fd, const void *data, size_t len);
/* Receive one fd (and up to len bytes of payload). Returns the fd or -1. */
int oci_recv_fd(int sock, void *data, size_t len);
/* Open a pty in the current mount namespace, send the master over
 * console_sock, make the slave the controlling terminal and stdio. */
int oci_terminal_setup(int console_sock, struct err *e);
/* Relay between our stdin/stdout and a pty master until child pid exits
 * (its wait status goes to *status). Our terminal, if any, is put in raw
 * mode meanwhile and its size follows SIGWINCH. */
void oci_terminal_relay(int master, pid_t pid, int *status);

#endif
