/* SPDX-License-Identifier: Apache-2.0 */
/* Paging under the software CPU: #PF error codes and CR2 for not-present,
 * write-protected, NX and reserved-bit faults; accessed/dirty bits set in
 * the page tables; global pages surviving a CR3 reload until INVLPG. */
#include "emu_harness.h"

/* rdi = address, rsi = 0 read, 1 write, 2 execute; the #PF handler stores
 * CR2 in rax, the error code in rbx and the faulting RIP in rcx. */
SNIP(s_pf);
extern const uint8_t s_pf_handler[], s_pf_access[];
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_pf\ns_pf:\n"
        "  cmp $1, %rsi\n  je 1f\n  cmp $2, %rsi\n  je 2f\n"
        ".globl s_pf_access\ns_pf_access:\n"
        "  mov (%rdi), %rdx\n  hlt\n"
        "1: movq $1, (%rdi)\n  hlt\n"
        "2: call *%rdi\n  hlt\n"
        ".globl s_pf_handler\ns_pf_handler:\n"
        "  mov %cr2, %rax\n  pop %rbx\n  mov (%rsp), %rcx\n  hlt\n"
        ".globl s_pf_end\ns_pf_end:\n.popsection\n");

static void set_regs(struct tmach *t, uint64_t rdi, uint64_t rsi)
{
	struct x86_vcpu_state s = tm_state(t);
	s.gpr[X86_RDI] = rdi;
	s.gpr[X86_RSI] = rsi;
	struct err e;
	assert_int_equal(emu_cpu_set_state(t->cpu, &s, &e), 0);
}

static void pf_case(uint64_t addr, uint64_t pte_clear, uint64_t pte_set, uint64_t kind,
                    uint64_t want_err)
{
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_pf, s_pf_end);
	tm_long_mode(&t, TM_CODE);
	tm_gate(&t, 14, SNIP_ADDR(TM_CODE, s_pf, s_pf_handler), 0, 0, 0xe);
	/* a ret in the target page for the execute case */
	t.ram[addr & ~0xfffULL] = 0xc3;
	uint64_t *pte = tm_pte(&t, addr);
	*pte = (*pte & ~pte_clear) | pte_set;
	set_regs(&t, addr, kind);
	struct x86_vcpu_state s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_RBX], want_err);
	assert_int_equal(s.gpr[X86_RAX], addr);
	assert_int_equal(s.cr2, addr);
	if (kind == 2)
		assert_int_equal(s.gpr[X86_RCX], addr); /* the fetch faults at the target */
	else if (kind == 0)
		assert_int_equal(s.gpr[X86_RCX], SNIP_ADDR(TM_CODE, s_pf, s_pf_access));
	tm_fini(&t);
}

static void test_pf_not_present(void **st)
{
	(void)st;
	pf_case(0x41010, 1, 0, 0, 0); /* read, not present: P=0 W=0 U=0 */
}
static void test_pf_write_protect(void **st)
{
	(void)st;
	pf_case(0x41008, 2, 0, 1, 3); /* write to read-only with CR0.WP: P|W */
}
static void test_pf_nx(void **st)
{
	(void)st;
	pf_case(0x41000, 0, 1ULL << 63, 2, 0x11); /* fetch from NX page: P|I */
}
static void test_pf_reserved(void **st)
{
	(void)st;
	pf_case(0x41000, 0, 1ULL << 45, 0, 9); /* bit 45 above MAXPHYADDR 40: P|RSVD */
}

SNIP(s_ad);
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_ad\ns_ad:\n"
        "  mov 0x42000, %rax\n" /* read: accessed */
        "  movq $5, 0x43000\n"  /* write: accessed + dirty */
        "  hlt\n"
        ".globl s_ad_end\ns_ad_end:\n.popsection\n");

static void test_accessed_dirty(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_ad, s_ad_end);
	tm_long_mode(&t, TM_CODE);
	tm_run_halt(&t);
	assert_int_equal(*tm_pte(&t, 0x42000) & 0x60, 0x20);
	assert_int_equal(*tm_pte(&t, 0x43000) & 0x60, 0x60);
	assert_int_equal(*tm_pte(&t, 0x44000) & 0x60, 0); /* untouched */
	assert_true(tm_r64(&t, TM_PML4) & 0x20);
	assert_true(tm_r64(&t, TM_PD) & 0x20);
	tm_fini(&t);
}

/* 0x43000 is global and 0x45000 is not; both are re-pointed at the frame
 * 0x44000 in the page table. After a CR3 reload the global one still
 * reads the old frame, the other the new one; after INVLPG both do. */
SNIP(s_global);
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_global\ns_global:\n"
        "  mov 0x43000, %al\n  mov 0x45000, %bl\n"
        "  movq $0x44107, 0x4218\n  movq $0x44007, 0x4228\n"
        "  mov %cr3, %rcx\n  mov %rcx, %cr3\n"
        "  mov 0x43000, %cl\n  mov 0x45000, %dl\n"
        "  invlpg 0x43000\n  mov 0x43000, %sil\n"
        "  hlt\n"
        ".globl s_global_end\ns_global_end:\n.popsection\n");

static void test_global_pages(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_global, s_global_end);
	tm_long_mode(&t, TM_CODE);
	t.ram[0x43000] = 0x11;
	t.ram[0x44000] = 0x22;
	t.ram[0x45000] = 0x33;
	*tm_pte(&t, 0x43000) |= 0x100;
	struct x86_vcpu_state s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_RAX] & 0xff, 0x11);
	assert_int_equal(s.gpr[X86_RBX] & 0xff, 0x33);
	assert_int_equal(s.gpr[X86_RCX] & 0xff, 0x11); /* global: still cached */
	assert_int_equal(s.gpr[X86_RDX] & 0xff, 0x22); /* non-global: re-walked */
	assert_int_equal(s.gpr[X86_RSI] & 0xff, 0x22); /* after INVLPG */
	tm_fini(&t);
}

/* 0x42000 and 0x142000 share a TLB slot, as do 0x43000 and 0x143000.
 * 0x42000 is read, pushed out of the TLB, and some 6 million instructions
 * (more than two epochs of the recent-page record) later 0x43000 is read
 * and pushed out in turn. */
SNIP(s_recent);
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_recent\ns_recent:\n"
        "  mov 0x42000, %al\n  mov 0x142000, %al\n"
        "  mov $0x300000, %ecx\n1: dec %ecx\n  jnz 1b\n"
        "  mov 0x43000, %al\n  mov 0x143000, %al\n"
        "  hlt\n"
        ".globl s_recent_end\ns_recent_end:\n.popsection\n");

static int has_page(const uint64_t *pa, size_t n, uint64_t page)
{
	for (size_t k = 0; k < n; k++)
		if (pa[k] == page)
			return 1;
	return 0;
}

/* The pages the CPU used last include one its TLB no longer maps but that
 * it used lately, and not one it has not used for millions of
 * instructions. */
static void test_recent_pages(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_recent, s_recent_end);
	tm_long_mode(&t, TM_CODE);
	tm_run_halt(&t);
	assert_true(emu_cpu_instructions(t.cpu) > 6000000);
	uint64_t pa[8192];
	size_t n = emu_cpu_recent_pages(t.cpu, pa, 8192);
	assert_true(n > 0 && n <= 8192);
	assert_true(has_page(pa, n, 0x143000)); /* in the TLB */
	assert_true(has_page(pa, n, 0x43000));  /* pushed out a moment ago */
	assert_true(has_page(pa, n, TM_CODE));
	assert_false(has_page(pa, n, 0x42000)); /* pushed out long ago */
	assert_false(has_page(pa, n, 0x44000)); /* never used */
	tm_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pf_not_present), cmocka_unit_test(test_pf_write_protect),
	    cmocka_unit_test(test_pf_nx),          cmocka_unit_test(test_pf_reserved),
	    cmocka_unit_test(test_accessed_dirty), cmocka_unit_test(test_global_pages),
	    cmocka_unit_test(test_recent_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
