/* SPDX-License-Identifier: Apache-2.0 */
/* --vsock cid=N,uds=PATH */
#include "vm/vm_vsock.h"

#include "lib/size.h"

#include <string.h>

int vm_vsock_parse(struct vm_vsock_config *c, const char *spec, struct err *e)
{
	if (c->enabled)
		return err_set(e, ERR_INPUT, "--vsock %s: only one vsock device", spec);
	memset(c, 0, sizeof(*c));
	int have_cid = 0;
	const char *p = spec;
	while (*p) {
		size_t n = strcspn(p, ",");
		char item[4200];
		if (n >= sizeof(item))
			return err_set(e, ERR_INPUT, "--vsock: option '%.*s...' too long", 32, p);
		memcpy(item, p, n);
		item[n] = '\0';
		if (!strncmp(item, "cid=", 4)) {
			uint64_t cid;
			if (parse_uint(item + 4, "--vsock cid", 0, UINT64_MAX, &cid, e) ||
			    vsock_check_cid(cid, e))
				return err_prefix(e, "--vsock %s", spec);
			c->cid = (uint32_t)cid;
			have_cid = 1;
		} else if (!strncmp(item, "uds=", 4)) {
			size_t l = n - 4;
			if (l == 0 || l > VSOCK_UDS_MAX)
				return err_set(
				    e, ERR_INPUT,
				    "--vsock: uds path '%s' empty or longer than %d bytes "
				    "(room is kept for \"_<port>\")",
				    item + 4, VSOCK_UDS_MAX);
			memcpy(c->uds, item + 4, l + 1);
		} else {
			return err_set(e, ERR_INPUT,
			               "--vsock: bad option '%s' (use cid=N,uds=PATH)", item);
		}
		p += n;
		if (*p == ',')
			p++;
	}
	if (!have_cid || !c->uds[0])
		return err_set(e, ERR_INPUT, "--vsock %s: cid=N and uds=PATH are both required",
		               spec);
	c->enabled = 1;
	return 0;
}

struct virtio_vsock *vm_vsock_create(const struct vm_vsock_config *c, struct err *e)
{
	struct virtio_vsock *v = virtio_vsock_new(c->cid, c->uds, VSOCK_MAX_CONNS, e);
	if (!v)
		err_prefix(e, "--vsock");
	return v;
}
