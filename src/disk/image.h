/* SPDX-License-Identifier: Apache-2.0 */
/* Root filesystem images: an ext4 file system built from a directory or a
 * tar archive with mkfs.ext4 -d (e2fsprogs). */
#ifndef CAPSA_DISK_IMAGE_H
#define CAPSA_DISK_IMAGE_H

#include "lib/err.h"

#include <stdint.h>

/* `from` is a directory or a tar file (any compression tar understands);
 * `out` must not exist. */
int image_create_ext4(const char *from, uint64_t size, const char *out, struct err *e);

#endif
