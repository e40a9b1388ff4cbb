/* SPDX-License-Identifier: Apache-2.0 */
/* Fuel and interrupts of compiled code. Code compiled while the store's
 * fuel is unlimited has no fuel checks: an interrupt from another thread
 * stops it through a signal, in a tight loop, in a deep recursion without
 * loops and in a loop calling a host function; the interpreter is stopped
 * by the flag. Such an instance runs interpreted once fuel is limited,
 * with the interpreter's exact count; an instance compiled under limited
 * fuel counts it itself and runs out at exactly the interpreter's point
 * (loops, leaf functions, calls). A SIGURG handler installed before stays
 * in charge of the signals not meant for compiled code. */
#include "common/testutil.h"
#include "common/wat.h"

#include "capsa/wasm.h"
#include "wasm/jit/jit.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *wat =
    "(module\n"
    "  (import \"env\" \"tick\" (func $tick (param i32) (result i32)))\n"
    "  (func (export \"spin\") (loop br 0))\n"
    "  (func (export \"spinif\") (param i32) (result i32)\n"
    "    (loop $l local.get 0 i32.const 1 i32.add local.tee 0 br_if $l) local.get 0)\n"
    "  (func $fib (export \"fib\") (param i32) (result i32)\n"
    "    local.get 0 i32.const 2 i32.lt_u if (result i32) local.get 0 else\n"
    "    local.get 0 i32.const 1 i32.sub call $fib\n"
    "    local.get 0 i32.const 2 i32.sub call $fib i32.add end)\n"
    "  (func (export \"hostloop\") (param i32) (result i32)\n"
    "    (loop $l local.get 0 call $tick local.set 0 br $l) local.get 0)\n"
    "  (func $leaf (param i32) (result i32) local.get 0 i32.const 3 i32.mul)\n"
    "  (func $inner (param i32) (result i32) (local i32)\n"
    "    (loop $l local.get 1 i32.const 1 i32.add local.tee 1 local.get 0 i32.lt_u br_if $l)\n"
    "    local.get 1)\n"
    "  (func (export \"mixed\") (param i32) (result i32) (local i32 i32)\n"
    "    (loop $l\n"
    "      local.get 2 local.get 1 call $leaf i32.add\n"
    "      local.get 1 i32.const 7 i32.and call $inner i32.add local.set 2\n"
    "      local.get 1 i32.const 1 i32.add local.tee 1 local.get 0 i32.lt_u br_if $l)\n"
    "    local.get 2 i32.const 6 call $fib i32.add)\n"
    /* Every shape of branch back to a loop. */
    "  (global $g (mut i32) (i32.const 0))\n"
    "  (func $dec (result i32) global.get $g i32.const 1 i32.sub global.set $g global.get $g)\n"
    "  (func (export \"onlybrif\") (param i32) (result i32)\n"
    "    local.get 0 global.set $g (loop $l call $dec br_if $l) global.get $g)\n"
    "  (func (export \"brifval\") (param i32) (result i32) (local i32)\n"
    "    local.get 0\n"
    "    (loop $l (param i32) (result i32)\n"
    "      local.get 1 i32.const 3 i32.add local.set 1\n"
    "      i32.const 1 i32.sub local.tee 0 local.get 0 br_if $l)\n"
    "    local.get 1 i32.add)\n"
    "  (func (export \"table\") (param i32) (result i32) (local i32)\n"
    "    (block $out (loop $l\n"
    "      local.get 1 local.get 0 i32.add local.set 1\n"
    "      local.get 0 i32.const 1 i32.sub local.tee 0 i32.const 3 i32.rem_u\n"
    "      local.get 0 i32.eqz i32.const 3 i32.mul i32.add\n"
    "      br_table $l 0 $l $out))\n"
    "    local.get 1)\n"
    "  (func (export \"tableval\") (param i32) (result i32)\n"
    "    (block $out (result i32) local.get 0\n"
    "      (loop $l (param i32) (result i32)\n"
    "        i32.const 1 i32.sub local.tee 0 local.get 0 local.get 0 i32.eqz br_table $l $out))\n"
    "    i32.const 5 i32.add)\n"
    "  (func (export \"nested\") (param i32) (result i32) (local i32 i32)\n"
    "    (loop $o\n"
    "      local.get 0 local.set 1\n"
    "      (loop $i\n"
    "        local.get 2 i32.const 1 i32.add local.set 2\n"
    "        local.get 1 i32.const 1 i32.sub local.tee 1 i32.const 5 i32.eq\n"
    "        local.get 0 i32.const 7 i32.and i32.eqz i32.and\n"
    "        if local.get 0 i32.const 1 i32.sub local.set 0 br $o end\n"
    "        local.get 1 br_if $i)\n"
    "      local.get 0 i32.const 1 i32.sub local.tee 0 br_if $o)\n"
    "    local.get 2)\n"
    /* Counted loops (their back edges charged by trip count), and loops
     * of nearly that shape which must not be counted. Locals: $a the
     * argument, 1 j, 2 an accumulator, 3 a step or bound. */
    "  (memory 1)\n"
    "  (func (export \"c_ltu\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    (loop $l local.get 2 local.get 1 i32.add local.set 2\n"
    "      local.get 1 i32.const 1 i32.add local.tee 1 local.get 0 i32.lt_u br_if $l)\n"
    "    local.get 2)\n"
    "  (func (export \"c_lts3\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    i32.const 0 local.get 0 i32.sub local.set 1\n"
    "    (loop $l local.get 2 local.get 1 i32.add local.set 2\n"
    "      i32.const 3 local.get 1 i32.add local.tee 1 local.get 0 i32.lt_s br_if $l)\n"
    "    local.get 2)\n"
    "  (func (export \"c_leu4\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    local.get 0 i32.const 4 i32.mul local.set 3\n"
    "    (loop $l local.get 2 local.get 1 i32.xor local.set 2\n"
    "      local.get 1 i32.const 4 i32.add local.set 1 local.get 1 local.get 3 i32.le_u br_if $l)\n"
    "    local.get 2)\n"
    "  (func (export \"c_gts\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    local.get 0 local.set 1\n"
    "    (loop $l local.get 2 local.get 1 i32.add local.set 2\n"
    "      local.get 1 i32.const 2 i32.sub local.tee 1 i32.const -5 i32.gt_s br_if $l)\n"
    "    local.get 2)\n"
    "  (func (export \"c_geu\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    i32.const 3 local.set 3 local.get 0 i32.const 3 i32.mul i32.const 2 i32.add local.set 1\n"
    "    (loop $l local.get 2 local.get 1 i32.xor local.set 2\n"
    "      local.get 1 local.get 3 i32.sub local.tee 1 i32.const 3 i32.ge_u br_if $l)\n"
    "    local.get 2)\n"
    "  (func (export \"c_ne\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    (loop $l local.get 2 i32.const 5 i32.add local.set 2\n"
    "      local.get 1 i32.const 1 i32.add local.tee 1 local.get 0 i32.ne br_if $l)\n"
    "    local.get 2)\n"
    "  (func (export \"c_down\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    local.get 0 local.set 1\n"
    "    (loop $l local.get 2 local.get 1 i32.add local.set 2\n"
    "      local.get 1 i32.const 1 i32.sub local.tee 1 br_if $l)\n"
    "    local.get 2)\n"
    "  (func (export \"c_ne2\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    local.get 0 i32.const 1 i32.shl local.set 3\n"
    "    (loop $l local.get 2 i32.const 1 i32.add local.set 2\n"
    "      local.get 1 i32.const 2 i32.add local.tee 1 local.get 3 i32.ne br_if $l)\n"
    "    local.get 2)\n"
    "  (func (export \"c_ne4\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    i32.const 100 local.set 1\n"
    "    (loop $l local.get 2 i32.const 1 i32.add local.set 2\n"
    "      local.get 1 i32.const 4 i32.sub local.tee 1 local.get 0 i32.ne br_if $l)\n"
    "    local.get 2)\n"
    "  (func (export \"c_fast\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    local.get 0 local.set 1\n"
    "    (loop $l local.get 2 local.get 1 i32.add local.set 2\n"
    "      local.get 1 i32.const 3 i32.add local.tee 1 i32.const 60 i32.lt_u br_if $l)\n"
    "    local.get 2)\n"
    "  (func (export \"c_fastne\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    local.get 0 local.set 1\n"
    "    (loop $l local.get 2 local.get 1 i32.add local.set 2\n"
    "      local.get 1 i32.const 8 i32.add local.tee 1 i32.const 96 i32.ne br_if $l)\n"
    "    local.get 2)\n"
    "  (func (export \"c_fastb\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    i32.const 50 local.set 1\n"
    "    (loop $l local.get 2 local.get 1 i32.add local.set 2\n"
    "      local.get 1 local.get 0 i32.add local.tee 1 i32.const 1000 i32.lt_u br_if $l)\n"
    "    local.get 2)\n"
    "  (func (export \"c_fastb2\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    local.get 0 local.set 1 i32.const 7 local.set 3\n"
    "    (loop $l local.get 2 local.get 1 i32.add local.set 2\n"
    "      local.get 1 local.get 3 i32.add local.tee 1 i32.const 1000 i32.lt_u br_if $l)\n"
    "    local.get 2)\n"
    "  (func (export \"c_fastbs\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    local.get 0 local.set 1 i32.const 3 local.set 3\n"
    "    (loop $l local.get 2 local.get 1 i32.add local.set 2\n"
    "      local.get 1 local.get 3 i32.sub local.tee 1 i32.const 5 i32.gt_s br_if $l)\n"
    "    local.get 2)\n"
    "  (func (export \"c_nest\") (param $a i32) (result i32) (local i32 i32 i32 i32)\n"
    "    local.get 0 local.set 1\n"
    "    (loop $o\n"
    "      (block $s local.get 1 i32.const 3 i32.rem_u i32.eqz br_if $s local.get 1 local.set 3\n"
    "        local.get 1 i32.const 5 i32.sub local.set 4\n"
    "        (loop $i local.get 2 local.get 3 i32.add local.set 2\n"
    "          local.get 3 local.get 4 i32.add local.tee 3 i32.const 200 i32.lt_u br_if $i))\n"
    "      local.get 1 i32.const 1 i32.add local.tee 1 i32.const 40 i32.lt_u br_if $o)\n"
    "    local.get 2)\n"
    "  (func (export \"c_nesto\") (param $a i32) (result i32) (local i32 i32 i32 i32)\n"
    "    local.get 0 local.set 1\n"
    "    (loop $o local.get 1 i32.const 12 i32.shl i32.load8_u local.get 2 i32.add local.set 2\n"
    "      (block $s local.get 1 i32.const 3 i32.rem_u i32.eqz br_if $s local.get 1 local.set 3\n"
    "        local.get 1 i32.const 5 i32.sub local.set 4\n"
    "        (loop $i local.get 2 local.get 3 i32.add local.set 2\n"
    "          local.get 3 local.get 4 i32.add local.tee 3 i32.const 200 i32.lt_u br_if $i))\n"
    "      local.get 1 i32.const 1 i32.add local.tee 1 i32.const 40 i32.lt_u br_if $o)\n"
    "    local.get 2)\n"
    "  (func (export \"c_nestt\") (param $a i32) (result i32) (local i32 i32 i32 i32)\n"
    "    local.get 0 local.set 1\n"
    "    (loop $o\n"
    "      (block $s local.get 1 i32.const 3 i32.rem_u i32.eqz br_if $s local.get 1 local.set 3\n"
    "        local.get 1 i32.const 5 i32.sub local.set 4\n"
    "        (loop $i local.get 2 local.get 3 i32.add local.set 2\n"
    "          local.get 3 local.get 1 i32.const 8 i32.mul i32.add i32.const 8 i32.shl\n"
    "          i32.load8_u local.get 2 i32.add local.set 2\n"
    "          local.get 3 local.get 4 i32.add local.tee 3 i32.const 200 i32.lt_u br_if $i))\n"
    "      local.get 1 i32.const 1 i32.add local.tee 1 i32.const 40 i32.lt_u br_if $o)\n"
    "    local.get 2)\n"
    "  (func (export \"c_nests\") (param $a i32) (result i32) (local i32 i32 i32 i32)\n"
    "    local.get 0 local.set 1\n"
    "    (loop $o local.get 1 i32.const 25 i32.mul local.set 3\n"
    "      local.get 1 i32.const 5 i32.sub local.set 4\n"
    "      (loop $i local.get 2 local.get 3 i32.add local.set 2\n"
    "        local.get 3 local.get 4 i32.add local.tee 3 i32.const 200 i32.lt_u br_if $i)\n"
    "      local.get 1 i32.const 1 i32.add local.tee 1 i32.const 40 i32.lt_u br_if $o)\n"
    "    local.get 2)\n"
    "  (func (export \"c_nestr\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    local.get 0 local.set 1\n"
    "    (loop $o i32.const 198 local.set 3\n"
    "      (loop $i local.get 2 local.get 3 i32.add local.set 2\n"
    "        local.get 3 i32.const 1 i32.add local.tee 3 i32.const 200 i32.lt_u br_if $i)\n"
    "      local.get 1 i32.const 1 i32.add local.tee 1 i32.const 1000 i32.lt_u br_if $o)\n"
    "    local.get 2)\n"
    "  (func (export \"c_param\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    i32.const 7\n"
    "    (loop $l (param i32) (result i32) local.get 1 i32.add\n"
    "      local.get 1 i32.const 1 i32.add local.tee 1 local.get 0 i32.lt_u br_if $l)\n"
    "    local.get 2 i32.add)\n"
    "  (func (export \"c_wrongsign\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    i32.const -1 local.set 3 local.get 0 local.set 1\n"
    "    (loop $l local.get 2 local.get 1 i32.add local.set 2\n"
    "      local.get 1 local.get 3 i32.add local.tee 1 i32.const 1000 i32.lt_u br_if $l)\n"
    "    local.get 2)\n"
    "  (func (export \"c_boundw\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    local.get 0 i32.const 1 i32.shl local.set 3\n"
    "    (loop $l local.get 3 i32.const 1 i32.sub local.set 3\n"
    "      local.get 1 i32.const 1 i32.add local.tee 1 local.get 3 i32.lt_u br_if $l)\n"
    "    local.get 1)\n"
    "  (func (export \"c_brout\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    (block $o (loop $l local.get 2 local.get 1 i32.add local.set 2\n"
    "      local.get 1 i32.const 17 i32.eq br_if $o\n"
    "      local.get 1 i32.const 1 i32.add local.tee 1 local.get 0 i32.lt_u br_if $l))\n"
    "    local.get 2)\n"
    "  (func (export \"c_zero\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    (loop $l local.get 1 local.get 3 i32.add local.tee 1 local.get 0 i32.lt_u br_if $l)\n"
    "    local.get 1)\n"
    "  (func (export \"c_wraps\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    i32.const 2147483637 local.get 0 i32.sub local.set 1\n"
    "    (loop $l local.get 1 i32.const 3 i32.add local.tee 1 i32.const 2147483647 i32.lt_s br_if "
    "$l)\n"
    "    local.get 1)\n"
    "  (func (export \"c_wrapu\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    i32.const -13 local.get 0 i32.sub local.set 1\n"
    "    (loop $l local.get 1 i32.const 5 i32.add local.tee 1 i32.const -2 i32.lt_u br_if $l)\n"
    "    local.get 1)\n"
    "  (func (export \"c_oob\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    (loop $l local.get 1 i32.const 12 i32.shl local.get 1 i32.store\n"
    "      local.get 1 i32.const 1 i32.add local.tee 1 local.get 0 i32.lt_u br_if $l)\n"
    "    local.get 1)\n"
    "  (func (export \"c_oob3\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    i32.const 3 local.set 3 local.get 0 i32.const 3 i32.mul local.set 2\n"
    "    (loop $l local.get 1 i32.const 12 i32.shl i32.load8_u drop\n"
    "      local.get 3 local.get 1 i32.add local.tee 1 local.get 2 i32.lt_u br_if $l)\n"
    "    local.get 1)\n"
    "  (func (export \"c_div\") (param $a i32) (result i32) (local i32 i32 i32)\n"
    "    (loop $l i32.const 1000 i32.const 20 local.get 1 i32.sub i32.div_u local.get 2 i32.add\n"
    "      local.set 2\n"
    "      local.get 1 i32.const 1 i32.add local.tee 1 local.get 0 i32.lt_u br_if $l)\n"
    "    local.get 2)\n"
    "  (func $runaway (export \"runaway\") (param i32) (result i32)\n"
    "    local.get 0 i32.const 1 i32.add call $runaway))\n";

struct ctx {
	struct capsa_wasm_module *m;
	struct capsa_wasm_store *s;
	struct capsa_wasm_instance *in;
	volatile long ticks;
};

static enum capsa_wasm_trap tick(struct capsa_wasm_caller *cl, void *env,
                                 union capsa_wasm_val *args)
{
	(void)cl;
	struct ctx *c = env;
	c->ticks++;
	args[0].i32 = args[0].i32 + 1;
	return CAPSA_WASM_OK;
}

static int resolve(void *env, const char *module, const char *name,
                   enum capsa_wasm_extern_kind kind, struct capsa_wasm_extern *out)
{
	struct ctx *c = env;
	static const uint8_t i32[] = {CAPSA_WASM_I32};
	struct capsa_wasm_functype t = {1, 1, i32, i32};
	struct err e = {0};
	if (strcmp(module, "env") || strcmp(name, "tick") || kind != CAPSA_WASM_EXTERN_FUNC)
		return -1;
	out->kind = kind;
	out->u.func = capsa_wasm_func_new(c->s, &t, tick, c, &e);
	return out->u.func ? 0 : -1;
}

/* fuel: the store's fuel while instantiating (-1: unlimited), which
 * decides whether the compiled code counts fuel. */
static void open_ctx(struct ctx *c, enum capsa_wasm_engine eng, int64_t fuel)
{
	struct err e = {0};
	struct capsa_wasm_limits lim = {.engine = eng};
	memset(c, 0, sizeof(*c));
	c->m = test_wat_load(wat, &e);
	assert_non_null(c->m);
	c->s = capsa_wasm_store_new(&lim, &e);
	assert_non_null(c->s);
	capsa_wasm_store_set_fuel(c->s, fuel);
	c->in = capsa_wasm_instantiate(c->s, c->m, resolve, c, NULL, &e);
	assert_non_null(c->in);
	capsa_wasm_store_set_fuel(c->s, -1);
}

static void close_ctx(struct ctx *c)
{
	capsa_wasm_store_free(c->s);
	capsa_wasm_module_free(c->m);
}

static struct capsa_wasm_func *fn(struct ctx *c, const char *name)
{
	struct capsa_wasm_extern x;
	assert_int_equal(capsa_wasm_instance_export(c->in, name, &x), 0);
	return x.u.func;
}

static int have_jit(void)
{
	return !access("/usr/bin/wat2wasm", X_OK) &&
	       capsa_wasm_engine_available(CAPSA_WASM_ENGINE_JIT);
}

#define NEED_JIT()                                                                                 \
	do {                                                                                       \
		if (!have_jit())                                                                   \
			skip_because("no JIT on this host, or wat2wasm (wabt) is missing");        \
	} while (0)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *interrupter(void *arg)
{
	struct timespec ts = {0, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	capsa_wasm_store_interrupt(arg);
	return NULL;
}

/* Calls export name (function index idx) with argument a, interrupted once
 * from another thread after 100 ms: it must end with "out of fuel" within
 * seconds, naming that function. */
static void interrupt_one(enum capsa_wasm_engine eng, const char *name, uint32_t idx, int32_t a)
{
	struct ctx c;
	open_ctx(&c, eng, -1);
	/* Compiled code runs it (the interpreter left no code of it). */
	if (eng == CAPSA_WASM_ENGINE_JIT)
		assert_non_null(fn(&c, name)->jit);
	pthread_t th;
	union capsa_wasm_val cells[1] = {{.i32 = a}};
	struct capsa_wasm_trap_info info;
	double t0 = now();
	assert_int_equal(pthread_create(&th, NULL, interrupter, c.s), 0);
	enum capsa_wasm_trap t = capsa_wasm_call(c.s, fn(&c, name), cells, &info);
	pthread_join(th, NULL);
	double secs = now() - t0;
	if (t != CAPSA_WASM_TRAP_OUT_OF_FUEL || secs > 5.0)
		printf("# %s: %s after %.2f s\n", name, capsa_wasm_trap_name(t), secs);
	assert_int_equal(t, CAPSA_WASM_TRAP_OUT_OF_FUEL);
	assert_true(secs < 5.0);
	assert_int_equal(info.func_index, idx);
	if (eng == CAPSA_WASM_ENGINE_JIT)
		assert_null(fn(&c, name)->code); /* never went to the interpreter */
	/* Interrupted for good: the next call stops at once. */
	assert_int_equal(capsa_wasm_call(c.s, fn(&c, name), cells, NULL),
	                 CAPSA_WASM_TRAP_OUT_OF_FUEL);
	close_ctx(&c);
}

/* A loop of three instructions without calls, and one ending in br_if. */
static void test_interrupt_tight_loop(void **state)
{
	(void)state;
	NEED_JIT();
	interrupt_one(CAPSA_WASM_ENGINE_JIT, "spin", 1, 0);
	interrupt_one(CAPSA_WASM_ENGINE_JIT, "spinif", 2, 1);
}

/* fib(60): deep calls, no loop, far longer than the test. */
static void test_interrupt_recursion(void **state)
{
	(void)state;
	NEED_JIT();
	interrupt_one(CAPSA_WASM_ENGINE_JIT, "fib", 3, 60);
}

/* A loop calling a host function: the signal lands in compiled code or in
 * the host function (then the call's return sees the flag). */
static void test_interrupt_host_loop(void **state)
{
	(void)state;
	NEED_JIT();
	interrupt_one(CAPSA_WASM_ENGINE_JIT, "hostloop", 4, 0);
}

/* The interpreter sees the flag with its next fuel slice. */
static void test_interrupt_interpreter(void **state)
{
	(void)state;
	NEED_JIT();
	interrupt_one(CAPSA_WASM_ENGINE_INTERP, "spin", 1, 0);
	interrupt_one(CAPSA_WASM_ENGINE_INTERP, "fib", 3, 60);
}

struct outcome {
	enum capsa_wasm_trap t;
	int32_t result;
	int64_t func, offset, fuel_left;
};

static struct outcome run_fuel(struct ctx *c, const char *name, int32_t a, int64_t fuel)
{
	struct outcome o = {0};
	union capsa_wasm_val cells[1] = {{.i32 = a}};
	struct capsa_wasm_trap_info info = {0};
	capsa_wasm_store_set_fuel(c->s, fuel);
	o.t = capsa_wasm_call(c->s, fn(c, name), cells, &info);
	o.fuel_left = capsa_wasm_store_fuel(c->s);
	capsa_wasm_store_set_fuel(c->s, -1);
	if (o.t == CAPSA_WASM_OK) {
		o.result = cells[0].i32;
	} else {
		o.func = info.func_index;
		o.offset = info.offset;
	}
	return o;
}

/* Engine e ended name's run with budget n as the interpreter did (ref). */
static void same_outcome(const char *name, int64_t n, int e, const struct outcome *o,
                         const struct outcome *ref)
{
	if (o->t != ref->t || o->offset != ref->offset || o->fuel_left != ref->fuel_left)
		printf("# %s fuel %lld, engine %d: %s at %lld, %lld left; interp %s at %lld, %lld "
		       "left\n",
		       name, (long long)n, e, capsa_wasm_trap_name(o->t), (long long)o->offset,
		       (long long)o->fuel_left, capsa_wasm_trap_name(ref->t),
		       (long long)ref->offset, (long long)ref->fuel_left);
	assert_int_equal(o->t, ref->t);
	assert_int_equal(o->result, ref->result);
	assert_int_equal(o->func, ref->func);
	assert_int_equal(o->offset, ref->offset);
	assert_int_equal(o->fuel_left, ref->fuel_left);
}

/* Fuel runs out at every n up to what name(a) needs (over min_need):
 * compiled code that counts it, and compiled code without checks (run by
 * the interpreter once fuel is limited), end like the interpreter: the
 * same trap at the same function and offset, or the same result and fuel
 * left. */
static void fuel_exact(struct ctx *c, const char *name, int32_t a, int64_t min_need)
{
	struct outcome all = run_fuel(&c[0], name, a, 1000000);
	assert_int_equal(all.t, CAPSA_WASM_OK);
	int64_t need = 1000000 - all.fuel_left;
	assert_true(need > min_need);
	int ran_out = 0;
	for (int64_t n = 1; n <= need + 2; n++) {
		struct outcome o[3];
		for (int e = 0; e < 3; e++)
			o[e] = run_fuel(&c[e], name, a, n);
		for (int e = 1; e < 3; e++)
			same_outcome(name, n, e, &o[e], &o[0]);
		ran_out += o[0].t == CAPSA_WASM_TRAP_OUT_OF_FUEL;
	}
	assert_int_equal(ran_out, need - 1); /* n = need is just enough */
}

/* Fuel runs out at every n up to what "mixed" (loops, leaf functions,
 * calls, a recursion) needs, and each shape of branch back to a loop:
 * a loop whose body is a call and a br_if, br_if carrying a value, br_table
 * to a loop (without and with a value, the loop among several targets),
 * nested loops with two branches back to the outer one (from inside the
 * inner loop and at the end). */
static void test_fuel_exact(void **state)
{
	(void)state;
	NEED_JIT();
	struct ctx c[3];
	open_ctx(&c[0], CAPSA_WASM_ENGINE_INTERP, -1);
	open_ctx(&c[1], CAPSA_WASM_ENGINE_JIT, INT64_MAX - 1);
	open_ctx(&c[2], CAPSA_WASM_ENGINE_JIT, -1);
	assert_int_equal(wasm_jit_uncompiled(c[1].in), 0);
	fuel_exact(c, "mixed", 20, 100);
	fuel_exact(c, "onlybrif", 30, 50);
	fuel_exact(c, "brifval", 30, 25);
	fuel_exact(c, "table", 30, 25);
	fuel_exact(c, "tableval", 30, 25);
	fuel_exact(c, "nested", 20, 100);
	/* Counted loops, of every accepted shape and some rejected ones. */
	static const char *const counted[] = {"c_ltu", "c_lts3",   "c_leu4", "c_gts",
	                                      "c_geu", "c_ne",     "c_down", "c_wrongsign",
	                                      "c_ne2", "c_boundw", "c_brout"};
	for (size_t i = 0; i < sizeof(counted) / sizeof(counted[0]); i++)
		fuel_exact(c, counted[i], 30, 15);
	fuel_exact(c, "c_ne4", 0, 15);
	/* constant step and bound: no clamp when the fuel covers any start */
	fuel_exact(c, "c_fast", 0, 15);
	fuel_exact(c, "c_fast", -2, 15); /* the first step wraps around */
	fuel_exact(c, "c_fast", 100, 0);
	fuel_exact(c, "c_fastne", 0, 10);
	/* Constant bound, step in a local: no clamp when the fuel covers the
	 * bound, the step's range checked (d = 2^32 - 1000: the largest taken;
	 * -20 wraps around: 30, 10, -10). Nests: a counted loop holding one
	 * (its back edges charged at its exit); many outer iterations over
	 * short inner ones (the reservation holds); an inner loop starting
	 * past its bound (from i = 8) charges the outer loop's back edges. */
	static const struct {
		const char *name;
		int32_t a;
		int64_t min_need;
	} bounded[] = {{"c_fastb", 7, 100},  {"c_fastb", 950, 0},   {"c_fastb", -1000, 0},
	               {"c_fastb", -999, 0}, {"c_fastb", -20, 2},   {"c_fastbs", 40, 10},
	               {"c_fastbs", 5, 0},   {"c_fastb2", 900, 10}, {"c_nest", 6, 300},
	               {"c_nest", 35, 10},   {"c_nestr", 0, 1500},  {"c_nests", 6, 40}};
	for (size_t i = 0; i < sizeof(bounded) / sizeof(bounded[0]); i++)
		fuel_exact(c, bounded[i].name, bounded[i].a, bounded[i].min_need);
	fuel_exact(c, "c_param", 30, 15); /* a loop with a parameter: not counted */
	/* Only the instance compiled without checks went to the interpreter. */
	assert_null(fn(&c[1], "mixed")->code);
	assert_non_null(fn(&c[2], "mixed")->code);
	for (int e = 0; e < 3; e++)
		close_ctx(&c[e]);
}

/* The same outcome (trap, result, place, fuel left) in every engine for
 * each budget of ns: for loops that do not finish or that trap. */
static void fuel_same_at(struct ctx *c, const char *name, int32_t a, const int64_t *ns, int count)
{
	for (int i = 0; i < count; i++) {
		struct outcome o[3];
		for (int e = 0; e < 3; e++)
			o[e] = run_fuel(&c[e], name, a, ns[i]);
		for (int e = 1; e < 3; e++)
			same_outcome(name, ns[i], e, &o[e], &o[0]);
	}
}

static void fuel_same(struct ctx *c, const char *name, int32_t a, int64_t upto)
{
	for (int64_t n = 1; n <= upto; n++)
		fuel_same_at(c, name, a, &n, 1);
}

/* Counted loops that trap in their body (an access beyond memory, caught
 * by the guard region or by an explicit check, a division by zero) leave
 * the interpreter's fuel; loops that would wrap around near INT32_MAX or
 * UINT32_MAX, whose step is 0 or, with ne, does not divide the distance
 * to the bound, stop at its points; budgets across the
 * slices in which fuel is taken from the store. */
static void fuel_traps(int no_guard)
{
	struct ctx c[3];
	if (no_guard)
		setenv("CAPSA_WASM_NO_GUARD", "1", 1);
	open_ctx(&c[0], CAPSA_WASM_ENGINE_INTERP, -1);
	open_ctx(&c[1], CAPSA_WASM_ENGINE_JIT, INT64_MAX - 1);
	open_ctx(&c[2], CAPSA_WASM_ENGINE_JIT, -1);
	unsetenv("CAPSA_WASM_NO_GUARD");
	static const char *const trapping[] = {"c_oob", "c_oob3", "c_div"};
	for (size_t i = 0; i < sizeof(trapping) / sizeof(trapping[0]); i++) {
		struct outcome o = run_fuel(&c[1], trapping[i], 30, 1000);
		assert_int_not_equal(o.t, CAPSA_WASM_OK);
		assert_int_not_equal(o.t, CAPSA_WASM_TRAP_OUT_OF_FUEL);
		fuel_same(c, trapping[i], 30, 40);
	}
	fuel_same(c, "c_zero", 5, 60);
	fuel_same(c, "c_ne4", 2, 60); /* the step does not divide the distance */
	fuel_same(c, "c_fastne", 4, 60);
	fuel_same(c, "c_fastb", 0, 60);          /* a step of 0 */
	fuel_same(c, "c_fastbs", INT32_MIN, 60); /* the first step wraps around */
	fuel_same(c, "c_fastb2", -3, 60);
	/* nests: traps in the outer and the inner loop's body, and an inner
	 * step of 0 (the inner loop then charges the outer one's back edges
	 * and runs checked), under budgets around the reservation too */
	fuel_same(c, "c_nesto", 6, 700);
	fuel_same(c, "c_nestt", 6, 250);
	fuel_same(c, "c_nest", 0, 60); /* inner steps of 2^32 - 4 to 2^32 - 1, then 0 (i = 5) */
	static const int64_t nestz[] = {199, 200, 201, 1000, 4095, 4096, 4097, 70000};
	fuel_same_at(c, "c_nest", 0, nestz, sizeof(nestz) / sizeof(nestz[0]));
	fuel_same_at(c, "c_nest", 4, nestz, sizeof(nestz) / sizeof(nestz[0]));
	fuel_same(c, "c_wraps", 0, 60);
	fuel_same(c, "c_wrapu", 0, 60);
	static const int64_t big[] = {16383, 16384, 16385, 16386, 32769,
	                              40000, 50000, 50001, 50002};
	fuel_same_at(c, "c_ltu", 50000, big, sizeof(big) / sizeof(big[0]));
	fuel_same_at(c, "c_lts3", 50000, big, sizeof(big) / sizeof(big[0]));
	fuel_same_at(c, "c_wraps", 0, big, sizeof(big) / sizeof(big[0]));
	/* budgets that cover the bound (a budget is all the fuel left) */
	static const int64_t wide[] = {999, 1000, 1001, 1002, 4096, 1 << 20, 1ll << 31, 1ll << 40};
	static const struct {
		const char *name;
		int32_t a;
	} fast[] = {{"c_fastb", 7},    {"c_fastb", -20},   {"c_fastb", -1000}, {"c_fastb", -999},
	            {"c_fastb2", 995}, {"c_fastb2", 1000}, {"c_fastb2", -3},   {"c_fastbs", 40},
	            {"c_fastbs", 2},   {"c_ltu", 700},     {"c_fast", 0},      {"c_fastne", 0},
	            {"c_nest", 6},     {"c_nest", 38},     {"c_nesto", 6},     {"c_nestt", 6},
	            {"c_nestr", 0},    {"c_nests", 6}};
	for (size_t i = 0; i < sizeof(fast) / sizeof(fast[0]); i++)
		fuel_same_at(c, fast[i].name, fast[i].a, wide, sizeof(wide) / sizeof(wide[0]));
	for (int e = 0; e < 3; e++)
		close_ctx(&c[e]);
}

static void test_fuel_counted_traps(void **state)
{
	(void)state;
	NEED_JIT();
	fuel_traps(0);
	fuel_traps(1);
}

/* Code compiled without fuel checks, called with a fuel limit: the
 * interpreter runs it, and unbounded recursion ends in "call stack
 * exhausted" from the interpreter's own frame stack, not in a host stack
 * overflow (one host frame per wasm call). Without the limit, the compiled
 * code gives the same trap. */
static void test_unmetered_code_metered_call(void **state)
{
	(void)state;
	NEED_JIT();
	struct ctx c;
	open_ctx(&c, CAPSA_WASM_ENGINE_JIT, -1);
	struct capsa_wasm_trap_info info;
	for (int metered = 1; metered >= 0; metered--) {
		union capsa_wasm_val v[1] = {{.i32 = 0}};
		capsa_wasm_store_set_fuel(c.s, metered ? (int64_t)1 << 40 : -1);
		memset(&info, 0, sizeof(info));
		assert_int_equal(capsa_wasm_call(c.s, fn(&c, "runaway"), v, &info),
		                 CAPSA_WASM_TRAP_STACK_EXHAUSTED);
		if (metered)
			assert_true(capsa_wasm_store_fuel(c.s) < (int64_t)1 << 40);
	}
	close_ctx(&c);
}

static volatile sig_atomic_t urg_seen;

static void on_urg(int sig)
{
	(void)sig;
	urg_seen++;
}

/* SIGURG raised outside compiled code reaches the handler installed
 * before the runtime's, also after compiled code was interrupted. */
static void test_signal_chain(void **state)
{
	(void)state;
	NEED_JIT();
	struct ctx c;
	open_ctx(&c, CAPSA_WASM_ENGINE_JIT, -1);
	urg_seen = 0;
	raise(SIGURG);
	assert_int_equal(urg_seen, 1);
	close_ctx(&c);
}

int main(void)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_urg;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGURG, &sa, NULL);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_interrupt_tight_loop),
	    cmocka_unit_test(test_interrupt_recursion),
	    cmocka_unit_test(test_interrupt_host_loop),
	    cmocka_unit_test(test_interrupt_interpreter),
	    cmocka_unit_test(test_fuel_exact),
	    cmocka_unit_test(test_fuel_counted_traps),
	    cmocka_unit_test(test_unmetered_code_metered_call),
	    cmocka_unit_test(test_signal_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
