/* SPDX-License-Identifier: Apache-2.0 */
/* Speed of the software CPU on the CPL3 integer loop of the test guest's
 * `test=cpl3` (tests/guests/workload.h, written out in assembly here): the
 * result must equal the host's, and the guest MIPS are reported.
 * EMU_PERF_ITERS overrides the iteration count (e.g. for a release build). */
#include "emu_harness.h"

#include "../guests/workload.h"

SNIP(s_work);
extern const uint8_t s_work_user[], s_work_k80[];
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_work\ns_work:\n"
        "  push $0x23\n  push $0xa0000\n  push $0x2\n  push $0x2b\n"
        "  lea s_work_user(%rip), %rax\n  push %rax\n  iretq\n"
        ".globl s_work_user\ns_work_user:\n"
        "  mov %rdi, %rcx\n"
        "  mov $0x9e3779b97f4a7c15, %rax\n  xor %edx, %edx\n  mov $0x2545f4914f6cdd1d, %rsi\n"
        "  test %rcx, %rcx\n  jz 2f\n"
        "1: mov %rax, %r8\n  shl $13, %r8\n  xor %r8, %rax\n"
        "  mov %rax, %r8\n  shr $7, %r8\n  xor %r8, %rax\n"
        "  mov %rax, %r8\n  shl $17, %r8\n  xor %r8, %rax\n"
        "  mov %rax, %r8\n  imul %rsi, %r8\n  add %r8, %rdx\n"
        "  rol $5, %rdx\n  dec %rcx\n  jnz 1b\n"
        "2: xor %rax, %rdx\n  int $0x80\n"
        ".globl s_work_k80\ns_work_k80:\n"
        "  hlt\n"
        ".globl s_work_end\ns_work_end:\n.popsection\n");

static void test_cpl3_loop(void **st)
{
	(void)st;
	uint64_t iters = 2000000;
	const char *env = getenv("EMU_PERF_ITERS");
	if (env)
		iters = strtoull(env, NULL, 0);
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_work, s_work_end);
	tm_long_mode(&t, TM_CODE);
	tm_gate(&t, 0x80, SNIP_ADDR(TM_CODE, s_work, s_work_k80), 0, 3, 0xe);
	struct x86_vcpu_state s = tm_state(&t);
	s.gpr[X86_RDI] = iters;
	struct err e;
	assert_int_equal(emu_cpu_set_state(t.cpu, &s, &e), 0);
	uint64_t n0 = emu_cpu_instructions(t.cpu);
	double t0 = now_secs();
	struct emu_exit x = tm_run(&t, 0);
	double secs = now_secs() - t0;
	assert_int_equal(x.reason, EMU_EXIT_HALT);
	s = tm_state(&t);
	assert_int_equal(s.gpr[X86_RDX], workload_run(iters));
	uint64_t n = emu_cpu_instructions(t.cpu) - n0;
	assert_true(n >= 15 * iters);
	test_measured("emu cpl3 integer loop: %llu instructions in %.3f s = %.0f MIPS",
	              (unsigned long long)n, secs, (double)n / secs / 1e6);
	tm_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cpl3_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
