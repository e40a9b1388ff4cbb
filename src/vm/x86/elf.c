/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/x86/elf.h"

#include <elf.h>
#include <string.h>

#define XEN_ELFNOTE_PHYS32_ENTRY 18

int elf_is_elf(const uint8_t *buf, size_t len)
{
	return len >= SELFMAG && memcmp(buf, ELFMAG, SELFMAG) == 0;
}

/* Look for the PVH entry note in one PT_NOTE segment. */
static int scan_notes(const uint8_t *p, uint64_t len, const char *name, uint64_t *entry,
                      struct err *e)
{
	uint64_t off = 0;
	while (len - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		memcpy(&nh, p + off, sizeof(nh));
		uint64_t namesz = ((uint64_t)nh.n_namesz + 3) & ~3ULL;
		uint64_t descsz = ((uint64_t)nh.n_descsz + 3) & ~3ULL;
		off += sizeof(nh);
		if (namesz > len - off || descsz > len - off - namesz)
			return err_set(e, ERR_INPUT, "%s: truncated ELF note", name);
		const uint8_t *nm = p + off;
		const uint8_t *desc = p + off + namesz;
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    memcmp(nm, "Xen", 4) == 0) {
			if (nh.n_descsz == 4) {
				uint32_t v;
				memcpy(&v, desc, 4);
				*entry = v;
			} else if (nh.n_descsz == 8) {
				memcpy(entry, desc, 8);
			} else {
				return err_set(e, ERR_INPUT, "%s: PVH entry note has size %u", name,
				               nh.n_descsz);
			}
		}
		off += namesz + descsz;
	}
	return 0;
}

int elf_parse(const uint8_t *buf, size_t len, const char *name, struct elf_kernel *k, struct err *e)
{
	memset(k, 0, sizeof(*k));
	Elf64_Ehdr eh;
	if (len < sizeof(eh))
		return err_set(e, ERR_INPUT, "%s: truncated ELF header (%zu bytes)", name, len);
	memcpy(&eh, buf, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64)
		return err_set(e, ERR_INPUT, "%s: not a 64-bit little-endian x86-64 ELF kernel",
		               name);
	if (eh.e_type != ET_EXEC)
		return err_set(e, ERR_INPUT, "%s: ELF type %u is not an executable", name,
		               eh.e_type);
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 64)
		return err_set(e, ERR_INPUT, "%s: bad ELF program headers (%u of size %u)", name,
		               eh.e_phnum, eh.e_phentsize);
	if (eh.e_phoff > len || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
		return err_set(e, ERR_INPUT, "%s: truncated: program headers beyond end of file",
		               name);
	k->entry = eh.e_entry;
	k->lowest = UINT64_MAX;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, buf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE)
			continue;
		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
			return err_set(
			    e, ERR_INPUT,
			    "%s: truncated: segment %u ends at %#llx beyond file size %#zx", name,
			    i, (unsigned long long)(ph.p_offset + ph.p_filesz), len);
		if (ph.p_type == PT_NOTE) {
			if (scan_notes(buf + ph.p_offset, ph.p_filesz, name, &k->pvh_entry, e))
				return -1;
			continue;
		}
		if (ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz)
			return err_set(e, ERR_INPUT, "%s: segment %u file size exceeds memory size",
			               name, i);
		if (ph.p_paddr + ph.p_memsz < ph.p_paddr)
			return err_set(e, ERR_INPUT, "%s: segment %u wraps around", name, i);
		if (k->nseg == ELF_MAX_LOAD)
			return err_set(e, ERR_INPUT, "%s: more than %d loadable segments", name,
			               ELF_MAX_LOAD);
		k->seg[k->nseg++] =
		    (struct elf_segment){ph.p_offset, ph.p_filesz, ph.p_paddr, ph.p_memsz};
		if (ph.p_paddr < k->lowest)
			k->lowest = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > k->highest)
			k->highest = ph.p_paddr + ph.p_memsz;
	}
	if (k->nseg == 0)
		return err_set(e, ERR_INPUT, "%s: ELF file has no loadable segments", name);
	return 0;
}
