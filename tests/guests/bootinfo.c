/* SPDX-License-Identifier: Apache-2.0 */
/* Reads the loader's boot information: Xen PVH hvm_start_info or Linux boot_params. */
#include "guest.h"

#define HVM_START_MAGIC 0x336ec578
#define FOUR_GIB        0x100000000ull

/* Offsets into struct boot_params (Linux zero page). */
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE  0x0c4
#define BP_EXT_CMD_LINE_PTR  0x0c8
#define BP_E820_ENTRIES      0x1e8
#define BP_RAMDISK_IMAGE     0x218
#define BP_RAMDISK_SIZE      0x21c
#define BP_CMD_LINE_PTR      0x228
#define BP_E820_TABLE        0x2d0
#define BP_E820_MAX          128

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr; /* version >= 1 */
	uint32_t memmap_entries, reserved;
};

struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

/* Only the identity-mapped first 4 GiB is reachable. */
static const void *phys(uint64_t paddr, uint64_t len)
{
	if (!paddr || paddr >= FOUR_GIB || len > FOUR_GIB - paddr)
		return 0;
	return (const void *)(uintptr_t)paddr;
}

static void add_mem(struct bootinfo *bi, uint64_t start, uint64_t size, uint32_t type)
{
	bi->mem_total++;
	if (bi->nmem < MAX_MEMMAP)
		bi->mem[bi->nmem++] = (struct memmap_entry){start, size, type};
}

static void parse_pvh(uint64_t info, struct bootinfo *bi)
{
	const struct hvm_start_info *si = phys(info, sizeof(*si));
	if (!si || si->magic != HVM_START_MAGIC) {
		bi->problem = "bad hvm_start_info magic";
		return;
	}
	const char *cl = phys(si->cmdline_paddr, 1);
	if (cl)
		bi->cmdline = cl;
	if (si->nr_modules) {
		const struct hvm_modlist_entry *m = phys(si->modlist_paddr, sizeof(*m));
		if (m) {
			bi->initrd_addr = m->paddr;
			bi->initrd_size = m->size;
		}
	}
	if (si->version >= 1 && si->memmap_entries) {
		const struct hvm_memmap_entry *e =
		    phys(si->memmap_paddr, (uint64_t)si->memmap_entries * sizeof(*e));
		for (uint32_t i = 0; e && i < si->memmap_entries; i++)
			add_mem(bi, e[i].addr, e[i].size, e[i].type);
	}
}

static uint32_t rd32(const uint8_t *p, unsigned off)
{
	uint32_t v;
	memcpy(&v, p + off, 4);
	return v;
}

static void parse_linux(uint64_t info, struct bootinfo *bi)
{
	const uint8_t *bp = phys(info, 4096);
	if (!bp) {
		bi->problem = "boot_params pointer out of range";
		return;
	}
	uint64_t cl = rd32(bp, BP_CMD_LINE_PTR) | (uint64_t)rd32(bp, BP_EXT_CMD_LINE_PTR) << 32;
	if (phys(cl, 1))
		bi->cmdline = phys(cl, 1);
	bi->initrd_addr = rd32(bp, BP_RAMDISK_IMAGE) | (uint64_t)rd32(bp, BP_EXT_RAMDISK_IMAGE)
	                                                   << 32;
	bi->initrd_size = rd32(bp, BP_RAMDISK_SIZE) | (uint64_t)rd32(bp, BP_EXT_RAMDISK_SIZE) << 32;
	unsigned n = bp[BP_E820_ENTRIES];
	if (n > BP_E820_MAX) {
		bi->problem = "e820_entries larger than the table";
		n = BP_E820_MAX;
	}
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *e = bp + BP_E820_TABLE + 20 * i;
		uint64_t a, s;
		memcpy(&a, e, 8);
		memcpy(&s, e + 8, 8);
		add_mem(bi, a, s, rd32(e, 16));
	}
}

void bootinfo_parse(uint32_t kind, uint64_t info, struct bootinfo *bi)
{
	bi->kind = kind;
	bi->info_paddr = info;
	bi->cmdline = "";
	bi->nmem = bi->mem_total = 0;
	bi->initrd_addr = bi->initrd_size = 0;
	bi->problem = 0;
	if (kind == BOOT_PVH)
		parse_pvh(info, bi);
	else
		parse_linux(info, bi);
}

const char *boot_kind_name(uint32_t kind)
{
	switch (kind) {
	case BOOT_PVH:
		return "pvh";
	case BOOT_LINUX64:
		return "linux64";
	case BOOT_LINUX32:
		return "linux32";
	}
	return "unknown";
}
