/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/x86/boot.h"

#include "vm/x86/bzimage.h"
#include "vm/x86/e820.h"
#include "vm/x86/elf.h"
#include "vm/x86/layout.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PVH_MAGIC 0x336ec578U

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};
struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};
struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

struct mapped_file {
	const uint8_t *p;
	size_t len;
};

static int map_file(const char *path, const char *what, struct mapped_file *f, struct err *e)
{
	f->p = NULL;
	f->len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int saved = errno;
		err_errno(e, saved, "%s %s", what, path);
		if (saved == ENOENT || saved == EACCES || saved == ENOTDIR)
			e->kind = ERR_INPUT;
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st)) {
		err_sys(e, "%s %s: stat", what, path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, ERR_INPUT, "%s %s: not a regular file", what, path);
	}
	if (st.st_size == 0) {
		close(fd);
		return err_set(e, ERR_INPUT, "%s %s: empty file", what, path);
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return err_sys(e, "%s %s: mmap", what, path);
	f->p = p;
	f->len = (size_t)st.st_size;
	return 0;
}

static void unmap_file(struct mapped_file *f)
{
	if (f->p)
		munmap((void *)f->p, f->len);
	f->p = NULL;
}

uint64_t boot_initrd_place(uint64_t size, uint64_t kernel_end, uint64_t lowmem_end, uint64_t limit)
{
	uint64_t top = lowmem_end;
	if (limit && limit + 1 < top)
		top = limit + 1;
	if (size == 0 || size > top)
		return 0;
	uint64_t addr = (top - size) & ~0xfffULL;
	kernel_end = (kernel_end + 0xfff) & ~0xfffULL;
	if (addr < kernel_end)
		return 0;
	return addr;
}

static int ram_check(const struct guest_mem *gm, uint64_t lowmem_end, uint64_t start, uint64_t size,
                     const char *name, struct err *e)
{
	if (start < LAYOUT_HIGH_START)
		return err_set(e, ERR_INPUT, "%s: loads at %#llx, below 1 MiB", name,
		               (unsigned long long)start);
	if (start + size < start || start + size > lowmem_end || !gm_contains(gm, start, size))
		return err_set(e, ERR_INPUT,
		               "%s: kernel needs memory up to %#llx but the VM has %llu MiB below "
		               "%#llx (use a larger --memory)",
		               name, (unsigned long long)(start + size),
		               (unsigned long long)(lowmem_end >> 20),
		               (unsigned long long)lowmem_end);
	return 0;
}

static int load_elf(const struct guest_mem *gm, const struct mapped_file *f, const char *name,
                    uint64_t lowmem_end, int ram_is_zero, struct boot_entry *out, struct err *e)
{
	struct elf_kernel k;
	if (elf_parse(f->p, f->len, name, &k, e))
		return -1;
	if (ram_check(gm, lowmem_end, k.lowest, k.highest - k.lowest, name, e))
		return -1;
	for (unsigned i = 0; i < k.nseg; i++) {
		const struct elf_segment *s = &k.seg[i];
		if (gm_write(gm, s->paddr, f->p + s->offset, s->filesz) ||
		    (!ram_is_zero && gm_fill(gm, s->paddr + s->filesz, 0, s->memsz - s->filesz)))
			return err_set(e, ERR_INPUT, "%s: segment at %#llx outside guest memory",
			               name, (unsigned long long)s->paddr);
	}
	out->kernel_start = k.lowest;
	out->kernel_end = k.highest;
	if (k.pvh_entry) {
		out->mode = BOOT_PVH;
		out->format = "elf+pvh";
		out->rip = k.pvh_entry;
	} else {
		out->mode = BOOT_LINUX64;
		out->format = "elf";
		out->rip = k.entry;
	}
	if (out->rip < k.lowest || out->rip >= k.highest)
		return err_set(e, ERR_INPUT, "%s: entry point %#llx is outside the loaded image",
		               name, (unsigned long long)out->rip);
	return 0;
}

static int load_bzimage(const struct guest_mem *gm, const struct mapped_file *f, const char *name,
                        uint64_t lowmem_end, struct bzimage *bz, struct boot_entry *out,
                        struct err *e)
{
	if (bzimage_parse(f->p, f->len, name, bz, e))
		return -1;
	if (ram_check(gm, lowmem_end, bz->load_addr, bz->init_size, name, e))
		return -1;
	if (gm_write(gm, bz->load_addr, f->p + bz->pm_offset, bz->pm_size))
		return err_set(e, ERR_INTERNAL, "%s: load failed", name);
	out->mode = BOOT_LINUX64;
	out->format = "bzimage";
	out->rip = bz->load_addr + 0x200;
	out->kernel_start = bz->load_addr;
	out->kernel_end = bz->load_addr + bz->init_size;
	return 0;
}

static int load_initrd(const struct guest_mem *gm, const char *path, uint64_t kernel_end,
                       uint64_t lowmem_end, uint64_t limit, struct boot_entry *out, struct err *e)
{
	struct mapped_file f;
	if (map_file(path, "initrd", &f, e))
		return -1;
	uint64_t addr = boot_initrd_place(f.len, kernel_end, lowmem_end, limit);
	if (!addr) {
		unmap_file(&f);
		return err_set(
		    e, ERR_INPUT,
		    "initrd %s: %zu bytes do not fit between the kernel and %#llx "
		    "(use a larger --memory)",
		    path, f.len,
		    (unsigned long long)(limit && limit < lowmem_end ? limit : lowmem_end));
	}
	int rc = gm_write(gm, addr, f.p, f.len);
	unmap_file(&f);
	if (rc)
		return err_set(e, ERR_INTERNAL, "initrd: write outside guest memory");
	out->initrd_addr = addr;
	out->initrd_size = f.len;
	return 0;
}

static int write_start_info(const struct guest_mem *gm, const struct e820_map *map,
                            const struct boot_entry *be, struct err *e)
{
	struct hvm_start_info si = {0};
	uint64_t at = LAYOUT_START_INFO;
	uint64_t mods = at + sizeof(si);
	uint64_t mmap = mods + sizeof(struct hvm_modlist_entry);
	si.magic = PVH_MAGIC;
	si.version = 1;
	si.cmdline_paddr = LAYOUT_CMDLINE;
	si.memmap_paddr = mmap;
	si.memmap_entries = map->n;
	if (be->initrd_size) {
		struct hvm_modlist_entry m = {be->initrd_addr, be->initrd_size, 0, 0};
		si.nr_modules = 1;
		si.modlist_paddr = mods;
		if (gm_write(gm, mods, &m, sizeof(m)))
			return err_set(e, ERR_INTERNAL, "start info: outside guest memory");
	}
	for (unsigned i = 0; i < map->n; i++) {
		struct hvm_memmap_entry me = {map->e[i].addr, map->e[i].size, map->e[i].type, 0};
		if (gm_write(gm, mmap + i * sizeof(me), &me, sizeof(me)))
			return err_set(e, ERR_INTERNAL, "start info: outside guest memory");
	}
	if (gm_write(gm, at, &si, sizeof(si)))
		return err_set(e, ERR_INTERNAL, "start info: outside guest memory");
	return 0;
}

static void put32(uint8_t *bp, size_t off, uint32_t v)
{
	memcpy(bp + off, &v, 4);
}

static int write_boot_params(const struct guest_mem *gm, const struct e820_map *map,
                             const struct mapped_file *f, const struct bzimage *bz,
                             const struct boot_entry *be, struct err *e)
{
	uint8_t *bp = gm_ptr(gm, LAYOUT_BOOT_PARAMS, BP_SIZE);
	if (!bp)
		return err_set(e, ERR_INTERNAL, "boot_params: outside guest memory");
	memset(bp, 0, BP_SIZE);
	if (bz) {
		memcpy(bp + BP_HDR, f->p + BP_HDR, bz->hdr_end - BP_HDR);
	} else {
		/* A bare vmlinux has no setup header; give the kernel a minimal one. */
		bp[BP_BOOT_FLAG] = 0x55;
		bp[BP_BOOT_FLAG + 1] = 0xaa;
		memcpy(bp + BP_HEADER, "HdrS", 4);
		bp[BP_VERSION] = 0x0f;
		bp[BP_VERSION + 1] = 0x02;
		bp[BP_LOADFLAGS] = LOADFLAG_LOADED_HIGH;
	}
	bp[BP_VID_MODE] = 0xff;
	bp[BP_VID_MODE + 1] = 0xff;
	bp[BP_TYPE_OF_LOADER] = 0xff;
	bp[BP_LOADFLAGS] |= LOADFLAG_CAN_USE_HEAP;
	bp[BP_HEAP_END_PTR] = 0x00;
	bp[BP_HEAP_END_PTR + 1] = 0xfe;
	put32(bp, BP_CMD_LINE_PTR, (uint32_t)LAYOUT_CMDLINE);
	put32(bp, BP_EXT_CMD_LINE_PTR, 0);
	put32(bp, BP_RAMDISK_IMAGE, (uint32_t)be->initrd_addr);
	put32(bp, BP_RAMDISK_SIZE, (uint32_t)be->initrd_size);
	put32(bp, BP_EXT_RAMDISK_IMAGE, (uint32_t)(be->initrd_addr >> 32));
	put32(bp, BP_EXT_RAMDISK_SIZE, (uint32_t)(be->initrd_size >> 32));
	bp[BP_E820_ENTRIES] = (uint8_t)map->n;
	for (unsigned i = 0; i < map->n; i++) {
		uint8_t *ent = bp + BP_E820_TABLE + i * 20;
		memcpy(ent, &map->e[i].addr, 8);
		memcpy(ent + 8, &map->e[i].size, 8);
		memcpy(ent + 16, &map->e[i].type, 4);
	}
	return 0;
}

int x86_boot_load(const struct guest_mem *gm, const struct boot_config *cfg, struct boot_entry *out,
                  struct err *e)
{
	memset(out, 0, sizeof(*out));
	uint64_t lowmem_end = e820_lowmem_end(cfg->ram_size);
	struct mapped_file f;
	if (map_file(cfg->kernel, "kernel", &f, e))
		return -1;
	struct bzimage bz;
	int is_bz = 0, rc;
	if (elf_is_elf(f.p, f.len)) {
		rc = load_elf(gm, &f, cfg->kernel, lowmem_end, cfg->ram_is_zero, out, e);
	} else if (bzimage_is_bzimage(f.p, f.len)) {
		is_bz = 1;
		rc = load_bzimage(gm, &f, cfg->kernel, lowmem_end, &bz, out, e);
	} else {
		rc =
		    err_set(e, ERR_INPUT, "kernel %s: not a kernel image (neither ELF nor bzImage)",
		            cfg->kernel);
	}
	if (rc)
		goto out;

	const char *cmdline = cfg->cmdline ? cfg->cmdline : "";
	size_t cmax = is_bz ? bz.cmdline_size : 2048;
	if (cmax > LAYOUT_CMDLINE_MAX)
		cmax = LAYOUT_CMDLINE_MAX;
	if (strlen(cmdline) + 1 > cmax) {
		rc = err_set(e, ERR_INPUT, "--cmdline: %zu bytes, the kernel accepts at most %zu",
		             strlen(cmdline), cmax - 1);
		goto out;
	}
	if (gm_write(gm, LAYOUT_CMDLINE, cmdline, strlen(cmdline) + 1)) {
		rc = err_set(e, ERR_INTERNAL, "cmdline: outside guest memory");
		goto out;
	}
	if (cfg->initrd) {
		uint64_t limit = is_bz ? bz.initrd_addr_max : 0xffffffffULL;
		rc = load_initrd(gm, cfg->initrd, out->kernel_end, lowmem_end, limit, out, e);
		if (rc)
			goto out;
	}
	struct e820_map map;
	e820_build(&map, cfg->ram_size);
	if (out->mode == BOOT_PVH) {
		out->arg = LAYOUT_START_INFO;
		rc = write_start_info(gm, &map, out, e);
	} else {
		out->arg = LAYOUT_BOOT_PARAMS;
		rc = write_boot_params(gm, &map, &f, is_bz ? &bz : NULL, out, e);
	}
out:
	unmap_file(&f);
	return rc;
}
