/* SPDX-License-Identifier: Apache-2.0 */
/* Mode switches and code coherence under the software CPU: INIT/SIPI into
 * a real-mode trampoline that goes through 32-bit protected mode into long
 * mode (as Linux's AP startup does), and self-modifying code: a store that
 * changes another block, one that changes a later instruction of the
 * running block, and a device write (emu_mem_written). */
#include "emu_harness.h"

#define TRAMP 0x8000u

SNIP(s_tramp);
__asm__(".pushsection .rodata\n"
        ".globl s_tramp\ns_tramp:\n"
        ".code16\n"
        "  cli\n  mov %cs, %ax\n  mov %ax, %ds\n"
        "  lgdtl tr_gdt - s_tramp\n"
        "  mov %cr0, %eax\n  or $1, %eax\n  mov %eax, %cr0\n"
        "  ljmpl $0x40, $(0x8000 + tr_pm32 - s_tramp)\n"
        ".code32\n"
        "tr_pm32:\n"
        "  mov $0x48, %ax\n  mov %ax, %ds\n  mov %ax, %es\n  mov %ax, %ss\n"
        "  mov $0x7ff0, %esp\n  push $0x77\n  pop %edi\n"
        "  mov $0x55, %esi\n  pusha\n  xor %esi, %esi\n  popa\n  mov 0x7fdc, %ebp\n"
        /* BCD: 15 + 27 = 42, 42 - 15 = 27, AAM 75 -> 7 5, AAD -> 75 */
        "  mov $0x15, %al\n  add $0x27, %al\n  daa\n  mov %al, 0x7f00\n"
        "  mov $0x42, %al\n  sub $0x15, %al\n  das\n  mov %al, 0x7f01\n"
        "  mov $75, %al\n  aam\n  mov %ax, 0x7f02\n  aad\n  mov %ax, 0x7f04\n"
        /* ARPL raises RPL 1 to 3 (ZF); BOUND within [2, 9] does not fault */
        "  mov $0x11, %ax\n  mov $0x23, %bx\n  arpl %bx, %ax\n  setz %cl\n  mov %ax, 0x7f06\n"
        "  mov %cl, 0x7f08\n  movl $2, 0x7f10\n  movl $9, 0x7f14\n  mov $5, %ecx\n"
        "  bound %ecx, 0x7f10\n  movb $1, 0x7f09\n"
        "  mov %cr4, %eax\n  or $0x20, %eax\n  mov %eax, %cr4\n"
        "  mov $0x1000, %eax\n  mov %eax, %cr3\n"
        "  mov $0xc0000080, %ecx\n  rdmsr\n  or $0x100, %eax\n  wrmsr\n"
        "  mov %cr0, %eax\n  or $0x80000000, %eax\n  mov %eax, %cr0\n"
        "  ljmp $0x08, $(0x8000 + tr_lm64 - s_tramp)\n"
        ".code64\n"
        "tr_lm64:\n"
        "  mov $0x10, %eax\n  mov %eax, %ds\n  mov %eax, %ss\n"
        "  mov $0x123456789, %rax\n  lea (%rip), %rbx\n"
        "  hlt\n"
        "tr_gdt: .word 0x4f\n .long 0x5000\n"
        ".globl s_tramp_end\ns_tramp_end:\n.popsection\n");

static void test_init_sipi_to_long_mode(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_paging(&t);
	tm_gdt(&t);
	tm_load(&t, TRAMP, s_tramp, s_tramp_end);
	emu_cpu_init(t.cpu);
	struct emu_exit x = tm_run(&t, 100000);
	assert_int_equal(x.reason, EMU_EXIT_WAIT_SIPI);
	x = tm_run(&t, 100000); /* no SIPI yet: still waiting */
	assert_int_equal(x.reason, EMU_EXIT_WAIT_SIPI);
	emu_cpu_sipi(t.cpu, TRAMP >> 12);
	struct x86_vcpu_state s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_RAX], 0x123456789ULL);
	assert_int_equal(s.gpr[X86_RDI], 0x77);
	assert_int_equal(s.gpr[X86_RSI], 0x55);   /* restored by POPA */
	assert_int_equal(s.gpr[X86_RBP], 0x7ff0); /* the ESP that PUSHA stored */
	assert_int_equal(t.ram[0x7f00], 0x42);
	assert_int_equal(t.ram[0x7f01], 0x27);
	assert_int_equal(t.ram[0x7f02] | t.ram[0x7f03] << 8, 0x0705);
	assert_int_equal(t.ram[0x7f04] | t.ram[0x7f05] << 8, 75);
	assert_int_equal(t.ram[0x7f06], 0x13);
	assert_int_equal(t.ram[0x7f08], 1);
	assert_int_equal(t.ram[0x7f09], 1);
	assert_true(s.seg[X86_CS].l);
	assert_int_equal(s.seg[X86_CS].selector, 0x08);
	assert_true(s.efer & 0x400); /* LMA */
	assert_true(s.gpr[X86_RBX] > TRAMP && s.gpr[X86_RBX] < TRAMP + 0x100);
	tm_fini(&t);
}

/* The block at sm_patch runs once, then a store in another block of the
 * same page changes its immediate: the second run must see 2. */
SNIP(s_smc_other);
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_smc_other\ns_smc_other:\n"
        "  xor %ecx, %ecx\n"
        "1: jmp sm_patch\n"
        "sm_patch: mov $1, %eax\n  inc %ecx\n  cmp $2, %ecx\n  je 2f\n"
        "  movl $2, sm_patch+1(%rip)\n  jmp 1b\n"
        "2: hlt\n"
        ".globl s_smc_other_end\ns_smc_other_end:\n.popsection\n");

static void test_smc_other_block(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_smc_other, s_smc_other_end);
	tm_long_mode(&t, TM_CODE);
	struct x86_vcpu_state s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_RAX], 2);
	assert_int_equal(s.gpr[X86_RCX], 2);
	tm_fini(&t);
}

/* A store that changes the next instruction of the running block. */
SNIP(s_smc_same);
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_smc_same\ns_smc_same:\n"
        "  movb $2, ss_target+1(%rip)\n"
        "ss_target: mov $1, %ebx\n"
        "  hlt\n"
        ".globl s_smc_same_end\ns_smc_same_end:\n.popsection\n");

static void test_smc_same_block(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_smc_same, s_smc_same_end);
	tm_long_mode(&t, TM_CODE);
	struct x86_vcpu_state s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_RBX], 2);
	tm_fini(&t);
}

SNIP(s_dma);
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_dma\ns_dma:\n"
        "  mov $1, %eax\n  hlt\n"
        ".globl s_dma_end\ns_dma_end:\n.popsection\n");

static void test_device_write_drops_code(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_dma, s_dma_end);
	tm_long_mode(&t, TM_CODE);
	struct x86_vcpu_state s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_RAX], 1);
	t.ram[TM_CODE + 1] = 5; /* mov $5, %eax */
	emu_mem_written(t.mem, TM_CODE + 1, 1);
	s.rip = TM_CODE;
	s.ev.run_state = X86_RUNNABLE;
	struct err e;
	assert_int_equal(emu_cpu_set_state(t.cpu, &s, &e), 0);
	s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_RAX], 5);
	tm_fini(&t);
}

/* An instruction crossing into a page whose mapping changes: the decoded
 * block must follow the new second page. */
static void test_cross_page_remap(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	static const uint8_t a[] = {0xb8, 0x11}, b1[] = {0x22, 0, 0, 0xf4},
	                     b2[] = {0x33, 0, 0, 0xf4};
	tm_load(&t, TM_CODE + 0xffe, a, a + 2);
	tm_load(&t, TM_CODE + 0x1000, b1, b1 + 4);
	tm_load(&t, TM_CODE + 0x2000, b2, b2 + 4);
	tm_long_mode(&t, TM_CODE + 0xffe);
	struct x86_vcpu_state s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_RAX], 0x2211);
	*tm_pte(&t, TM_CODE + 0x1000) = (TM_CODE + 0x2000) | 7;
	s.rip = TM_CODE + 0xffe;
	s.ev.run_state = X86_RUNNABLE;
	struct err e;
	assert_int_equal(emu_cpu_set_state(t.cpu, &s, &e), 0); /* flushes the TLB */
	s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_RAX], 0x3311);
	tm_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_sipi_to_long_mode),
	    cmocka_unit_test(test_smc_other_block),
	    cmocka_unit_test(test_smc_same_block),
	    cmocka_unit_test(test_device_write_drops_code),
	    cmocka_unit_test(test_cross_page_remap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
