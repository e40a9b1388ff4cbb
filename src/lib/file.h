/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a whole file into memory, with a size limit and errors as values. */
#ifndef CAPSA_LIB_FILE_H
#define CAPSA_LIB_FILE_H

#include "lib/err.h"

#include <stddef.h>

/* Read the rest of fd (NAME in messages) into a NUL-terminated buffer to
 * free(); *len (if len is not NULL) gets the length without the NUL. The
 * buffer grows by doubling from 4 KiB and the read fails (ERR_INPUT, "NAME:
 * larger than MAX bytes") once a full buffer is larger than max: anything
 * shorter than max bytes is read, anything as long as the first such buffer
 * (less one byte) is refused. NULL + err on failure. */
char *file_read_fd(int fd, const char *name, size_t max, size_t *len, struct err *e);
/* file_read_fd() on PATH opened read-only; a failed open is ERR_SYSTEM. */
char *file_read(const char *path, size_t max, size_t *len, struct err *e);

#endif
