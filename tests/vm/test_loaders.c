/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the x86 boot code on crafted inputs: bzImage setup header,
 * ELF parsing, e820, page tables, MP table, initrd placement, CPUID edits,
 * size parsing. */
#include "common/testutil.h"

#include "lib/size.h"
#include "mem/guest_mem.h"
#include "vm/x86/boot.h"
#include "vm/x86/bzimage.h"
#include "vm/x86/cpuid.h"
#include "vm/x86/e820.h"
#include "vm/x86/elf.h"
#include "vm/x86/layout.h"
#include "vm/x86/mptable.h"
#include "vm/x86/pagetables.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- bzImage ---- */

static uint8_t *make_bzimage(size_t *len, unsigned setup_sects, size_t pm_size)
{
	*len = (setup_sects + 1) * 512 + pm_size;
	uint8_t *b = calloc(1, *len);
	b[BP_SETUP_SECTS] = (uint8_t)setup_sects;
	b[BP_BOOT_FLAG] = 0x55;
	b[BP_BOOT_FLAG + 1] = 0xaa;
	b[BP_JUMP] = 0xeb;
	b[BP_JUMP + 1] = 0x66; /* header ends at 0x268 */
	memcpy(b + BP_HEADER, "HdrS", 4);
	b[BP_VERSION] = 0x0f;
	b[BP_VERSION + 1] = 0x02;
	b[BP_LOADFLAGS] = LOADFLAG_LOADED_HIGH;
	b[BP_XLOADFLAGS] = XLF_KERNEL_64;
	uint32_t syssize = (uint32_t)((pm_size + 15) / 16), initrd_max = 0x37ffffff,
	         cmdline_size = 2048, init_size = (uint32_t)pm_size * 4;
	memcpy(b + BP_SYSSIZE, &syssize, 4);
	memcpy(b + BP_INITRD_MAX, &initrd_max, 4);
	memcpy(b + BP_CMDLINE_SIZE, &cmdline_size, 4);
	memcpy(b + BP_INIT_SIZE, &init_size, 4);
	b[BP_RELOCATABLE] = 1;
	return b;
}

static void bz_valid(void **state)
{
	(void)state;
	size_t len;
	uint8_t *b = make_bzimage(&len, 27, 8192);
	struct bzimage bz;
	struct err e = {0};
	assert_true(bzimage_is_bzimage(b, len));
	assert_int_equal(bzimage_parse(b, len, "k", &bz, &e), 0);
	assert_int_equal(bz.version, 0x020f);
	assert_int_equal(bz.setup_size, 28 * 512);
	assert_int_equal(bz.pm_offset, 28 * 512);
	assert_int_equal(bz.pm_size, 8192);
	assert_int_equal(bz.load_addr, 0x100000);
	assert_int_equal(bz.cmdline_size, 2048);
	assert_int_equal(bz.initrd_addr_max, 0x37ffffff);
	assert_int_equal(bz.init_size, 8192 * 4);
	assert_int_equal(bz.hdr_end, 0x268);
	free(b);
}

static void bz_zero_setup_sects_means_four(void **state)
{
	(void)state;
	size_t len;
	uint8_t *b = make_bzimage(&len, 4, 4096);
	b[BP_SETUP_SECTS] = 0;
	struct bzimage bz;
	struct err e = {0};
	assert_int_equal(bzimage_parse(b, len, "k", &bz, &e), 0);
	assert_int_equal(bz.setup_size, 5 * 512);
	free(b);
}

static void bz_rejects(void **state)
{
	(void)state;
	size_t len;
	struct bzimage bz;
	struct err e = {0};
	uint8_t *b = make_bzimage(&len, 4, 4096);

	/* old protocol */
	b[BP_VERSION] = 0x0b;
	assert_int_equal(bzimage_parse(b, len, "k", &bz, &e), -1);
	assert_int_equal(e.kind, ERR_INPUT);
	assert_non_null(strstr(e.msg, "too old"));
	b[BP_VERSION] = 0x0f;

	/* no 64-bit entry */
	b[BP_XLOADFLAGS] = 0;
	assert_int_equal(bzimage_parse(b, len, "k", &bz, &e), -1);
	assert_non_null(strstr(e.msg, "64-bit"));
	b[BP_XLOADFLAGS] = XLF_KERNEL_64;

	/* truncated: syssize larger than what follows the setup */
	assert_int_equal(bzimage_parse(b, len - 100, "k", &bz, &e), -1);
	assert_non_null(strstr(e.msg, "truncated"));

	/* truncated inside the setup code */
	assert_int_equal(bzimage_parse(b, 5 * 512, "k", &bz, &e), -1);
	assert_non_null(strstr(e.msg, "truncated"));

	/* header too short to hold the fields */
	assert_int_equal(bzimage_parse(b, 0x210, "k", &bz, &e), -1);

	/* bad magic */
	b[BP_HEADER] = 'X';
	assert_false(bzimage_is_bzimage(b, len));
	assert_int_equal(bzimage_parse(b, len, "k", &bz, &e), -1);
	free(b);
}

/* ---- ELF ---- */

struct elf_img {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	Elf64_Nhdr nh;
	char name[4];
	uint32_t desc;
	uint8_t code[64];
};

static void make_elf(struct elf_img *m, int with_note)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->eh.e_ident, ELFMAG, SELFMAG);
	m->eh.e_ident[EI_CLASS] = ELFCLASS64;
	m->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	m->eh.e_type = ET_EXEC;
	m->eh.e_machine = EM_X86_64;
	m->eh.e_entry = 0x100010;
	m->eh.e_phoff = offsetof(struct elf_img, ph);
	m->eh.e_phentsize = sizeof(Elf64_Phdr);
	m->eh.e_phnum = with_note ? 2 : 1;
	m->ph[0].p_type = PT_LOAD;
	m->ph[0].p_offset = offsetof(struct elf_img, code);
	m->ph[0].p_paddr = 0x100000;
	m->ph[0].p_filesz = sizeof(m->code);
	m->ph[0].p_memsz = 0x2000;
	m->ph[1].p_type = PT_NOTE;
	m->ph[1].p_offset = offsetof(struct elf_img, nh);
	m->ph[1].p_filesz = sizeof(m->nh) + 4 + 4;
	m->nh.n_namesz = 4;
	m->nh.n_descsz = 4;
	m->nh.n_type = 18;
	memcpy(m->name, "Xen", 4);
	m->desc = 0x100020;
}

static void elf_valid(void **state)
{
	(void)state;
	struct elf_img m;
	struct elf_kernel k;
	struct err e = {0};
	make_elf(&m, 1);
	assert_int_equal(elf_parse((uint8_t *)&m, sizeof(m), "k", &k, &e), 0);
	assert_int_equal(k.entry, 0x100010);
	assert_int_equal(k.pvh_entry, 0x100020);
	assert_int_equal(k.nseg, 1);
	assert_int_equal(k.lowest, 0x100000);
	assert_int_equal(k.highest, 0x102000);
	make_elf(&m, 0);
	assert_int_equal(elf_parse((uint8_t *)&m, sizeof(m), "k", &k, &e), 0);
	assert_int_equal(k.pvh_entry, 0);
}

static void elf_rejects(void **state)
{
	(void)state;
	struct elf_img m;
	struct elf_kernel k;
	struct err e = {0};

	make_elf(&m, 1);
	m.eh.e_machine = EM_386;
	assert_int_equal(elf_parse((uint8_t *)&m, sizeof(m), "k", &k, &e), -1);
	assert_non_null(strstr(e.msg, "x86-64"));

	make_elf(&m, 1); /* segment beyond the end of the file */
	m.ph[0].p_filesz = 1 << 20;
	assert_int_equal(elf_parse((uint8_t *)&m, sizeof(m), "k", &k, &e), -1);
	assert_non_null(strstr(e.msg, "truncated"));

	make_elf(&m, 1); /* program headers beyond the end of the file */
	m.eh.e_phoff = sizeof(m) - 8;
	assert_int_equal(elf_parse((uint8_t *)&m, sizeof(m), "k", &k, &e), -1);

	make_elf(&m, 1); /* offset+size overflow */
	m.ph[0].p_offset = UINT64_MAX - 4;
	assert_int_equal(elf_parse((uint8_t *)&m, sizeof(m), "k", &k, &e), -1);

	make_elf(&m, 1); /* wrapping physical range */
	m.ph[0].p_paddr = UINT64_MAX - 0x100;
	assert_int_equal(elf_parse((uint8_t *)&m, sizeof(m), "k", &k, &e), -1);

	make_elf(&m, 1); /* filesz > memsz */
	m.ph[0].p_memsz = 1;
	assert_int_equal(elf_parse((uint8_t *)&m, sizeof(m), "k", &k, &e), -1);

	make_elf(&m, 1); /* note whose name runs past the segment */
	m.nh.n_namesz = 4000;
	assert_int_equal(elf_parse((uint8_t *)&m, sizeof(m), "k", &k, &e), -1);
	assert_non_null(strstr(e.msg, "note"));

	make_elf(&m, 1); /* truncated header */
	assert_int_equal(elf_parse((uint8_t *)&m, 20, "k", &k, &e), -1);
	assert_int_equal(e.kind, ERR_INPUT);
}

/* x86_boot_load zero-fills ELF .bss unless told that guest RAM is fresh. */
static void elf_bss_fill(void **state)
{
	(void)state;
	struct elf_img m;
	make_elf(&m, 1);
	char path[] = "/tmp/capsa-elf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, &m, sizeof(m)), (ssize_t)sizeof(m));
	close(fd);
	size_t sz = 16 << 20;
	uint8_t *ram = malloc(sz);
	struct guest_mem gm = {.r = {{0, sz, ram}}, .n = 1, .total = sz};
	for (int fresh = 0; fresh < 2; fresh++) {
		memset(ram, 0xaa, sz);
		struct boot_config cfg = {path, NULL, "x", sz, fresh};
		struct boot_entry be;
		struct err e = {0};
		assert_int_equal(x86_boot_load(&gm, &cfg, &be, &e), 0);
		assert_int_equal(be.mode, BOOT_PVH);
		assert_int_equal(be.rip, 0x100020);
		assert_memory_equal(ram + 0x100000, m.code, sizeof(m.code));
		/* .bss: from the end of the file data to memsz (0x2000) */
		assert_int_equal(ram[0x100000 + sizeof(m.code)], fresh ? 0xaa : 0);
		assert_int_equal(ram[0x101fff], fresh ? 0xaa : 0);
		assert_int_equal(ram[0x102000], 0xaa); /* beyond the segment: untouched */
	}
	free(ram);
	unlink(path);
}

/* ---- e820, initrd placement ---- */

static void e820_small_and_large(void **state)
{
	(void)state;
	struct e820_map m;
	e820_build(&m, 256ULL << 20);
	assert_int_equal(m.n, 4);
	assert_int_equal(m.e[0].addr, 0);
	assert_int_equal(m.e[0].size, 0x9fc00);
	assert_int_equal(m.e[0].type, E820_RAM);
	assert_int_equal(m.e[2].type, E820_RESERVED);
	assert_int_equal(m.e[3].addr, 0x100000);
	assert_int_equal(m.e[3].addr + m.e[3].size, 256ULL << 20);

	e820_build(&m, 6ULL << 30); /* 6 GiB: 3 GiB low, 3 GiB above 4 GiB */
	assert_int_equal(m.n, 5);
	assert_int_equal(m.e[3].addr + m.e[3].size, LAYOUT_MMIO_HOLE);
	assert_int_equal(m.e[4].addr, LAYOUT_4G);
	assert_int_equal(m.e[4].size, 3ULL << 30);
	uint64_t ram = 0;
	for (unsigned i = 0; i < m.n; i++)
		if (m.e[i].type == E820_RAM)
			ram += m.e[i].size;
	assert_true(ram <= 6ULL << 30);
	assert_true(ram > (6ULL << 30) - (1 << 20));
}

static void initrd_placement(void **state)
{
	(void)state;
	uint64_t a = boot_initrd_place(10000, 0x300000, 256 << 20, 0x37ffffff);
	assert_int_equal(a & 0xfff, 0);
	assert_true(a + 10000 <= 256 << 20);
	assert_true(a >= 0x300000);
	/* limit below the end of RAM */
	a = boot_initrd_place(4096, 0x300000, 1ULL << 30, 0x0fffffff);
	assert_true(a + 4096 <= 0x10000000);
	/* does not fit above the kernel */
	assert_int_equal(boot_initrd_place(200 << 20, 100 << 20, 256 << 20, 0xffffffff), 0);
	assert_int_equal(boot_initrd_place(0, 0, 256 << 20, 0), 0);
}

/* ---- page tables ---- */

static void pagetables_identity_and_walk(void **state)
{
	(void)state;
	size_t sz = 2 << 20;
	uint8_t *ram = calloc(1, sz);
	struct guest_mem gm = {.r = {{0, sz, ram}}, .n = 1, .total = sz};
	assert_int_equal(pagetables_identity_4g(&gm, 0x9000, 0xa000, 0xb000), 0);
	struct paging_mode m = {.cr0 = 0x80000011, .cr3 = 0x9000, .cr4 = 0x20, .efer = 0x500};
	uint64_t gpa;
	assert_int_equal(pagetables_translate(&gm, &m, 0x1234567, &gpa), 0);
	assert_int_equal(gpa, 0x1234567);
	assert_int_equal(pagetables_translate(&gm, &m, 0xfee00000, &gpa), 0);
	assert_int_equal(gpa, 0xfee00000);
	/* beyond 4 GiB: PDPT entry 4 is not present */
	assert_int_equal(pagetables_translate(&gm, &m, 5ULL << 30, &gpa), -1);
	/* a 4 KiB mapping of a higher half address, built by hand */
	uint64_t pml4e = 0xe000 | 3, pdpte = 0xf000 | 3, pde = 0x10000 | 3, pte = 0x123000 | 3;
	uint64_t va = 0xffffffff81000000ULL + 0x5abc;
	memcpy(ram + 0x9000 + ((va >> 39) & 511) * 8, &pml4e, 8);
	memcpy(ram + 0xe000 + ((va >> 30) & 511) * 8, &pdpte, 8);
	memcpy(ram + 0xf000 + ((va >> 21) & 511) * 8, &pde, 8);
	memcpy(ram + 0x10000 + ((va >> 12) & 511) * 8, &pte, 8);
	assert_int_equal(pagetables_translate(&gm, &m, va, &gpa), 0);
	assert_int_equal(gpa, 0x123abc);
	/* tables outside guest RAM fail instead of reading wild memory */
	struct paging_mode bad = m;
	bad.cr3 = 0x7ff000000ULL;
	assert_int_equal(pagetables_translate(&gm, &bad, 0x1000, &gpa), -1);
	/* paging off: linear = physical */
	struct paging_mode off = {.cr0 = 0x11};
	assert_int_equal(pagetables_translate(&gm, &off, 0xabcd, &gpa), 0);
	assert_int_equal(gpa, 0xabcd);
	free(ram);
}

/* ---- guest memory helpers ---- */

static void guest_mem_bounds(void **state)
{
	(void)state;
	uint8_t a[4096], b[4096];
	struct guest_mem gm = {.r = {{0, 4096, a}, {4096, 4096, b}}, .n = 2, .total = 8192};
	assert_non_null(gm_ptr(&gm, 4095, 1));
	assert_null(gm_ptr(&gm, 4095, 2)); /* crosses regions: no single pointer */
	assert_null(gm_ptr(&gm, 8192, 1));
	assert_null(gm_ptr(&gm, UINT64_MAX, 2));
	uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	assert_int_equal(gm_write(&gm, 4092, buf, 8), 0); /* spans contiguous regions */
	assert_int_equal(a[4095], 4);
	assert_int_equal(b[0], 5);
	assert_int_equal(gm_write(&gm, 8190, buf, 8), -1);
	assert_int_equal(gm_read(&gm, UINT64_MAX - 2, buf, 8), -1);
	assert_false(gm_contains(&gm, 8000, 500));
	assert_true(gm_contains(&gm, 0, 8192));
}

/* ---- MP table ---- */

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s += *p++;
	return s;
}

static void mptable_layout(void **state)
{
	(void)state;
	uint8_t buf[4096];
	size_t n = mptable_build(buf, sizeof(buf), 0xf0000, 4, 0x00a00f11, 0x178bfbff);
	assert_true(n > 0);
	assert_memory_equal(buf, "_MP_", 4);
	assert_int_equal(sum(buf, 16), 0);
	uint32_t phys;
	memcpy(&phys, buf + 4, 4);
	assert_int_equal(phys, 0xf0010);
	uint8_t *cfg = buf + 16;
	assert_memory_equal(cfg, "PCMP", 4);
	uint16_t len, count;
	memcpy(&len, cfg + 4, 2);
	memcpy(&count, cfg + 34, 2);
	assert_int_equal(sum(cfg, len), 0);
	assert_int_equal(count, 4 + 1 + 1 + 16 + 2);
	/* processor entries: APIC IDs 0..3, BSP flag only on 0 */
	uint8_t *p = cfg + 44;
	for (int i = 0; i < 4; i++, p += 20) {
		assert_int_equal(p[0], 0);
		assert_int_equal(p[1], i);
		assert_int_equal(p[3], i == 0 ? 3 : 1);
	}
	assert_int_equal(mptable_build(buf, 32, 0xf0000, 4, 0, 0), 0);
	assert_int_equal(mptable_build(buf, sizeof(buf), 0xf0000, 0, 0, 0), 0);
	assert_int_equal(mptable_build(buf, sizeof(buf), 0xf0000, 255, 0, 0), 0);
}

/* ---- CPUID ---- */

static void cpuid_features(void **state)
{
	(void)state;
	struct cpuid_edits ed = {.n = 0};
	struct err e = {0};
	assert_int_equal(cpuid_parse_features("-cx16,-avx,+xsaveerptr", &ed, &e), 0);
	assert_int_equal(ed.n, 3);
	assert_int_equal(cpuid_parse_features("-nosuchthing", &ed, &e), -1);
	assert_int_equal(e.kind, ERR_INPUT);
	assert_non_null(strstr(e.msg, "nosuchthing"));
	assert_int_equal(cpuid_parse_features("cx16", &ed, &e), -1);
	struct cpuid_entry ent[4] = {
	    {.function = 1, .ecx = (1U << 13) | (1U << 28), .ebx = 0xffffffff},
	    {.function = 0x80000008, .ebx = 0},
	    {.function = 0xb, .index = 1},
	    {.function = 4, .eax = 0xffffffff},
	};
	assert_int_equal(cpuid_customize(ent, 4, 4, 3, 4, &ed), 4);
	assert_int_equal(ent[0].ecx & (1U << 13), 0);
	assert_int_equal(ent[0].ecx & (1U << 28), 0);
	assert_true(ent[0].ecx & (1U << 31));
	assert_int_equal(ent[0].ebx >> 24, 3);
	assert_int_equal((ent[0].ebx >> 16) & 0xff, 4);
	assert_int_equal(ent[1].ebx & 4, 4);
	assert_int_equal(ent[2].edx, 3);
	assert_int_equal(ent[2].ebx, 4);
	assert_int_equal(ent[3].eax >> 26, 3);

	/* leaf 0xB with only sub-leaf 0: the core level and the end marker are added */
	struct cpuid_entry t[4] = {{.function = 0xb, .index = 0, .flags = 1}};
	assert_int_equal(cpuid_customize(t, 1, 4, 2, 3, NULL), 3);
	assert_int_equal(t[0].ebx, 1); /* one thread per core */
	assert_int_equal(t[1].index, 1);
	assert_int_equal(t[1].ebx, 3);          /* three cores */
	assert_int_equal(t[1].eax, 2);          /* APIC ID bits for the cores */
	assert_int_equal(t[1].ecx, 0x201);      /* core level, sub-leaf 1 */
	assert_int_equal(t[1].edx, 2);          /* x2APIC ID */
	assert_int_equal(t[2].ecx & 0xff00, 0); /* invalid level ends the list */
	/* no room: nothing is added, nothing overflows */
	struct cpuid_entry u[1] = {{.function = 0xb, .index = 0}};
	assert_int_equal(cpuid_customize(u, 1, 1, 0, 1, NULL), 1);
}

/* ---- sizes ---- */

static void sizes(void **state)
{
	(void)state;
	uint64_t v;
	struct err e = {0};
	assert_int_equal(parse_size("256M", "--memory", &v, &e), 0);
	assert_int_equal(v, 256ULL << 20);
	assert_int_equal(parse_size("2GiB", "--memory", &v, &e), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(parse_size("4096", "--memory", &v, &e), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("1x", "--memory", &v, &e), -1);
	assert_non_null(strstr(e.msg, "'1x'"));
	assert_int_equal(parse_size("", "--memory", &v, &e), -1);
	assert_int_equal(parse_size("-1G", "--memory", &v, &e), -1);
	assert_int_equal(parse_size("99999999999999999999", "--memory", &v, &e), -1);
	assert_int_equal(parse_size("20000000000T", "--memory", &v, &e), -1);
	assert_int_equal(parse_uint("8", "--cpus", 1, 254, &v, &e), 0);
	assert_int_equal(parse_uint("0", "--cpus", 1, 254, &v, &e), -1);
	assert_int_equal(parse_uint("3a", "--cpus", 1, 254, &v, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bz_valid),
	    cmocka_unit_test(bz_zero_setup_sects_means_four),
	    cmocka_unit_test(bz_rejects),
	    cmocka_unit_test(elf_valid),
	    cmocka_unit_test(elf_rejects),
	    cmocka_unit_test(elf_bss_fill),
	    cmocka_unit_test(e820_small_and_large),
	    cmocka_unit_test(initrd_placement),
	    cmocka_unit_test(pagetables_identity_and_walk),
	    cmocka_unit_test(guest_mem_bounds),
	    cmocka_unit_test(mptable_layout),
	    cmocka_unit_test(cpuid_features),
	    cmocka_unit_test(sizes),
	};
	return cmocka_run_group_tests_name("vm loaders", tests, NULL, NULL);
}
