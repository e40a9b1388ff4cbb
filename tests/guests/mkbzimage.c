/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mkbzimage: wrap the test guest (an ELF64 image linked at 1 MiB, 64-bit entry at
 * 1 MiB + 0x200) into a Linux bzImage (boot protocol 2.15).
 *
 *   mkbzimage SETUP.bin IMAGE.elf OUT.bzImage
 *
 * SETUP.bin is the real-mode setup code (setup.S, flat, header area left zero); its
 * sectors come first, then the flattened PT_LOAD segments of IMAGE.elf. Host tool.
 */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOAD_ADDR   0x100000u
#define ENTRY64_OFF 0x200u
#define MAX_IMAGE   (64u << 20)
#define SETUP_MAX   (64u * 512u)

static int fail(const char *what, const char *path)
{
	fprintf(stderr, "mkbzimage: %s: %s\n", path, what);
	return 1;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0, k;
	unsigned char *p = malloc(cap);
	while (p && (k = fread(p + n, 1, cap - n, f)) > 0) {
		n += k;
		if (n == cap) {
			unsigned char *q = cap < MAX_IMAGE ? realloc(p, cap * 2) : NULL;
			if (!q) {
				free(p);
				p = NULL;
				break;
			}
			p = q;
			cap *= 2;
		}
	}
	fclose(f);
	*len = n;
	return p;
}

static void put16(unsigned char *p, size_t off, uint16_t v)
{
	p[off] = (unsigned char)v;
	p[off + 1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, size_t off, uint32_t v)
{
	put16(p, off, (uint16_t)v);
	put16(p, off + 2, (uint16_t)(v >> 16));
}

static void put64(unsigned char *p, size_t off, uint64_t v)
{
	put32(p, off, (uint32_t)v);
	put32(p, off + 4, (uint32_t)(v >> 32));
}

/* Flattens the PT_LOAD segments; sets *len (file bytes) and *memsz (incl. bss). */
static unsigned char *flatten(const unsigned char *elf, size_t elen, size_t *len, uint64_t *memsz,
                              const char **why)
{
	Elf64_Ehdr eh;
	if (elen < sizeof(eh)) {
		*why = "too short for an ELF header";
		return NULL;
	}
	memcpy(&eh, elf, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_machine != EM_X86_64 || eh.e_phentsize != sizeof(Elf64_Phdr)) {
		*why = "not an x86-64 ELF64 file";
		return NULL;
	}
	if (eh.e_entry != LOAD_ADDR + ENTRY64_OFF) {
		*why = "entry point is not load address + 0x200";
		return NULL;
	}
	if (eh.e_phoff > elen || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > elen - eh.e_phoff) {
		*why = "program headers out of range";
		return NULL;
	}
	uint64_t end_file = 0, end_mem = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, elf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_paddr < LOAD_ADDR || ph.p_filesz > ph.p_memsz || ph.p_memsz > MAX_IMAGE ||
		    ph.p_paddr - LOAD_ADDR > MAX_IMAGE || ph.p_offset > elen ||
		    ph.p_filesz > elen - ph.p_offset) {
			*why = "PT_LOAD segment out of range";
			return NULL;
		}
		if (ph.p_paddr + ph.p_filesz > end_file)
			end_file = ph.p_paddr + ph.p_filesz;
		if (ph.p_paddr + ph.p_memsz > end_mem)
			end_mem = ph.p_paddr + ph.p_memsz;
	}
	if (!end_file) {
		*why = "no loadable segment";
		return NULL;
	}
	*len = (size_t)(end_file - LOAD_ADDR);
	*memsz = end_mem - LOAD_ADDR;
	unsigned char *img = calloc(1, *len + 16);
	if (!img) {
		*why = "out of memory";
		return NULL;
	}
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, elf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD)
			memcpy(img + (ph.p_paddr - LOAD_ADDR), elf + ph.p_offset, ph.p_filesz);
	}
	return img;
}

static void fill_header(unsigned char *s, unsigned setup_sects, size_t image_len, uint64_t memsz)
{
	s[0x1f1] = (unsigned char)setup_sects;
	put32(s, 0x1f4, (uint32_t)((image_len + 15) / 16)); /* syssize */
	put16(s, 0x1fa, 0xffff);                            /* vid_mode: normal */
	put16(s, 0x1fe, 0xaa55);                            /* boot_flag */
	memcpy(s + 0x202, "HdrS", 4);
	put16(s, 0x206, 0x020f);                                /* boot protocol 2.15 */
	s[0x211] = 0x01;                                        /* loadflags: LOADED_HIGH */
	put32(s, 0x214, LOAD_ADDR);                             /* code32_start */
	put32(s, 0x22c, 0x7fffffff);                            /* initrd_addr_max */
	put32(s, 0x230, 0x200000);                              /* kernel_alignment */
	s[0x234] = 0;                                           /* relocatable_kernel: no */
	s[0x235] = 21;                                          /* min_alignment: 2 MiB */
	put16(s, 0x236, 0x0001);                                /* xloadflags: XLF_KERNEL_64 */
	put32(s, 0x238, 2047);                                  /* cmdline_size */
	put64(s, 0x258, LOAD_ADDR);                             /* pref_address */
	put32(s, 0x260, (uint32_t)((memsz + 4095) & ~4095ull)); /* init_size */
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: mkbzimage SETUP.bin IMAGE.elf OUT.bzImage\n");
		return 2;
	}
	size_t slen, elen, ilen;
	uint64_t memsz;
	const char *why = NULL;
	unsigned char *setup = slurp(argv[1], &slen);
	if (!setup)
		return fail(strerror(errno), argv[1]);
	if (slen < 0x26c || slen > SETUP_MAX || setup[0x200] != 0xeb)
		return fail("setup code must start with the header and a short jmp at 0x200",
		            argv[1]);
	unsigned char *elf = slurp(argv[2], &elen);
	if (!elf)
		return fail(strerror(errno), argv[2]);
	unsigned char *img = flatten(elf, elen, &ilen, &memsz, &why);
	if (!img)
		return fail(why, argv[2]);
	unsigned sects = (unsigned)((slen + 511) / 512);
	if (sects < 5)
		sects = 5; /* boot sector + at least 4 setup sectors */
	unsigned char *s = calloc(sects, 512);
	if (!s)
		return fail("out of memory", argv[3]);
	memcpy(s, setup, slen);
	fill_header(s, sects - 1, ilen, memsz);
	size_t ipad = (ilen + 15) & ~(size_t)15;
	FILE *o = fopen(argv[3], "wb");
	if (!o)
		return fail(strerror(errno), argv[3]);
	if (fwrite(s, 512, sects, o) != sects || fwrite(img, 1, ipad, o) != ipad || fclose(o))
		return fail("write failed", argv[3]);
	free(s);
	free(img);
	free(elf);
	free(setup);
	return 0;
}
