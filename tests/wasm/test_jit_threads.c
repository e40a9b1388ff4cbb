/* SPDX-License-Identifier: Apache-2.0 */
/* Compiling an instance whole on one thread and on two (wasm_jit_threads):
 * a small module compiled on two threads runs as compiled on one and as
 * interpreted, with the same results and the same traps named alike; the
 * two threads take the largest functions first; the order itself. */
#include "common/testutil.h"
#include "common/wat.h"
#include "lib/cpu.h"

#include "capsa/wasm.h"
#include "wasm/engines.h"
#include "wasm/jit/jit.h"
#include "wasm/jit/whole.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Functions of different sizes, the largest neither first nor last, with
 * direct and indirect calls between them, memory, a loop and a trap. */
static const char *wat =
    "(module\n"
    "  (memory 1)\n"
    "  (type $t1 (func (param i32) (result i32)))\n"
    "  (table 2 funcref)\n"
    "  (elem (i32.const 0) $twice $big)\n"
    "  (func $twice (param i32) (result i32) local.get 0 i32.const 2 i32.mul)\n"
    "  (func $store (param i32 i32) local.get 0 local.get 1 i32.store offset=8)\n"
    "  (func $big (export \"big\") (param i32) (result i32) (local i32 i64 f64)\n"
    "    (loop $l\n"
    "      local.get 1 local.get 0 i32.add i32.const 3 i32.xor local.set 1\n"
    "      local.get 2 local.get 1 i64.extend_i32_u i64.add local.set 2\n"
    "      local.get 3 local.get 1 f64.convert_i32_s f64.add local.set 3\n"
    "      local.get 1 i32.const 8 i32.and\n"
    "      (if (then local.get 1 i32.const 1 i32.add local.set 1))\n"
    "      local.get 0 i32.const 1 i32.sub local.tee 0 br_if $l)\n"
    "    i32.const 16 local.get 1 call $store\n"
    "    local.get 1 local.get 2 i32.wrap_i64 i32.add\n"
    "    local.get 3 i32.trunc_f64_s i32.add\n"
    "    i32.const 16 i32.load offset=8 i32.add\n"
    "    i32.const 0 call_indirect (type $t1))\n"
    "  (func (export \"top\") (param i32) (result i32)\n"
    "    local.get 0 call $twice i32.const 1 call_indirect (type $t1))\n"
    "  (func (export \"trap\") (param i32) (result i32)\n"
    "    local.get 0 local.get 0 i32.const 1 i32.sub i32.div_u)\n"
    "  (func (export \"oob\") (param i32) (result i32)\n"
    "    local.get 0 i32.load offset=65536))\n";

/* Skips the test without the JIT or without wat2wasm to assemble its
 * module. */
static void need_jit(void)
{
	const char *why = wasm_jit_missing();
	if (why)
		skip_because("%s", why);
	if (access("/usr/bin/wat2wasm", X_OK))
		skip_because("wat2wasm (wabt) is missing");
}

struct run {
	int32_t top, big;
	struct capsa_wasm_trap_info trap, oob;
	enum capsa_wasm_trap trap_code, oob_code;
	int in_order; /* the functions' code lies in the order of their indices */
};

static struct capsa_wasm_func *fn(struct capsa_wasm_instance *in, const char *name)
{
	struct capsa_wasm_extern x;
	assert_int_equal(capsa_wasm_instance_export(in, name, &x), 0);
	return x.u.func;
}

/* threads 1 or 2: compiled whole on that many threads; 0: interpreted. */
static void run_module(const struct capsa_wasm_module *m, int threads, struct run *r)
{
	struct err e = {0};
	struct capsa_wasm_limits lim = {.engine = threads ? CAPSA_WASM_ENGINE_JIT
	                                                  : CAPSA_WASM_ENGINE_INTERP};
	struct capsa_wasm_store *s = capsa_wasm_store_new(&lim, &e);
	assert_non_null(s);
	if (threads) {
		assert_int_equal(wasm_jit_eager(s, &e), 0);
		assert_int_equal(wasm_jit_threads(s, threads, &e), 0);
	}
	struct capsa_wasm_instance *in = capsa_wasm_instantiate(s, m, NULL, NULL, NULL, &e);
	assert_non_null(in);
	memset(r, 0, sizeof(*r));
	if (threads) {
		assert_int_equal(wasm_jit_uncompiled(in), 0);
		r->in_order = 1;
		for (uint32_t i = 1; i < m->nfuncs; i++) {
			assert_non_null(in->funcs[i]->jit);
			if ((uintptr_t)in->funcs[i]->jit < (uintptr_t)in->funcs[i - 1]->jit)
				r->in_order = 0;
		}
	}
	union capsa_wasm_val cells[1] = {{.i32 = 5}};
	assert_int_equal(capsa_wasm_call(s, fn(in, "top"), cells, NULL), CAPSA_WASM_OK);
	r->top = cells[0].i32;
	cells[0].i32 = 9;
	assert_int_equal(capsa_wasm_call(s, fn(in, "big"), cells, NULL), CAPSA_WASM_OK);
	r->big = cells[0].i32;
	cells[0].i32 = 1;
	r->trap_code = capsa_wasm_call(s, fn(in, "trap"), cells, &r->trap);
	cells[0].i32 = 0;
	r->oob_code = capsa_wasm_call(s, fn(in, "oob"), cells, &r->oob);
	capsa_wasm_store_free(s);
}

static void same_trap(const struct capsa_wasm_trap_info *a, const struct capsa_wasm_trap_info *b)
{
	assert_int_equal(a->func_index, b->func_index);
	assert_int_equal(a->offset, b->offset);
}

static void test_two_threads_small_module(void **state)
{
	(void)state;
	need_jit();
	struct err e = {0};
	struct capsa_wasm_module *m = test_wat_load(wat, &e);
	assert_non_null(m);
	struct run r[3];
	for (int k = 0; k < 3; k++)
		run_module(m, k, &r[k]);
	for (int k = 1; k < 3; k++) {
		assert_int_equal(r[k].top, r[0].top);
		assert_int_equal(r[k].big, r[0].big);
		assert_int_equal(r[k].trap_code, CAPSA_WASM_TRAP_INT_DIV_ZERO);
		assert_int_equal(r[k].oob_code, CAPSA_WASM_TRAP_MEMORY_OOB);
		same_trap(&r[k].trap, &r[0].trap);
		same_trap(&r[k].oob, &r[0].oob);
	}
	assert_int_equal(r[0].trap.func_index, 4);
	assert_true(r[0].oob.offset > 0);
	/* one thread lays the functions out in index order; two take the
	 * largest ($big, index 2) first, each placing what it took in that
	 * order, whichever thread takes which */
	assert_true(r[1].in_order);
	assert_false(r[2].in_order);
	capsa_wasm_module_free(m);
}

static void test_largest_first(void **state)
{
	(void)state;
	need_jit();
	struct err e = {0};
	struct capsa_wasm_module *m = test_wat_load(wat, &e);
	assert_non_null(m);
	uint32_t ndef = m->nfuncs - m->nimp_funcs;
	assert_int_equal(ndef, 6);
	uint32_t *order = jit_largest_first(m);
	assert_non_null(order);
	assert_int_equal(order[0], 2);
	uint8_t seen[6] = {0};
	for (uint32_t k = 0; k < ndef; k++) {
		assert_true(order[k] < ndef);
		assert_false(seen[order[k]]);
		seen[order[k]] = 1;
		if (!k)
			continue;
		/* by bit length of the size, then by index */
		uint32_t a = m->code[order[k - 1]].body_len, b = m->code[order[k]].body_len;
		int la = 32 - __builtin_clz(a), lb = 32 - __builtin_clz(b);
		assert_true(la >= lb);
		if (la == lb)
			assert_true(order[k - 1] < order[k]);
	}
	free(order);
	capsa_wasm_module_free(m);
}

static void test_threads_setting(void **state)
{
	(void)state;
	const char *why = wasm_jit_missing();
	if (why)
		skip_because("%s", why);
	struct err e = {0};
	struct capsa_wasm_limits lim = {.engine = CAPSA_WASM_ENGINE_JIT};
	struct capsa_wasm_store *s = capsa_wasm_store_new(&lim, &e);
	assert_non_null(s);
	assert_int_equal(wasm_jit_threads(s, 3, &e), -1);
	assert_non_null(strstr(e.msg, "0, 1 or 2"));
	assert_int_equal(wasm_jit_threads(s, -1, &e), -1);
	for (int n = 0; n <= 2; n++)
		assert_int_equal(wasm_jit_threads(s, n, &e), 0);
	int idle = cpu_idle_now();
	assert_true(idle == 0 || idle == 1);
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		assert_int_equal(idle, 0);
	capsa_wasm_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_two_threads_small_module),
	    cmocka_unit_test(test_largest_first),
	    cmocka_unit_test(test_threads_setting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
