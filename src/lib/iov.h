/* SPDX-License-Identifier: Apache-2.0 */
/* Scatter-gather helpers. */
#ifndef CAPSA_LIB_IOV_H
#define CAPSA_LIB_IOV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Restrict iov[0..n) to its bytes [skip, skip+len): writes at most n
 * entries to out and returns how many. */
int iov_slice(const struct iovec *iov, size_t n, uint64_t skip, uint64_t len, struct iovec *out);

#endif
