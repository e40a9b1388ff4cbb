/* SPDX-License-Identifier: Apache-2.0 */
/* The software CPU against the host CPU: random user-mode sequences run
 * natively (sandboxed child) and in the emulator for a fixed budget
 * (CAPSA_DIFFTEST_SECS, default 20 s); any mismatch in an instruction class
 * the CPU implements fails the test. The native runner and the generator
 * are checked on their own first, with sequences whose results are known. */
#include "common/testutil.h"
#include "dt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct dt_seq *seq_of(const uint8_t *code, size_t len)
{
	struct dt_seq *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	memcpy(s->code, code, len);
	s->len = (uint32_t)len;
	s->init.gpr[4] = DT_STACK;
	s->init.rflags = 0x2;
	s->init.mxcsr = 0x1f80;
	return s;
}

static void native_known_results(void **state)
{
	(void)state;
	char why[256];
	struct dt_native *n = dt_native_start(why, sizeof(why));
	assert_non_null(n);
	struct dt_result *r = malloc(sizeof(*r));
	assert_non_null(r);

	/* add rax, rbx; mov [rbx+8], rax; std; paddd xmm0, xmm1 */
	static const uint8_t a[] = {0x48, 0x01, 0xd8, 0x48, 0x89, 0x43,
	                            0x08, 0xfd, 0x66, 0x0f, 0xfe, 0xc1};
	struct dt_seq *s = seq_of(a, sizeof(a));
	s->init.gpr[0] = 5;
	s->init.gpr[3] = DT_DATA + 0x100;
	s->init.xmm[0][0] = 7;
	s->init.xmm[1][0] = 9;
	s->init.xmm[1][4] = 1;
	assert_int_equal(dt_native_run(n, s, r), 0);
	assert_int_equal(r->end, DT_END_DONE);
	assert_int_equal(r->r.gpr[0], 5 + DT_DATA + 0x100);
	uint64_t stored;
	memcpy(&stored, r->data + 0x108, 8);
	assert_int_equal(stored, 5 + DT_DATA + 0x100);
	assert_true(r->r.rflags & DT_DF);
	assert_int_equal(r->r.xmm[0][0], 16);
	assert_int_equal(r->r.xmm[0][4], 1);
	assert_int_equal(r->r.gpr[4], DT_STACK);
	free(s);

	/* xor ecx, ecx; div rcx -> #DE at the DIV; then ud2 alone -> #UD */
	static const uint8_t b[] = {0x31, 0xc9, 0x48, 0xf7, 0xf1};
	s = seq_of(b, sizeof(b));
	s->init.gpr[0] = 77;
	assert_int_equal(dt_native_run(n, s, r), 0);
	assert_int_equal(r->end, DT_END_EXCEPT);
	assert_int_equal(r->vector, 0);
	assert_int_equal(r->r.rip, DT_SEQ + 2);
	assert_int_equal(r->r.gpr[0], 77);
	assert_int_equal(r->r.gpr[1], 0);
	free(s);
	static const uint8_t c[] = {0x90, 0x0f, 0x0b};
	s = seq_of(c, sizeof(c));
	assert_int_equal(dt_native_run(n, s, r), 0);
	assert_int_equal(r->end, DT_END_EXCEPT);
	assert_int_equal(r->vector, 6);
	assert_int_equal(r->r.rip, DT_SEQ + 1);
	free(s);

	/* The child keeps running after a fault: push rax; pop rcx */
	static const uint8_t d[] = {0x50, 0x59};
	s = seq_of(d, sizeof(d));
	s->init.gpr[0] = 0x1234;
	assert_int_equal(dt_native_run(n, s, r), 0);
	assert_int_equal(r->end, DT_END_DONE);
	assert_int_equal(r->r.gpr[1], 0x1234);
	free(s);
	free(r);
	dt_native_stop(n);
}

/* Generated sequences run natively without leaving the data buffer: the
 * only exceptions are the divide errors and faults it generates on purpose. */
static void generated_sequences_run_natively(void **state)
{
	(void)state;
	char why[256];
	struct dt_native *n = dt_native_start(why, sizeof(why));
	assert_non_null(n);
	struct dt_result *r = malloc(sizeof(*r));
	struct dt_seq *s = malloc(sizeof(*s));
	assert_non_null(r);
	assert_non_null(s);
	uint64_t cls[DT_C_NCLASS] = {0}, insns = 0, de = 0, faults = 0;
	for (uint64_t seed = 1; seed <= 3000; seed++) {
		dt_generate(s, seed, 40, 0);
		assert_true(s->nitems > 0);
		assert_int_equal(dt_native_run(n, s, r), 0);
		const struct dt_insn *in = dt_insn_at(s, r->r.rip - DT_SEQ);
		if (r->end == DT_END_EXCEPT && r->vector == 0 && in && strstr(in->name, "div")) {
			de++;
			continue;
		}
		/* #BP is a trap: RIP is past the INT3 */
		for (unsigned k = 0; r->vector == 3 && k < s->ninsn; k++)
			if (s->insn[k].off + s->insn[k].len == r->r.rip - DT_SEQ)
				in = &s->insn[k];
		/* planned: the fault classes, and misaligned 16-byte SSE operands */
		int sse_gp =
		    r->vector == 13 && in && in->mem &&
		    (in->cls == DT_C_SSE_INT || in->cls == DT_C_SSE_FP || in->cls == DT_C_SSE_XM);
		sse_gp |= r->vector == 19 && in && in->cls == DT_C_SSE_XM;
		if (r->end == DT_END_EXCEPT && in &&
		    (in->cls == DT_C_FAULT || in->cls == DT_C_SYS || sse_gp)) {
			faults++;
			continue;
		}
		if (r->end != DT_END_DONE) {
			printf("# seed %" PRIu64 ": end %d vector %d at %s %s\n", seed, r->end,
			       r->vector, in ? in->name : "?", r->msg);
		}
		assert_int_equal(r->end, DT_END_DONE);
		insns += s->ninsn;
		for (unsigned k = 0; k < s->ninsn; k++)
			cls[s->insn[k].cls]++;
	}
	for (int i = 0; i < DT_C_NCLASS; i++)
		assert_true(i == DT_C_FAULT || i == DT_C_SYS || i == DT_C_SSE_XM || cls[i] > 100);
	assert_true(de < 3000 / 10);
	assert_true(faults > 0 && faults < 3000 / 5);
	test_measured("generator: 3000 native sequences, %" PRIu64 " instructions, %" PRIu64
	              " divide errors, %" PRIu64 " planned faults",
	              insns, de, faults);
	free(r);
	free(s);
	dt_native_stop(n);
}

/* The classes the CPU is expected to get right are all but those given a
 * reason here (known CPU gaps; the SSE classes get one at run time while
 * the CPU raises #UD for SSE): a mismatch in an expected class fails the
 * test; mismatches in a class with a reason are counted and shown in full
 * (the first few), never hidden, but do not fail it. */
static const char *not_yet[DT_C_NCLASS] = {
    [DT_C_SSE_XM] = "known CPU gap with unmasked SSE exceptions: packed results take the "
                    "exception flags of all lanes together (PE is set besides UE when one lane "
                    "underflows and another is inexact)",
};

/* One budgeted run; the integer-only half keeps the integer classes well
 * covered even while SSE sequences stop early. */
static uint64_t run_half(const char *what, unsigned opts, uint64_t seed, double secs)
{
	char why[256];
	unsigned prio = 0;
	for (int i = 0; i < DT_C_NCLASS; i++)
		prio |= not_yet[i] ? 1u << i : 0;
	struct dt_loop cfg = {.seed = seed,
	                      .max_secs = secs,
	                      .max_report = 3,
	                      .gen_opts = opts,
	                      .log = stdout,
	                      .prio = prio};
	struct dt_stats st;
	int rc = dt_loop_run(&cfg, &st, why, sizeof(why));
	if (rc)
		printf("# difftest: %s\n", why);
	assert_int_equal(rc, 0);
	test_measured("difftest %s: %" PRIu64 " sequences, %" PRIu64 " instructions, %" PRIu64
	              " mismatches (seed %#" PRIx64 ")",
	              what, st.seqs, st.insns, st.mismatches, cfg.seed);
	uint64_t failing = st.other_mismatch;
	for (int i = 0; i < DT_C_NCLASS; i++) {
		if (st.cls_mismatch[i] || not_yet[i])
			test_measured("difftest %s class %s: %" PRIu64 " instructions, %" PRIu64
			              " mismatches%s%s%s",
			              what, dt_class_names[i], st.cls_insns[i], st.cls_mismatch[i],
			              not_yet[i] ? " (not failing: " : "",
			              not_yet[i] ? not_yet[i] : "", not_yet[i] ? ")" : "");
		if (!not_yet[i])
			failing += st.cls_mismatch[i];
	}
	assert_true(st.seqs > 100);
	return failing;
}

static void emulator_matches_host(void **state)
{
	(void)state;
	char why[256];
	struct dt_emul *em = dt_emul_create(why, sizeof(why));
	if (!em)
		printf("# note: %s\n", why);
	assert_non_null(em);
	dt_emul_destroy(em);
	const char *secs = getenv("CAPSA_DIFFTEST_SECS");
	const char *seed = getenv("CAPSA_DIFFTEST_SEED");
	double total = secs ? strtod(secs, NULL) : 20;
	uint64_t s0 = seed ? strtoull(seed, NULL, 0) : 0x5eed0000;
	uint64_t failing = run_half("integer", DT_GEN_NO_SSE, s0, total / 2);
	failing += run_half("integer+sse", 0, s0 + (1ULL << 32), total / 2);
	assert_int_equal(failing, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(native_known_results),
	    cmocka_unit_test(generated_sequences_run_natively),
	    cmocka_unit_test(emulator_matches_host),
	};
	return cmocka_run_group_tests_name("emu differential test", tests, NULL, NULL);
}
