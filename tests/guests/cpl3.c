/* SPDX-License-Identifier: Apache-2.0 */
/* test=cpl3: the compute workload at CPL3 (native speed on paravirtual KVM). */
#include "guest.h"
#include "io.h"
#include "workload.h"

static uint8_t user_stack[16384] __attribute__((aligned(16)));

void run_user(void (*fn)(uint64_t), uint64_t arg)
{
	enter_user(fn, arg, user_stack + sizeof(user_stack));
}

static void cpl3_main(uint64_t iters)
{
	uint16_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	gprintf("cpl3: cpl=%u iters=%lu\n", cs & 3u, iters);
	uint64_t t0 = rdtsc();
	uint64_t r = workload_run(iters);
	uint64_t t1 = rdtsc();
	gprintf("cpl3: result=0x%016lx cycles=%lu\n", r, t1 - t0);
	guest_exit((cs & 3u) == 3 ? 0 : 1);
}

void test_cpl3(uint64_t iters)
{
	run_user(cpl3_main, iters);
}
