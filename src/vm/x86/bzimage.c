/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/x86/bzimage.h"

#include "vm/x86/layout.h"

#include <string.h>

static uint32_t rd32(const uint8_t *b, size_t off)
{
	uint32_t v;
	memcpy(&v, b + off, 4);
	return v;
}
static uint16_t rd16(const uint8_t *b, size_t off)
{
	uint16_t v;
	memcpy(&v, b + off, 2);
	return v;
}

int bzimage_is_bzimage(const uint8_t *buf, size_t len)
{
	return len >= BP_HEADER + 4 && rd16(buf, BP_BOOT_FLAG) == 0xaa55 &&
	       memcmp(buf + BP_HEADER, "HdrS", 4) == 0;
}

int bzimage_parse(const uint8_t *buf, size_t len, const char *name, struct bzimage *bz,
                  struct err *e)
{
	memset(bz, 0, sizeof(*bz));
	if (len < BP_INIT_SIZE + 4)
		return err_set(e, ERR_INPUT, "%s: truncated bzImage setup header", name);
	if (!bzimage_is_bzimage(buf, len))
		return err_set(e, ERR_INPUT, "%s: no bzImage setup header (HdrS/0xAA55)", name);
	bz->version = rd16(buf, BP_VERSION);
	if (bz->version < 0x020c)
		return err_set(e, ERR_INPUT,
		               "%s: boot protocol %u.%02u is too old (2.12 or newer needed for the "
		               "64-bit entry)",
		               name, bz->version >> 8, bz->version & 0xff);
	if (!(buf[BP_XLOADFLAGS] & XLF_KERNEL_64))
		return err_set(e, ERR_INPUT, "%s: kernel has no 64-bit entry point (xloadflags)",
		               name);
	if (!(buf[BP_LOADFLAGS] & LOADFLAG_LOADED_HIGH))
		return err_set(e, ERR_INPUT, "%s: not a bzImage (zImage loaded low)", name);
	unsigned sects = buf[BP_SETUP_SECTS] ? buf[BP_SETUP_SECTS] : 4;
	bz->setup_size = (sects + 1) * 512;
	bz->hdr_end = 0x202 + buf[BP_JUMP + 1];
	if (bz->hdr_end > bz->setup_size || bz->hdr_end < BP_INIT_SIZE + 4)
		bz->hdr_end = BP_INIT_SIZE + 4;
	if (bz->setup_size >= len)
		return err_set(e, ERR_INPUT,
		               "%s: truncated: no protected-mode kernel after %u "
		               "setup bytes",
		               name, bz->setup_size);
	bz->pm_offset = bz->setup_size;
	bz->pm_size = len - bz->setup_size;
	uint64_t syssize = (uint64_t)rd32(buf, BP_SYSSIZE) * 16;
	if (syssize > bz->pm_size)
		return err_set(
		    e, ERR_INPUT,
		    "%s: truncated: header announces %llu bytes of kernel, file has %llu", name,
		    (unsigned long long)syssize, (unsigned long long)bz->pm_size);
	bz->initrd_addr_max = rd32(buf, BP_INITRD_MAX);
	bz->cmdline_size = rd32(buf, BP_CMDLINE_SIZE);
	if (bz->cmdline_size == 0)
		bz->cmdline_size = 256;
	bz->init_size = rd32(buf, BP_INIT_SIZE);
	if (bz->init_size < bz->pm_size)
		bz->init_size = bz->pm_size;
	uint64_t pref = 0;
	memcpy(&pref, buf + BP_PREF_ADDRESS, 8);
	/* A relocatable kernel may sit at 1 MiB and moves itself; a fixed one
	 * must be where it asks to be. */
	if (buf[BP_RELOCATABLE] || pref == 0)
		bz->load_addr = LAYOUT_HIGH_START;
	else
		bz->load_addr = pref;
	if (bz->load_addr < LAYOUT_HIGH_START)
		return err_set(e, ERR_INPUT, "%s: kernel wants to load at %#llx, below 1 MiB", name,
		               (unsigned long long)bz->load_addr);
	return 0;
}
