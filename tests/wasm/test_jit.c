/* SPDX-License-Identifier: Apache-2.0 */
/* The compiler to machine code against the interpreter: the same results,
 * the same traps named with the same function and byte offset, fuel counted
 * alike, interrupts, deep recursion, calls into host functions that call
 * back into wasm, and a SIMD function called both ways. */
#include "common/testutil.h"
#include "common/wat.h"

#include "capsa/wasm.h"
#include "wasm/jit/jit.h"
#include "wasm/jit/x64.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *wat =
    "(module\n"
    "  (import \"env\" \"host\" (func $host (param i32) (result i32)))\n"
    "  (memory 1)\n"
    "  (type $t0 (func (result i32)))\n"
    "  (type $t1 (func (param i32) (result i32)))\n"
    "  (table 4 funcref)\n"
    "  (elem (i32.const 0) $seven $simd)\n"
    "  (func $seven (result i32) i32.const 7)\n"
    "  (func $div (export \"div\") (param i32 i32) (result i32)\n"
    "    local.get 0 local.get 1 i32.div_s)\n"
    "  (func (export \"rem\") (param i64 i64) (result i64)\n"
    "    local.get 0 local.get 1 i64.rem_s)\n"
    "  (func (export \"load\") (param i32) (result i32)\n"
    "    local.get 0 i32.load offset=4)\n"
    "  (func (export \"store\") (param i32)\n"
    "    local.get 0 i64.const 1 i64.store8 offset=3)\n"
    "  (func (export \"unreach\") nop unreachable)\n"
    "  (func (export \"ind\") (param i32) (result i32)\n"
    "    local.get 0 call_indirect (type $t0))\n"
    "  (func (export \"conv\") (param f64) (result i32)\n"
    "    local.get 0 i32.trunc_f64_s)\n"
    "  (func $rec (export \"rec\") (param i32) (result i32)\n"
    "    local.get 0 i32.const 1 i32.add call $rec)\n"
    "  (func $count (export \"count\") (param i32) (result i32) (local i32)\n"
    "    (loop $l local.get 1 i32.const 1 i32.add local.tee 1\n"
    "      local.get 0 i32.lt_u br_if $l)\n"
    "    local.get 1)\n"
    "  (func (export \"spin\") (loop br 0))\n"
    "  (func (export \"viahost\") (param i32) (result i32)\n"
    "    local.get 0 call $host i32.const 1 i32.add)\n"
    "  (func $simd (export \"simd\") (param i32) (result i32)\n"
    "    local.get 0 i32x4.splat i32x4.extract_lane 1 call $seven i32.add\n"
    "    i32.const 3 call $count i32.add)\n"
    "  (func (export \"callsimd\") (param i32) (result i32)\n"
    "    local.get 0 call $simd local.get 0 i32.const 1 call_indirect (type $t1) i32.add)\n"
    "  (func (export \"simdtrap\") (param i32) (result i32)\n"
    "    local.get 0 i32x4.splat i32x4.extract_lane 2 i32.const 0 call $div))\n";

/* Calls with many arguments of both kinds (the first ones travel in
 * registers, in any order, from temporaries, register locals, frame locals
 * and constants), single results of every type, deep chains of them, and
 * traps in the middle. */
static const char *calls_wat =
    "(module\n"
    "  (memory 1)\n"
    "  (type $tm (func (param i32 i32 i32 f64 i32 i32) (result i32)))\n"
    "  (table 1 funcref)\n"
    "  (elem (i32.const 0) $many)\n"
    /* More than 16 locals: the direct entry stores the arguments that came
     * in registers to their cells, the body reads every one from there. */
    "  (func $many (param i32 i32 i32 f64 i32 i32) (result i32)\n"
    "    (local i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)\n"
    "    local.get 0 local.set 6 local.get 1 local.set 12 local.get 5 local.set 22\n"
    "    local.get 6 local.get 12 i32.const 2 i32.mul i32.sub\n"
    "    local.get 2 i32.const 3 i32.mul i32.add\n"
    "    local.get 3 i32.trunc_f64_s i32.const 5 i32.mul i32.add\n"
    "    local.get 4 i32.const 7 i32.mul i32.add\n"
    "    local.get 22 i32.const 11 i32.mul i32.sub local.get 15 i32.add)\n"
    "  (func (export \"zext\") (param i32 i64) (result i64)\n"
    "    (local i32 i32 i32 i32 i32 i32 i32 i32)\n"
    /* locals 2-9 take the registers; 0 and 1 stay in the frame */
    "    local.get 0 i32.const 3 i32.mul local.tee 2 i32.const 5 i32.add local.tee 3\n"
    "    i32.const 7 i32.xor local.tee 4 i32.const 1 i32.shl local.tee 5\n"
    "    i32.const -1 i32.xor local.tee 6 i32.const 9 i32.sub local.tee 7\n"
    "    i32.const 11 i32.mul local.tee 8 i32.const 13 i32.add local.set 9\n"
    "    local.get 3 i32.const 0xffff i32.and local.set 3\n"
    "    local.get 0 i32.const 0xff i32.and i64.extend_i32_u\n"
    "    local.get 2 i32.const 0xffff i32.and i64.extend_i32_u i64.const 8 i64.shl i64.add\n"
    "    local.get 1 i64.const 0xffffffff i64.and i64.xor\n"
    "    local.get 1 i64.const 3 i64.mul i64.const 0xffffffff i64.and i64.add\n"
    "    local.get 1 i64.const 0xffff i64.and i64.const 24 i64.shl i64.xor\n"
    "    local.get 0 i32.const 1 i32.add block end i32.const 0xff i32.and\n"
    "    i64.extend_i32_u i64.const 40 i64.shl i64.add\n"
    "    local.get 4 local.get 5 i32.add local.get 6 i32.add local.get 7 i32.add\n"
    "    local.get 8 i32.add local.get 9 i32.add i32.const 255 i32.and\n"
    "    local.get 2 local.get 4 i32.add local.get 5 i32.xor local.get 6 i32.add\n"
    "    local.get 7 i32.sub local.get 8 i32.xor local.get 9 i32.add i32.add\n"
    "    local.get 3 i32.add i64.extend_i32_u i64.const 48 i64.shl i64.xor)\n"
    "  (func (export \"ldz\") (param i32) (result i32) (local i32)\n"
    /* loads tested against zero by br_if, if and select */
    "    block local.get 0 i32.load8_u i32.eqz br_if 0\n"
    "      local.get 1 i32.const 1 i32.add local.set 1 end\n"
    "    local.get 0 i32.load8_s i32.eqz if local.get 1 i32.const 2 i32.add local.set 1 end\n"
    "    local.get 1 i32.const 4 i32.add local.get 1 local.get 0 i32.load16_s i32.eqz select\n"
    "    local.set 1\n"
    "    block local.get 0 i64.load32_u offset=1 i64.eqz br_if 0\n"
    "      local.get 1 i32.const 8 i32.add local.set 1 end\n"
    "    local.get 0 i64.load8_s offset=3 i64.eqz if local.get 1 i32.const 16 i32.add\n"
    "      local.set 1 end\n"
    "    f64.const 1.5 f64.const 2.5 local.get 0 i32.load i32.eqz select i32.trunc_f64_s\n"
    "    local.get 1 i32.add local.set 1\n"
    "    block local.get 0 i64.load offset=2 i64.eqz br_if 0\n"
    "      local.get 1 i32.const 128 i32.add local.set 1 end\n"
    "    local.get 0 i64.load16_u i64.eqz if (result i32) i32.const 64 else i32.const 32 end\n"
    "    local.get 1 i32.add)\n"
    "  (func (export \"many\") (param i32 i32) (result i32) (local i32)\n"
    "    local.get 0 i32.const 1 i32.add local.set 2\n"
    "    local.get 2 local.get 1 local.get 0 i32.const 3 i32.mul\n"
    "    local.get 1 f64.convert_i32_s f64.const 0.5 f64.mul\n"
    "    local.get 0 local.get 1 i32.xor local.get 1 i32.const 9 i32.sub call $many\n"
    "    local.get 1 local.get 2 i32.const -4 f64.const -2.75 i32.const 100\n"
    "    local.get 0 i32.const 0 call_indirect (type $tm) i32.const 1000 i32.mul i32.add\n"
    "    local.get 2 i32.add)\n"
    "  (data (i32.const 96) \"\\11\\22\\33\\44\\55\\66\\77\\88\\99\\aa\\bb\\cc\\dd\\ee\\ff\\01\")\n"
    "  (data (i32.const 112) "
    "\"\\00\\00\\00\\00\\00\\00\\f8\\3f\\23\\45\\67\\89\\ab\\cd\\ef\\fe\")\n"
    "  (func (export \"ldop\") (param i32 i64) (result i64)\n"
    "    local.get 1 i64.const 3 i64.mul local.get 0 i64.load offset=8 i64.add\n"
    "    local.get 1 i64.const 5 i64.add local.get 0 i64.load i64.xor i64.add\n"
    "    local.get 1 f64.convert_i64_s f64.const 2 f64.mul local.get 0 f64.load offset=16 f64.sub\n"
    "    f64.const 0.5 f64.add local.get 0 f64.load offset=16 f64.div i64.trunc_sat_f64_s i64.add\n"
    "    local.get 0 i32.const 7 i32.mul local.get 0 i32.load offset=4 i32.sub\n"
    "    local.get 0 i32.load offset=2 i32.and i64.extend_i32_u i64.add\n"
    "    local.get 1 f32.convert_i64_s f32.const 3 f32.mul local.get 0 f32.load offset=12 f32.mul\n"
    "    i64.trunc_sat_f32_s i64.add)\n"
    "  (func $mix (param i32 i64 f32 f64 i32 i64 f64 f32 i32 f64 i32) (result f64)\n"
    "    local.get 0 f64.convert_i32_s local.get 1 f64.convert_i64_s f64.add\n"
    "    local.get 2 f64.promote_f32 f64.const 3 f64.mul f64.add\n"
    "    local.get 3 f64.const 5 f64.mul f64.add\n"
    "    local.get 4 f64.convert_i32_s f64.const 7 f64.mul f64.add\n"
    "    local.get 5 f64.convert_i64_s f64.const 11 f64.mul f64.add\n"
    "    local.get 6 f64.const 13 f64.mul f64.add\n"
    "    local.get 7 f64.promote_f32 f64.const 17 f64.mul f64.add\n"
    "    local.get 8 f64.convert_i32_s f64.const 19 f64.mul f64.add\n"
    "    local.get 9 f64.const 23 f64.mul f64.add\n"
    "    local.get 10 f64.convert_i32_s f64.const 29 f64.mul f64.add)\n"
    "  (func $rot (param i32 i32 i32 i32 i32) (result i32)\n"
    "    local.get 0 local.get 1 i32.const 3 i32.mul i32.add local.get 2 i32.const 5 i32.mul\n"
    "    i32.add local.get 3 i32.const 7 i32.mul i32.add local.get 4 i32.const 11 i32.mul\n"
    "    i32.add)\n"
    "  (func (export \"pow2\") (param i32 i64) (result i64)\n"
    "  (local i64)\n"
    "  local.get 0 i32.const 4 i32.div_s i64.extend_i32_u\n"
    "  local.get 0 i32.const 8 i32.rem_s i64.extend_i32_u i64.add\n"
    "  local.get 0 i32.const 16 i32.div_u i64.extend_i32_u i64.add\n"
    "  local.get 0 i32.const 1073741824 i32.rem_u i64.extend_i32_u i64.add\n"
    "  local.get 0 i32.const 0x80000000 i32.div_s i64.extend_i32_u i64.add\n"
    "  local.get 0 i32.const 0x40000000 i32.div_s i64.extend_i32_u i64.add\n"
    "  local.get 0 i32.const 0x40000000 i32.rem_s i64.extend_i32_u i64.add\n"
    "  local.get 1 i64.const 0x100000000 i64.div_s i64.add\n"
    "  local.get 1 i64.const 0x100000000 i64.rem_s i64.add\n"
    "  local.get 1 i64.const 0x100000000 i64.rem_u i64.add\n"
    "  local.get 1 i64.const 0x100000000 i64.div_u i64.add\n"
    "  local.get 1 i64.const 2 i64.rem_s i64.add\n"
    "  local.get 1 i64.const 0x4000000000000000 i64.div_s i64.add\n"
    "  local.get 1 i64.const 0x8000000000000000 i64.div_u i64.add\n"
    "  local.get 1 i64.const 0x8000000000000000 i64.div_s i64.add)\n"
    "  (func $f32 (param f32 f32) (result f32) local.get 0 local.get 1 f32.sub)\n"
    "  (func $i64 (param i64 i32) (result i64) local.get 0 local.get 1 i64.extend_i32_u i64.mul)\n"
    "  (func (export \"mixed\") (param i32) (result f64) (local i32 i64 f32 f64)\n"
    "    local.get 0 i32.const 1 i32.add local.set 1\n"
    "    local.get 0 i64.extend_i32_s i64.const 9 i64.mul local.set 2\n"
    "    local.get 0 f32.convert_i32_s local.set 3\n"
    "    local.get 0 f64.convert_i32_s f64.const 0.5 f64.add local.set 4\n"
    "    local.get 1 local.get 2 local.get 3 local.get 4\n"
    "    local.get 0 i32.const 2 i32.mul i64.const -4 f64.const 2.25 f32.const -1.5\n"
    "    local.get 1 local.get 0 i32.mul local.get 4 local.get 4 f64.add local.get 0\n"
    "    call $mix\n"
    "    local.get 3 local.get 3 f32.const 0.25 f32.mul call $f32 f64.promote_f32 f64.add\n"
    "    local.get 2 local.get 1 call $i64 f64.convert_i64_s f64.add)\n"
    "  (func (export \"perm\") (param i32 i32 i32 i32 i32) (result i32)\n"
    "    (local i32)\n"
    "    (loop $l\n"
    "      local.get 4 local.get 0 local.get 1 local.get 2 local.get 3 call $rot\n"
    "      local.get 1 local.get 2 local.get 3 local.get 4 local.get 0 call $rot i32.xor\n"
    "      local.get 5 local.get 4 local.get 3 local.get 0 local.get 1 call $rot i32.add\n"
    "      local.get 2 local.get 5 local.get 3 local.get 4 local.get 0 call $rot i32.xor\n"
    "      local.get 3 local.get 5 local.get 4 local.get 2 local.get 1 call $rot i32.add\n"
    "      local.get 5 i32.add local.set 5\n"
    "      local.get 0 local.set 4 local.get 1 local.set 0 local.get 2 local.set 1\n"
    "      local.get 3 local.set 2 local.get 5 local.set 3\n"
    "      local.get 5 i32.const 7 i32.rem_u br_if $l)\n"
    "    local.get 5)\n"
    "  (func $chain (export \"chain\") (param i32 i64 f64 i32 f32 i32) (result i64)\n"
    "    local.get 0 i32.eqz if (result i64)\n"
    "      local.get 1 local.get 2 i64.trunc_f64_s i64.add\n"
    "      local.get 4 i64.trunc_f32_s i64.add\n"
    "      i64.const 1000 local.get 5 i64.extend_i32_s i64.div_s i64.add\n"
    "    else\n"
    "      local.get 0 i32.const 1 i32.sub\n"
    "      local.get 1 local.get 0 i64.extend_i32_u i64.add\n"
    "      local.get 2 f64.const 0.5 f64.add\n"
    "      local.get 3 local.get 0 i32.xor\n"
    "      local.get 4 f32.const 1 f32.add\n"
    "      local.get 5 i32.const 1 i32.sub\n"
    "      call $chain local.get 3 i64.extend_i32_u i64.add\n"
    "    end))\n";

struct ctx {
	struct capsa_wasm_store *s;
	struct capsa_wasm_instance *in;
	struct capsa_wasm_module *m;
};

static struct capsa_wasm_func *fn(struct ctx *c, const char *name)
{
	struct capsa_wasm_extern x;
	assert_int_equal(capsa_wasm_instance_export(c->in, name, &x), 0);
	return x.u.func;
}

/* host(x): x < 0 fails; otherwise count(x) called back into wasm, or the
 * trap that call ended with. */
static enum capsa_wasm_trap host(struct capsa_wasm_caller *cl, void *env,
                                 union capsa_wasm_val *cells)
{
	struct ctx *c = env;
	(void)cl;
	if (cells[0].i32 < 0)
		return CAPSA_WASM_TRAP_HOST;
	if (cells[0].i32 == 1000000)
		return capsa_wasm_call(c->s, fn(c, "rec"), cells, NULL);
	return capsa_wasm_call(c->s, fn(c, "count"), cells, NULL);
}

static int resolve(void *env, const char *module, const char *name,
                   enum capsa_wasm_extern_kind kind, struct capsa_wasm_extern *out)
{
	struct ctx *c = env;
	static const uint8_t i32[] = {CAPSA_WASM_I32};
	struct capsa_wasm_functype t = {1, 1, i32, i32};
	struct err e = {0};
	if (strcmp(module, "env") || strcmp(name, "host") || kind != CAPSA_WASM_EXTERN_FUNC)
		return -1;
	out->kind = kind;
	out->u.func = capsa_wasm_func_new(c->s, &t, host, c, &e);
	return out->u.func ? 0 : -1;
}

static void open_text(struct ctx *c, enum capsa_wasm_engine eng, const char *text)
{
	struct err e = {0};
	struct capsa_wasm_limits lim = {.engine = eng, .call_depth = 5000};
	c->m = test_wat_load(text, &e);
	assert_non_null(c->m);
	c->s = capsa_wasm_store_new(&lim, &e);
	assert_non_null(c->s);
	/* Limited fuel while instantiating: the compiled code counts fuel,
	 * which the tests compare with the interpreter's count. */
	capsa_wasm_store_set_fuel(c->s, INT64_MAX - 1);
	c->in = capsa_wasm_instantiate(c->s, c->m, resolve, c, NULL, &e);
	assert_non_null(c->in);
	capsa_wasm_store_set_fuel(c->s, -1);
}

static void open_engine(struct ctx *c, enum capsa_wasm_engine eng)
{
	open_text(c, eng, wat);
}

static void close_engine(struct ctx *c)
{
	capsa_wasm_store_free(c->s);
	capsa_wasm_module_free(c->m);
}

static int setup(void **state)
{
	if (access("/usr/bin/wat2wasm", X_OK))
		return 0;
	if (!capsa_wasm_engine_available(CAPSA_WASM_ENGINE_JIT))
		return 0;
	struct ctx *c = calloc(2, sizeof(*c));
	open_engine(&c[0], CAPSA_WASM_ENGINE_JIT);
	open_engine(&c[1], CAPSA_WASM_ENGINE_INTERP);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	if (c) {
		close_engine(&c[0]);
		close_engine(&c[1]);
		free(c);
	}
	return 0;
}

#define NEED_JIT()                                                                                 \
	do {                                                                                       \
		if (!*state)                                                                       \
			skip_because("no JIT on this host, or wat2wasm (wabt) is missing");        \
	} while (0)

static void test_available(void **state)
{
	(void)state;
#if defined(__x86_64__) && defined(__linux__)
	assert_int_equal(capsa_wasm_engine_available(CAPSA_WASM_ENGINE_JIT), wasm_jit_host_ok());
#endif
	assert_true(capsa_wasm_engine_available(CAPSA_WASM_ENGINE_INTERP));
}

struct call {
	const char *name;
	union capsa_wasm_val args[2];
	enum capsa_wasm_trap want;
	int64_t result; /* when want is OK */
};

static const struct call calls[] = {
    {"div", {{.i32 = 7}, {.i32 = -2}}, CAPSA_WASM_OK, -3},
    {"div", {{.i32 = 7}, {.i32 = 0}}, CAPSA_WASM_TRAP_INT_DIV_ZERO, 0},
    {"div", {{.i32 = INT32_MIN}, {.i32 = -1}}, CAPSA_WASM_TRAP_INT_OVERFLOW, 0},
    {"rem", {{.i64 = INT64_MIN}, {.i64 = -1}}, CAPSA_WASM_OK, 0},
    {"rem", {{.i64 = -7}, {.i64 = 0}}, CAPSA_WASM_TRAP_INT_DIV_ZERO, 0},
    {"load", {{.i32 = 65532}}, CAPSA_WASM_TRAP_MEMORY_OOB, 0},
    {"load", {{.i32 = -1}}, CAPSA_WASM_TRAP_MEMORY_OOB, 0},
    {"load", {{.i32 = 65528}}, CAPSA_WASM_OK, 0},
    {"store", {{.i32 = 65533}}, CAPSA_WASM_TRAP_MEMORY_OOB, 0},
    {"unreach", {{0}}, CAPSA_WASM_TRAP_UNREACHABLE, 0},
    {"ind", {{.i32 = 0}}, CAPSA_WASM_OK, 7},
    {"ind", {{.i32 = 1}}, CAPSA_WASM_TRAP_INDIRECT_TYPE, 0},
    {"ind", {{.i32 = 2}}, CAPSA_WASM_TRAP_UNINITIALIZED_ELEMENT, 0},
    {"ind", {{.i32 = 9}}, CAPSA_WASM_TRAP_UNDEFINED_ELEMENT, 0},
    {"conv", {{.f64 = -2147483648.9}}, CAPSA_WASM_OK, INT32_MIN},
    {"conv", {{.f64 = 2147483648.0}}, CAPSA_WASM_TRAP_INT_OVERFLOW, 0},
    {"conv", {{.bits = 0x7ff8000000000000ull}}, CAPSA_WASM_TRAP_BAD_CONVERSION, 0},
    {"count", {{.i32 = 100000}}, CAPSA_WASM_OK, 100000},
    {"viahost", {{.i32 = 41}}, CAPSA_WASM_OK, 42},
    {"viahost", {{.i32 = -1}}, CAPSA_WASM_TRAP_HOST, 0},
    {"viahost", {{.i32 = 1000000}}, CAPSA_WASM_TRAP_STACK_EXHAUSTED, 0},
    {"simd", {{.i32 = 5}}, CAPSA_WASM_OK, 15},
    {"callsimd", {{.i32 = 5}}, CAPSA_WASM_OK, 30},
    {"simdtrap", {{.i32 = 5}}, CAPSA_WASM_TRAP_INT_DIV_ZERO, 0},
    {"rec", {{.i32 = 0}}, CAPSA_WASM_TRAP_STACK_EXHAUSTED, 0},
    {"count", {{.i32 = 3}}, CAPSA_WASM_OK, 3},
};

/* Every call gives the same result or the same trap in the same place
 * under both engines (a stack overflow is named where each engine notices
 * it: the compiled code at the callee's entry). */
static void test_same_as_interpreter(void **state)
{
	NEED_JIT();
	struct ctx *c = *state;
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		const struct call *k = &calls[i];
		struct capsa_wasm_trap_info info[2];
		union capsa_wasm_val cells[2][2];
		for (int e = 0; e < 2; e++) {
			memcpy(cells[e], k->args, sizeof(k->args));
			enum capsa_wasm_trap t =
			    capsa_wasm_call(c[e].s, fn(&c[e], k->name), cells[e], &info[e]);
			if (t != k->want)
				printf("# %s #%zu under %s: %s\n", k->name, i, e ? "interp" : "jit",
				       capsa_wasm_trap_name(t));
			assert_int_equal(t, k->want);
		}
		if (k->want == CAPSA_WASM_OK) {
			int wide = !strcmp(k->name, "rem");
			if (strcmp(k->name, "load"))
				assert_int_equal(wide ? cells[0][0].i64 : cells[0][0].i32,
				                 k->result);
			assert_int_equal(cells[0][0].i64, cells[1][0].i64);
			continue;
		}
		if (k->want == CAPSA_WASM_TRAP_STACK_EXHAUSTED)
			continue;
		assert_int_equal(info[0].trap, info[1].trap);
		assert_int_equal(info[0].func_index, info[1].func_index);
		assert_int_equal(info[0].offset, info[1].offset);
		assert_true(info[0].offset > 0);
	}
	/* Every function compiled, the SIMD one too. */
	assert_int_equal(wasm_jit_uncompiled(c[0].in), 0);
	assert_int_equal(wasm_jit_uncompiled(c[1].in), 0);
}

/* Functions are compiled on their first call, so which is compiled first
 * (and calls the others through their entry stubs or directly) follows
 * the order of the calls: in every order, and compiled all at once, each
 * call gives the interpreter's result or trap, named at the same place
 * (the side table of sites grows in code order). */
static void test_lazy_any_order(void **state)
{
	NEED_JIT();
	struct ctx *c = *state;
	const size_t n = sizeof(calls) / sizeof(calls[0]);
	for (size_t first = 0; first <= n; first += 3) {
		struct ctx j = {0};
		struct err e = {0};
		struct capsa_wasm_limits lim = {.engine = CAPSA_WASM_ENGINE_JIT,
		                                .call_depth = 5000};
		j.m = c[0].m;
		j.s = capsa_wasm_store_new(&lim, &e);
		assert_non_null(j.s);
		if (first == n) /* the last round: everything at instantiation */
			assert_int_equal(wasm_jit_eager(j.s, &e), 0);
		j.in = capsa_wasm_instantiate(j.s, j.m, resolve, &j, NULL, &e);
		assert_non_null(j.in);
		for (uint32_t i = 0; i < j.m->nfuncs - j.m->nimp_funcs; i++)
			assert_non_null(j.in->funcs[j.m->nimp_funcs + i]->jit);
		for (size_t k = 0; k < n; k++) {
			const struct call *cl = &calls[(first + k) % n];
			struct capsa_wasm_trap_info info[2];
			union capsa_wasm_val cells[2][2];
			struct ctx *eng[2] = {&j, &c[1]};
			for (int x = 0; x < 2; x++) {
				memcpy(cells[x], cl->args, sizeof(cl->args));
				assert_int_equal(capsa_wasm_call(eng[x]->s, fn(eng[x], cl->name),
				                                 cells[x], &info[x]),
				                 cl->want);
			}
			if (cl->want == CAPSA_WASM_OK) {
				assert_int_equal(cells[0][0].i64, cells[1][0].i64);
			} else if (cl->want != CAPSA_WASM_TRAP_STACK_EXHAUSTED) {
				assert_int_equal(info[0].func_index, info[1].func_index);
				assert_int_equal(info[0].offset, info[1].offset);
			}
		}
		assert_int_equal(wasm_jit_uncompiled(j.in), 0);
		capsa_wasm_store_free(j.s);
	}
}

/* A function the compiler leaves to the interpreter (its frame would pass
 * 4 MiB) when first called: the calls to it compiled before (pending) and
 * after go to its interpreter stub, capsa_wasm_call interprets it, and a
 * trap in it is named as by the interpreter. */
static void test_lazy_left_to_interpreter(void **state)
{
	NEED_JIT();
	const size_t nv = 270000, cap = 5 * nv + 1024;
	char *t = malloc(cap);
	assert_non_null(t);
	size_t n = (size_t)snprintf(t, cap, "(module (func $big (param i32) (result i32) (local");
	for (size_t i = 0; i < nv; i++)
		n += (size_t)snprintf(t + n, cap - n, " v128");
	snprintf(t + n, cap - n,
	         ") local.get 0 i32.eqz if unreachable end local.get 0 i32.const 1 i32.add)\n"
	         "(export \"big\" (func $big))\n"
	         "(func (export \"early\") (param i32) (result i32) local.get 0 call $big)\n"
	         "(func (export \"late\") (param i32) (result i32)\n"
	         "  local.get 0 call $big i32.const 10 i32.add))\n");
	struct ctx c[2];
	open_text(&c[0], CAPSA_WASM_ENGINE_JIT, t);
	open_text(&c[1], CAPSA_WASM_ENGINE_INTERP, t);
	free(t);
	static const struct {
		const char *name;
		int32_t arg, want;
	} seq[] = {
	    {"early", 5, 6}, {"late", 5, 16}, {"big", 7, 8}, {"early", 0, -1}, {"late", 0, -1}};
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		struct capsa_wasm_trap_info info[2];
		for (int e = 0; e < 2; e++) {
			union capsa_wasm_val cells[1] = {{.i32 = seq[i].arg}};
			enum capsa_wasm_trap tr =
			    capsa_wasm_call(c[e].s, fn(&c[e], seq[i].name), cells, &info[e]);
			assert_int_equal(tr, seq[i].want < 0 ? CAPSA_WASM_TRAP_UNREACHABLE
			                                     : CAPSA_WASM_OK);
			if (seq[i].want >= 0)
				assert_int_equal(cells[0].i32, seq[i].want);
		}
		if (seq[i].want < 0) {
			assert_int_equal(info[0].func_index, 0);
			assert_int_equal(info[0].func_index, info[1].func_index);
			assert_int_equal(info[0].offset, info[1].offset);
		}
	}
	assert_null(fn(&c[0], "big")->jit);
	assert_non_null(fn(&c[0], "early")->jit);
	assert_int_equal(wasm_jit_uncompiled(c[0].in), 1);
	close_engine(&c[0]);
	close_engine(&c[1]);
}

/* Whether defined function `name` (an export) has interpreter code. */
static int interpreted(struct ctx *c, const char *name)
{
	return fn(c, name)->code != NULL;
}

/* Loading only validates: a function gets the interpreter's code on its
 * first interpreted call (with the JIT, only those it left are), made once
 * per module and copied into each instance. */
static void test_interpreter_code_on_demand(void **state)
{
	NEED_JIT();
	struct err e = {0};
	struct capsa_wasm_module *m = test_wat_load(wat, &e);
	assert_non_null(m);
	uint32_t ndef = m->nfuncs - m->nimp_funcs;
	for (uint32_t i = 0; i < ndef; i++)
		assert_null(m->code[i].code);
	struct ctx jit = {.m = m}, interp = {.m = m}, again = {.m = m};
	struct capsa_wasm_limits lj = {.engine = CAPSA_WASM_ENGINE_JIT};
	struct capsa_wasm_limits li = {.engine = CAPSA_WASM_ENGINE_INTERP};
	jit.s = capsa_wasm_store_new(&lj, &e);
	assert_non_null(jit.s);
	jit.in = capsa_wasm_instantiate(jit.s, m, resolve, &jit, NULL, &e);
	assert_non_null(jit.in);
	assert_int_equal(m->ntranslated, 0);
	/* Every call, compiled or not, from both engines' entries. */
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		union capsa_wasm_val cells[2];
		memcpy(cells, calls[i].args, sizeof(cells));
		assert_int_equal(capsa_wasm_call(jit.s, fn(&jit, calls[i].name), cells, NULL),
		                 calls[i].want);
	}
	/* Exactly the functions the compiler left have interpreter code; the
	 * compiled ones they call ($seven, $count, $div) have none. */
	uint32_t left = wasm_jit_uncompiled(jit.in);
	assert_int_equal(m->ntranslated, left);
	for (uint32_t i = 0; i < ndef; i++) {
		const struct capsa_wasm_func *f = jit.in->funcs[m->nimp_funcs + i];
		assert_int_equal(f->code != NULL, f->jit == NULL);
		assert_int_equal(m->code[i].code != NULL, f->jit == NULL);
	}
	assert_false(interpreted(&jit, "div"));
	assert_false(interpreted(&jit, "count"));
	assert_int_equal(interpreted(&jit, "simd"), wasm_jit_uncompiled(jit.in) > 0);
	/* The interpreter on the same module: a function is translated when
	 * first called. */
	interp.s = capsa_wasm_store_new(&li, &e);
	assert_non_null(interp.s);
	interp.in = capsa_wasm_instantiate(interp.s, m, resolve, &interp, NULL, &e);
	assert_non_null(interp.in);
	assert_false(interpreted(&interp, "div"));
	union capsa_wasm_val cells[2] = {{.i32 = 84}, {.i32 = 2}};
	assert_int_equal(capsa_wasm_call(interp.s, fn(&interp, "div"), cells, NULL), CAPSA_WASM_OK);
	assert_int_equal(cells[0].i32, 42);
	assert_true(interpreted(&interp, "div"));
	assert_false(interpreted(&interp, "callsimd"));
	assert_int_equal(m->ntranslated, left + 1);
	cells[0].i32 = 5;
	assert_int_equal(capsa_wasm_call(interp.s, fn(&interp, "callsimd"), cells, NULL),
	                 CAPSA_WASM_OK);
	assert_int_equal(cells[0].i32, 30);
	assert_true(interpreted(&interp, "callsimd"));
	assert_true(interpreted(&interp, "count"));
	/* A second instance reuses the module's code: nothing translated. */
	uint32_t before = m->ntranslated;
	again.s = capsa_wasm_store_new(&li, &e);
	assert_non_null(again.s);
	again.in = capsa_wasm_instantiate(again.s, m, resolve, &again, NULL, &e);
	assert_non_null(again.in);
	cells[0].i32 = 5;
	assert_int_equal(capsa_wasm_call(again.s, fn(&again, "callsimd"), cells, NULL),
	                 CAPSA_WASM_OK);
	assert_int_equal(cells[0].i32, 30);
	assert_true(interpreted(&again, "callsimd"));
	assert_int_equal(m->ntranslated, before);
	capsa_wasm_store_free(again.s);
	capsa_wasm_store_free(interp.s);
	capsa_wasm_store_free(jit.s);
	capsa_wasm_module_free(m);
}

/* A module large enough to be compiled on two threads: a chain of calls
 * (direct and through the table) crossing from one half to the other, and
 * a trap in the last function, named alike under both engines. */
#define CHAIN 600
#define STEPS 40
static char *big_module(void)
{
	size_t cap = (size_t)CHAIN * (STEPS * 48 + 160) + 4096, n = 0;
	char *t = malloc(cap);
	assert_non_null(t);
	n += (size_t)snprintf(t + n, cap - n,
	                      "(module (type $t (func (param i32) (result i32)))\n"
	                      "(table %d funcref) (elem (i32.const 0)",
	                      CHAIN);
	for (int k = 0; k < CHAIN; k++)
		n += (size_t)snprintf(t + n, cap - n, " $f%d", k);
	n += (size_t)snprintf(t + n, cap - n,
	                      ")\n(func $f0 (param i32) (result i32) local.get 0)\n");
	for (int k = 1; k < CHAIN; k++) {
		n += (size_t)snprintf(t + n, cap - n, "(func $f%d (param i32) (result i32)", k);
		for (int i = 0; i < STEPS; i++)
			n += (size_t)snprintf(t + n, cap - n,
			                      " local.get 0 i32.const 1 i32.add local.set 0");
		if (k % 2)
			n += (size_t)snprintf(
			    t + n, cap - n, " local.get 0 i32.const %d call_indirect (type $t))\n",
			    k - 1);
		else
			n += (size_t)snprintf(t + n, cap - n, " local.get 0 call $f%d)\n", k - 1);
	}
	snprintf(t + n, cap - n,
	         "(func (export \"top\") (param i32) (result i32) local.get 0 call $f%d)\n"
	         "(func (export \"trap\") (param i32) (result i32)\n"
	         "  local.get 0 local.get 0 i32.const 1 i32.sub i32.div_u))\n",
	         CHAIN - 1);
	return t;
}

static void test_two_threads(void **state)
{
	NEED_JIT();
	struct err e = {0};
	char *text = big_module();
	struct capsa_wasm_module *m = test_wat_load(text, &e);
	free(text);
	assert_non_null(m);
	uint64_t bytes = 0;
	for (uint32_t i = 0; i < m->nfuncs - m->nimp_funcs; i++)
		bytes += m->code[i].body_len;
	assert_true(bytes >= WASM_JIT_PARALLEL_BYTES);
	struct capsa_wasm_trap_info info[2];
	for (int k = 0; k < 2; k++) {
		struct capsa_wasm_limits lim = {.engine = k ? CAPSA_WASM_ENGINE_INTERP
		                                            : CAPSA_WASM_ENGINE_JIT};
		struct capsa_wasm_store *s = capsa_wasm_store_new(&lim, &e);
		assert_non_null(s);
		if (!k) { /* compiled whole at instantiation, on two threads */
			assert_int_equal(wasm_jit_eager(s, &e), 0);
			assert_int_equal(wasm_jit_threads(s, 2, &e), 0);
		}
		struct capsa_wasm_instance *in = capsa_wasm_instantiate(s, m, NULL, NULL, NULL, &e);
		assert_non_null(in);
		if (!k)
			assert_int_equal(wasm_jit_uncompiled(in), 0);
		struct capsa_wasm_extern x;
		assert_int_equal(capsa_wasm_instance_export(in, "top", &x), 0);
		union capsa_wasm_val cells[1] = {{.i32 = 5}};
		assert_int_equal(capsa_wasm_call(s, x.u.func, cells, NULL), CAPSA_WASM_OK);
		assert_int_equal(cells[0].i32, 5 + STEPS * (CHAIN - 1));
		assert_int_equal(capsa_wasm_instance_export(in, "trap", &x), 0);
		cells[0].i32 = 1;
		assert_int_equal(capsa_wasm_call(s, x.u.func, cells, &info[k]),
		                 CAPSA_WASM_TRAP_INT_DIV_ZERO);
		capsa_wasm_store_free(s);
	}
	assert_int_equal(info[0].func_index, CHAIN + 1);
	assert_int_equal(info[0].func_index, info[1].func_index);
	assert_true(info[0].offset > 0);
	assert_int_equal(info[0].offset, info[1].offset);
	capsa_wasm_module_free(m);
}

/* The target of the rel32 branch whose opcode byte is at `at`. */
static int64_t rel_target(const struct xbuf *b, size_t at)
{
	int32_t rel;
	memcpy(&rel, b->p + at + 1, 4);
	return (int64_t)at + 5 + rel;
}

/* Joining the second thread's code: its bindings of shared labels, its own
 * labels and its fixups (to its labels and to the first buffer's) move to
 * where its code lands, whichever thread takes which functions. */
static void test_append_buffers(void **state)
{
	(void)state;
	struct xbuf a = {0}, b = {0};
	uint32_t l0 = x_label(&a), l1 = x_label(&a);
	for (int i = 0; i < 2; i++)
		x_label(&b); /* the shared labels, unbound in b */
	x_bind(&a, l0);
	xb_u8(&a, 0x90);
	x_jmp(&a, l1); /* at 1, to b's code */
	x_bind(&b, l1);
	uint32_t own = x_label(&b);
	x_jmp(&b, own); /* at 0 of b, to its own label */
	x_bind(&b, own);
	x_call_label(&b, l0); /* at 5 of b, to a's code */
	int64_t base = x_append(&a, &b, 2);
	assert_true(base >= 6);
	assert_int_equal(base % 16, 0);
	assert_int_equal(a.n, (size_t)base + 10);
	assert_int_equal(a.labels[l1], base);
	assert_int_equal(a.p[base - 1], 0xcc); /* padding */
	assert_int_equal(x_resolve(&a), 0);
	assert_int_equal(rel_target(&a, 1), base);
	assert_int_equal(rel_target(&a, (size_t)base), base + 5);
	assert_int_equal(a.p[base + 5], 0xe8);
	assert_int_equal(rel_target(&a, (size_t)base + 5), 0);
	/* a label bound in neither stays unbound: resolving fails */
	uint32_t lost = x_label(&b);
	x_jmp(&b, lost);
	assert_true(x_append(&a, &b, 2) > 0);
	assert_int_equal(x_resolve(&a), -1);
	xb_free(&a);
	xb_free(&b);
}

/* A provisional displacement (the v128 frame area's, completed at the end
 * of the function) is always encoded in 32 bits, small or not, and its
 * place is noted; an ordinary one takes the short form. */
static void test_late_displacement(void **state)
{
	(void)state;
	struct xbuf b = {0};
	x_load(&b, 1, RAX, xmem(RSP, 8)); /* 48 8b 44 24 08 */
	assert_int_equal(b.n, 5);
	assert_int_equal(b.nlates, 0);
	struct xm m = xmem(RSP, 8);
	m.late = 1;
	x_load(&b, 1, RAX, m); /* 48 8b 84 24 + disp32 */
	assert_int_equal(b.n, 5 + 8);
	assert_int_equal(b.nlates, 1);
	assert_int_equal(b.lates[0], 5 + 4);
	assert_int_equal(b.p[5 + 2], 0x84);
	int32_t d;
	memcpy(&d, b.p + b.lates[0], 4);
	assert_int_equal(d, 8);
	m = xmem(RBX, 0); /* [rbx] has a form without displacement */
	m.late = 1;
	x_sse_rm(&b, 0xf3, 0x0f6f, 3, m); /* f3 0f 6f 9b + disp32 */
	assert_int_equal(b.nlates, 2);
	assert_int_equal(b.lates[1], 13 + 4);
	assert_int_equal(b.p[13 + 3], 0x9b);
	assert_int_equal(b.n, 13 + 8);
	xb_free(&b);
}

/* Fuel: function entries and loop iterations, the same count under both. */
static void test_fuel(void **state)
{
	NEED_JIT();
	struct ctx *c = *state;
	int64_t left[2];
	for (int e = 0; e < 2; e++) {
		union capsa_wasm_val cells[2] = {{.i32 = 1000}};
		capsa_wasm_store_set_fuel(c[e].s, 5000);
		assert_int_equal(capsa_wasm_call(c[e].s, fn(&c[e], "count"), cells, NULL),
		                 CAPSA_WASM_OK);
		left[e] = capsa_wasm_store_fuel(c[e].s);
		cells[0].i32 = 41;
		assert_int_equal(capsa_wasm_call(c[e].s, fn(&c[e], "viahost"), cells, NULL),
		                 CAPSA_WASM_OK);
		assert_int_equal(cells[0].i32, 42);
		cells[0].i32 = 100000;
		assert_int_equal(capsa_wasm_call(c[e].s, fn(&c[e], "count"), cells, NULL),
		                 CAPSA_WASM_TRAP_OUT_OF_FUEL);
		assert_int_equal(capsa_wasm_store_fuel(c[e].s), 0);
		capsa_wasm_store_set_fuel(c[e].s, -1);
	}
	assert_int_equal(left[0], left[1]);
	assert_int_equal(left[0], 5000 - 1000); /* one entry, 999 back edges */
}

struct argcall {
	const char *name;
	union capsa_wasm_val args[6];
	enum capsa_wasm_trap want;
};

static const struct argcall argcalls[] = {
    {"mixed", {{.i32 = 3}}, CAPSA_WASM_OK},
    {"mixed", {{.i32 = -70000}}, CAPSA_WASM_OK},
    {"perm", {{.i32 = 1}, {.i32 = 2}, {.i32 = 3}, {.i32 = 4}, {.i32 = 5}}, CAPSA_WASM_OK},
    {"perm", {{.i32 = -9}, {.i32 = 77}, {.i32 = 0}, {.i32 = 1 << 30}, {.i32 = 6}}, CAPSA_WASM_OK},
    {"chain",
     {{.i32 = 1000}, {.i64 = 5}, {.f64 = 0.25}, {.i32 = 12345}, {.f32 = 2.0f}, {.i32 = 2000}},
     CAPSA_WASM_OK},
    /* the division by zero at the bottom of a 1000-deep chain */
    {"chain",
     {{.i32 = 1000}, {.i64 = 5}, {.f64 = 0.25}, {.i32 = 1}, {.f32 = 2.0f}, {.i32 = 1000}},
     CAPSA_WASM_TRAP_INT_DIV_ZERO},
    /* i64.trunc_f64_s of a value out of range at the bottom */
    {"chain",
     {{.i32 = 10}, {.i64 = 5}, {.f64 = 1e300}, {.i32 = 1}, {.f32 = 2.0f}, {.i32 = 100}},
     CAPSA_WASM_TRAP_INT_OVERFLOW},
    {"pow2", {{.i32 = -7}, {.i64 = -9}}, CAPSA_WASM_OK},
    {"pow2", {{.i32 = 7}, {.i64 = 9}}, CAPSA_WASM_OK},
    {"pow2", {{.i32 = INT32_MIN}, {.i64 = INT64_MIN}}, CAPSA_WASM_OK},
    {"pow2", {{.i32 = INT32_MAX}, {.i64 = INT64_MAX}}, CAPSA_WASM_OK},
    {"pow2", {{.i32 = -1}, {.i64 = -1}}, CAPSA_WASM_OK},
    {"pow2", {{.i32 = 123456789}, {.i64 = -81985529216486895}}, CAPSA_WASM_OK},
    {"pow2", {{.i32 = -123456789}, {.i64 = 81985529216486895}}, CAPSA_WASM_OK},
    {"ldop", {{.i32 = 96}, {.i64 = 1234567}}, CAPSA_WASM_OK},
    {"ldop", {{.i32 = 97}, {.i64 = -99}}, CAPSA_WASM_OK},
    {"ldop", {{.i32 = 65520}, {.i64 = 1}}, CAPSA_WASM_TRAP_MEMORY_OOB},
    {"ldop", {{.i32 = 65524}, {.i64 = 1}}, CAPSA_WASM_TRAP_MEMORY_OOB},
    {"ldop", {{.i32 = -1}, {.i64 = 1}}, CAPSA_WASM_TRAP_MEMORY_OOB},
    {"zext", {{.i32 = 0x12345678}, {.i64 = (int64_t)0x8000000180000001ull}}, CAPSA_WASM_OK},
    {"zext", {{.i32 = -1}, {.i64 = -1}}, CAPSA_WASM_OK},
    {"zext", {{.i32 = INT32_MIN}, {.i64 = INT64_MIN}}, CAPSA_WASM_OK},
    {"zext", {{.i32 = 0}, {.i64 = 0}}, CAPSA_WASM_OK},
    {"zext", {{.i32 = 0xff80}, {.i64 = 0x7fff00ff}}, CAPSA_WASM_OK},
    {"ldz", {{.i32 = 96}}, CAPSA_WASM_OK},
    {"ldz", {{.i32 = 0}}, CAPSA_WASM_OK},
    {"ldz", {{.i32 = 110}}, CAPSA_WASM_OK},
    {"ldz", {{.i32 = 112}}, CAPSA_WASM_OK},
    {"ldz", {{.i32 = 113}}, CAPSA_WASM_OK},
    {"ldz", {{.i32 = 116}}, CAPSA_WASM_OK},
    {"ldz", {{.i32 = 65535}}, CAPSA_WASM_TRAP_MEMORY_OOB},
    {"ldz", {{.i32 = 65532}}, CAPSA_WASM_TRAP_MEMORY_OOB},
    {"ldz", {{.i32 = -1}}, CAPSA_WASM_TRAP_MEMORY_OOB},
    {"many", {{.i32 = 5}, {.i32 = -3}}, CAPSA_WASM_OK},
    {"many", {{.i32 = INT32_MAX}, {.i32 = INT32_MIN}}, CAPSA_WASM_OK},
    /* deeper than the call depth limit (5000) */
    {"chain",
     {{.i32 = 6000}, {.i64 = 5}, {.f64 = 0.25}, {.i32 = 1}, {.f32 = 2.0f}, {.i32 = 9000}},
     CAPSA_WASM_TRAP_STACK_EXHAUSTED},
};

/* Direct calls passing arguments and results in registers: the same
 * results, traps (function and offset), fuel, as the interpreter; and fuel
 * running out at every point of a call-heavy run stops both engines at the
 * same instruction. */
static void test_register_calls(void **state)
{
	NEED_JIT();
	struct ctx c[2];
	open_text(&c[0], CAPSA_WASM_ENGINE_JIT, calls_wat);
	open_text(&c[1], CAPSA_WASM_ENGINE_INTERP, calls_wat);
	assert_int_equal(wasm_jit_uncompiled(c[0].in), 0);
	for (size_t i = 0; i < sizeof(argcalls) / sizeof(argcalls[0]); i++) {
		const struct argcall *k = &argcalls[i];
		struct capsa_wasm_trap_info info[2];
		union capsa_wasm_val cells[2][6];
		enum capsa_wasm_trap t[2];
		int64_t fuel[2];
		for (int e = 0; e < 2; e++) {
			memcpy(cells[e], k->args, sizeof(k->args));
			capsa_wasm_store_set_fuel(c[e].s, 1000000);
			t[e] = capsa_wasm_call(c[e].s, fn(&c[e], k->name), cells[e], &info[e]);
			fuel[e] = capsa_wasm_store_fuel(c[e].s);
			capsa_wasm_store_set_fuel(c[e].s, -1);
		}
		if (t[0] != k->want || t[1] != k->want)
			printf("# %s #%zu: jit %s, interp %s\n", k->name, i,
			       capsa_wasm_trap_name(t[0]), capsa_wasm_trap_name(t[1]));
		assert_int_equal(t[0], k->want);
		assert_int_equal(t[1], k->want);
		assert_int_equal(fuel[0], fuel[1]);
		if (k->want == CAPSA_WASM_OK) {
			assert_int_equal(cells[0][0].i64, cells[1][0].i64);
		} else if (k->want != CAPSA_WASM_TRAP_STACK_EXHAUSTED) {
			assert_int_equal(info[0].func_index, info[1].func_index);
			assert_int_equal(info[0].offset, info[1].offset);
		}
	}
	/* Out of fuel after n units, for every n the run needs: the same
	 * trap at the same place (or the same result once n suffices). */
	for (int64_t n = 1; n < 400; n += 3) {
		struct capsa_wasm_trap_info info[2];
		union capsa_wasm_val cells[2][6];
		enum capsa_wasm_trap t[2];
		for (int e = 0; e < 2; e++) {
			memcpy(cells[e], argcalls[2].args, sizeof(argcalls[2].args));
			capsa_wasm_store_set_fuel(c[e].s, n);
			t[e] = capsa_wasm_call(c[e].s, fn(&c[e], "perm"), cells[e], &info[e]);
			capsa_wasm_store_set_fuel(c[e].s, -1);
		}
		assert_int_equal(t[0], t[1]);
		if (t[0] == CAPSA_WASM_OK) {
			assert_int_equal(cells[0][0].i32, cells[1][0].i32);
		} else {
			assert_int_equal(t[0], CAPSA_WASM_TRAP_OUT_OF_FUEL);
			assert_int_equal(info[0].func_index, info[1].func_index);
			assert_int_equal(info[0].offset, info[1].offset);
		}
	}
	close_engine(&c[0]);
	close_engine(&c[1]);
}

/* A function the compiler leaves to the interpreter (its frame of 600,000
 * locals is over the limit), called directly from compiled code with its
 * arguments in registers and through the table, its result read back. */
static void test_uncompiled_callee(void **state)
{
	NEED_JIT();
	enum { NLOC = 600000 };
	size_t cap = (size_t)NLOC * 4 + 1024, n = 0;
	char *t = malloc(cap);
	assert_non_null(t);
	n += (size_t)snprintf(t + n, cap - n,
	                      "(module (type $t (func (param i32 i32) (result i32)))\n"
	                      "(table 1 funcref) (elem (i32.const 0) $big)\n"
	                      "(func $big (param i32 i32) (result i32) (local");
	for (int i = 0; i < NLOC; i++)
		n += (size_t)snprintf(t + n, cap - n, " i64");
	snprintf(t + n, cap - n,
	         ")\n  local.get 0 local.get 1 i32.sub local.get 2 i32.wrap_i64 i32.add)\n"
	         "(func (export \"direct\") (param i32 i32) (result i32)\n"
	         "  local.get 0 local.get 1 call $big i32.const 1 i32.add)\n"
	         "(func (export \"indirect\") (param i32 i32) (result i32)\n"
	         "  local.get 1 local.get 0 i32.const 0 call_indirect (type $t) i32.const 2 "
	         "i32.mul))\n");
	struct ctx c[2];
	open_text(&c[0], CAPSA_WASM_ENGINE_JIT, t);
	open_text(&c[1], CAPSA_WASM_ENGINE_INTERP, t);
	free(t);
	assert_int_equal(wasm_jit_uncompiled(c[0].in), 1);
	static const int32_t args[][2] = {{10, 3}, {-5, INT32_MAX}, {INT32_MIN, 1}};
	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++)
		for (int e = 0; e < 2; e++) {
			union capsa_wasm_val cells[2] = {{.i32 = args[i][0]}, {.i32 = args[i][1]}};
			assert_int_equal(capsa_wasm_call(c[e].s, fn(&c[e], "direct"), cells, NULL),
			                 CAPSA_WASM_OK);
			assert_int_equal(cells[0].i32, (int32_t)((uint32_t)args[i][0] -
			                                         (uint32_t)args[i][1] + 1u));
			cells[0].i32 = args[i][0];
			cells[1].i32 = args[i][1];
			assert_int_equal(
			    capsa_wasm_call(c[e].s, fn(&c[e], "indirect"), cells, NULL),
			    CAPSA_WASM_OK);
			assert_int_equal(
			    cells[0].i32,
			    (int32_t)(((uint32_t)args[i][1] - (uint32_t)args[i][0]) * 2u));
		}
	close_engine(&c[0]);
	close_engine(&c[1]);
}

static void *interrupter(void *arg)
{
	struct timespec ts = {0, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	capsa_wasm_store_interrupt(arg);
	return NULL;
}

/* capsa_wasm_store_interrupt() from another thread stops a loop. */
static void test_interrupt(void **state)
{
	NEED_JIT();
	struct ctx *c = *state;
	pthread_t th;
	struct timespec a, b;
	union capsa_wasm_val cells[1];
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(pthread_create(&th, NULL, interrupter, c[0].s), 0);
	assert_int_equal(capsa_wasm_call(c[0].s, fn(&c[0], "spin"), cells, NULL),
	                 CAPSA_WASM_TRAP_OUT_OF_FUEL);
	pthread_join(th, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	assert_true(secs < 5.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_available),
	    cmocka_unit_test(test_same_as_interpreter),
	    cmocka_unit_test(test_lazy_any_order),
	    cmocka_unit_test(test_lazy_left_to_interpreter),
	    cmocka_unit_test(test_interpreter_code_on_demand),
	    cmocka_unit_test(test_two_threads),
	    cmocka_unit_test(test_append_buffers),
	    cmocka_unit_test(test_late_displacement),
	    cmocka_unit_test(test_fuel),
	    cmocka_unit_test(test_interrupt),
	    cmocka_unit_test(test_register_calls),
	    cmocka_unit_test(test_uncompiled_callee),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
