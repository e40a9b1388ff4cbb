/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/iov.h"

int iov_slice(const struct iovec *iov, size_t n, uint64_t skip, uint64_t len, struct iovec *out)
{
	int k = 0;
	for (size_t i = 0; i < n && len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		uint64_t m = iov[i].iov_len - skip;
		if (m > len)
			m = len;
		out[k++] = (struct iovec){(uint8_t *)iov[i].iov_base + skip, (size_t)m};
		len -= m;
		skip = 0;
	}
	return k;
}
