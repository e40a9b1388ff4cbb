/* SPDX-License-Identifier: Apache-2.0 */
/* Cross-thread behaviour of the software CPU: LOCK XADD from two vCPUs on
 * two host threads sharing one emu_mem (the sum must be exact),
 * emu_cpu_kick stopping a `jmp .`, external interrupts taken through
 * intr_ack only with IF=1 and after STI's one-instruction shadow, and HLT
 * waking up for an interrupt. */
#include "emu_harness.h"

#include <pthread.h>
#include <time.h>

#define XADD_ITERS 200000

SNIP(s_xadd);
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_xadd\ns_xadd:\n"
        "  mov $200000, %ecx\n"
        "1: mov $1, %eax\n  lock xadd %eax, 0x48000\n  dec %ecx\n  jnz 1b\n"
        "  hlt\n"
        ".globl s_xadd_end\ns_xadd_end:\n.popsection\n");

struct runner {
	struct emu_cpu *cpu;
	struct emu_exit x;
};

static void *run_thread(void *arg)
{
	struct runner *r = arg;
	struct err e;
	if (emu_cpu_run(r->cpu, 0, &r->x, &e) < 0)
		r->x.reason = EMU_EXIT_INTERNAL;
	return NULL;
}

static void test_lock_xadd_two_cpus(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_xadd, s_xadd_end);
	tm_long_mode(&t, TM_CODE);
	struct x86_vcpu_state s = tm_state(&t);
	struct emu_cpu *c2;
	struct emu_cpu_config cfg = {.index = 1, .mem = t.mem, .clock = &t.clk};
	struct err e;
	assert_int_equal(emu_cpu_create(&c2, &cfg, &e), 0);
	s.gpr[X86_RSP] = TM_KSTACK - 0x1000;
	assert_int_equal(emu_cpu_set_state(c2, &s, &e), 0);
	struct runner r1 = {.cpu = t.cpu}, r2 = {.cpu = c2};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, run_thread, &r2), 0);
	run_thread(&r1);
	pthread_join(th, NULL);
	assert_int_equal(r1.x.reason, EMU_EXIT_HALT);
	assert_int_equal(r2.x.reason, EMU_EXIT_HALT);
	uint32_t sum;
	memcpy(&sum, t.ram + 0x48000, 4);
	assert_int_equal(sum, 2 * XADD_ITERS);
	emu_cpu_destroy(c2);
	tm_fini(&t);
}

SNIP(s_spin);
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_spin\ns_spin:\n"
        "  jmp .\n"
        ".globl s_spin_end\ns_spin_end:\n.popsection\n");

static void test_kick_stops_spin(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_spin, s_spin_end);
	tm_long_mode(&t, TM_CODE);
	struct runner r = {.cpu = t.cpu};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, run_thread, &r), 0);
	nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
	emu_cpu_kick(t.cpu);
	pthread_join(th, NULL);
	assert_int_equal(r.x.reason, EMU_EXIT_KICK);
	assert_true(emu_cpu_instructions(t.cpu) > 1000);
	assert_int_equal(tm_state(&t).rip, TM_CODE);
	tm_fini(&t);
}

/* r9: before STI (IF=0), r10: the instruction after STI (shadow), r11:
 * after the next boundary; the handler counts in r8. */
SNIP(s_intr);
extern const uint8_t s_intr_handler[];
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_intr\ns_intr:\n"
        "  cli\n  mov %r8, %r9\n  jmp 1f\n"
        "1: sti\n  mov %r8, %r10\n  jmp 2f\n"
        "2: mov %r8, %r11\n  hlt\n"
        "  mov %r8, %r12\n  hlt\n"
        ".globl s_intr_handler\ns_intr_handler:\n"
        "  inc %r8\n  iretq\n"
        ".globl s_intr_end\ns_intr_end:\n.popsection\n");

static void test_interrupt_if_and_shadow(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_intr, s_intr_end);
	tm_long_mode(&t, TM_CODE);
	tm_gate(&t, 0x20, SNIP_ADDR(TM_CODE, s_intr, s_intr_handler), 0, 0, 0xe);
	t.intr_vec = 0x20;
	emu_cpu_notify(t.cpu);
	struct x86_vcpu_state s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_R9], 0);
	assert_int_equal(s.gpr[X86_R10], 0);
	assert_int_equal(s.gpr[X86_R11], 1);
	assert_int_equal(s.gpr[X86_R8], 1); /* delivered exactly once */
	assert_true(t.nack >= 1);
	/* halted with IF=1 and nothing pending: HLT again */
	struct emu_exit x = tm_run(&t, 1000);
	assert_int_equal(x.reason, EMU_EXIT_HALT);
	/* an interrupt wakes it: handler, then the code after HLT */
	t.intr_vec = 0x20;
	emu_cpu_notify(t.cpu);
	s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_R8], 2);
	assert_int_equal(s.gpr[X86_R12], 2);
	tm_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lock_xadd_two_cpus),
	    cmocka_unit_test(test_kick_stops_spin),
	    cmocka_unit_test(test_interrupt_if_and_shadow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
