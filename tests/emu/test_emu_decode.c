/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding real code: the guest kernel's .text (build/guest/kernel-path) is
 * loaded into a test machine and swept block by block through the block
 * cache of a new vCPU (nothing decoded yet), then again after every page of
 * it was written (every block decoded anew); both sweeps must decode the
 * same instructions, and the time per decoded instruction is reported.
 * Also an instruction that crosses a page boundary, decoded from both pages
 * and decoded again when the second page changes. */
#include "emu_harness.h"

#include "vm/emu/block.h"
#include "vm/emu/internal.h"

#include <elf.h>
#include <stdio.h>

#define CODE_GPA 0x200000u  /* 2 MiB pages from here on (tm_paging) */
#define CODE_MAX (4u << 20) /* of the kernel's .text */
#define KEY64    8u         /* decode mode: 64-bit code, CPL 0 */

struct sweep {
	uint64_t blocks, insns, bytes;
	uint64_t sum; /* of every instruction's handler and extent */
	double secs;
};

/* Decode [CODE_GPA, CODE_GPA + n) block after block. */
static struct sweep sweep(struct tmach *t, size_t n)
{
	struct sweep s = {0};
	size_t pos = 0;
	double t0 = now_secs();
	while (pos + 16 <= n) {
		const struct emu_block *b = emu_block_find_slow(t->cpu, CODE_GPA + pos, KEY64);
		s.blocks++;
		s.insns += b->ninsn;
		if (b->len == 0 || b->ninsn == 0)
			break; /* the checks below fail */
		pos += b->len;
	}
	s.secs = now_secs() - t0;
	s.bytes = pos;
	/* the same blocks again, now from the cache: their contents */
	pos = 0;
	while (pos + 16 <= n && pos < s.bytes) {
		const struct emu_block *b = emu_block_find_slow(t->cpu, CODE_GPA + pos, KEY64);
		for (uint32_t k = 0; k < b->ninsn; k++) {
			const struct emu_insn *i = &b->insn[k];
			s.sum = s.sum * 31 + (uint64_t)(uintptr_t)i->fn;
			s.sum = s.sum * 31 + ((uint64_t)i->off << 16 | i->end);
		}
		pos += b->len;
	}
	return s;
}

/* The kernel's .text: its bytes in the file and its size, or NULL. */
static const uint8_t *elf_text(const uint8_t *f, size_t len, size_t *size)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f;
	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shoff > len || (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > len - eh->e_shoff ||
	    eh->e_shstrndx >= eh->e_shnum)
		return NULL;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(f + eh->e_shoff);
	const Elf64_Shdr *strs = &sh[eh->e_shstrndx];
	if (strs->sh_offset > len || strs->sh_size > len - strs->sh_offset)
		return NULL;
	for (unsigned k = 0; k < eh->e_shnum; k++) {
		if (sh[k].sh_name + sizeof(".text") > strs->sh_size ||
		    memcmp(f + strs->sh_offset + sh[k].sh_name, ".text", sizeof(".text")) != 0)
			continue;
		if (sh[k].sh_offset > len || sh[k].sh_size > len - sh[k].sh_offset)
			return NULL;
		*size = sh[k].sh_size;
		return f + sh[k].sh_offset;
	}
	return NULL;
}

static void test_kernel_text(void **st)
{
	(void)st;
	char kpath[4096];
	snprintf(kpath, sizeof(kpath), "%s/build/guest/kernel-path", test_root());
	char *dir = read_file(kpath, NULL);
	if (!dir)
		skip_because("no guest kernel (make guest-kernel)");
	dir[strcspn(dir, "\n")] = '\0';
	char vmlinux[4200];
	snprintf(vmlinux, sizeof(vmlinux), "%s/vmlinux", dir);
	free(dir);
	size_t flen = 0;
	uint8_t *f = (uint8_t *)read_file(vmlinux, &flen);
	assert_non_null(f);
	size_t n = 0;
	const uint8_t *text = elf_text(f, flen, &n);
	assert_non_null(text);
	assert_true(n > (1u << 20));
	if (n > CODE_MAX)
		n = CODE_MAX;

	struct tmach t;
	tm_init(&t);
	memcpy(t.ram + CODE_GPA, text, n);
	emu_mem_written(t.mem, CODE_GPA, n);
	free(f);
	tm_long_mode(&t, CODE_GPA);

	struct sweep cold = sweep(&t, n);
	/* the hash table grew with the blocks (a full arena holds 100000 and more) */
	assert_true(t.cpu->hash_bits > 14);
	emu_mem_written(t.mem, CODE_GPA, n); /* every block is stale now */
	struct sweep again = sweep(&t, n);

	/* the whole text was decoded, into real instructions */
	assert_true(cold.bytes + 16 > n);
	assert_true(cold.insns > n / 8);
	assert_true(cold.insns < n / 2);
	/* identically the second time */
	assert_int_equal(again.bytes, cold.bytes);
	assert_int_equal(again.blocks, cold.blocks);
	assert_int_equal(again.insns, cold.insns);
	assert_true(again.sum == cold.sum);
	test_measured("emu decode, kernel .text (%zu KiB, %llu blocks, %llu instructions): "
	              "%.1f ns/instruction from a new vCPU, %.1f ns decoded again",
	              n >> 10, (unsigned long long)cold.blocks, (unsigned long long)cold.insns,
	              cold.secs * 1e9 / (double)cold.insns, again.secs * 1e9 / (double)again.insns);
	tm_fini(&t);
}

/* mov $0x11223344, %eax starting 3 bytes before a page boundary; hlt */
static const uint8_t s_cross[] = {0xb8, 0x44, 0x33, 0x22, 0x11, 0xf4};
#define CROSS_GPA (TM_CODE + 0x1000 - 3)

static void test_cross_page(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, CROSS_GPA, s_cross, s_cross + sizeof(s_cross));
	tm_long_mode(&t, CROSS_GPA);
	struct x86_vcpu_state s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_RAX], 0x11223344);
	const struct emu_block *b = emu_block_find_slow(t.cpu, CROSS_GPA, KEY64);
	assert_int_equal(b->ninsn, 1);
	assert_int_equal(b->len, 5);
	assert_true(b->pfn1 == b->pfn0 + 1);

	/* the immediate's upper half, in the second page, changes */
	t.ram[TM_CODE + 0x1000] = 0x66;
	t.ram[TM_CODE + 0x1001] = 0x55;
	emu_mem_written(t.mem, TM_CODE + 0x1000, 2);
	s.rip = CROSS_GPA;
	s.ev.run_state = X86_RUNNABLE;
	struct err e;
	assert_int_equal(emu_cpu_set_state(t.cpu, &s, &e), 0);
	s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_RAX], 0x55663344);
	tm_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kernel_text),
	    cmocka_unit_test(test_cross_page),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
