/* SPDX-License-Identifier: Apache-2.0 */
/* The embedding API on its own: load, instantiate with a host function,
 * call exports, trap details, fuel, memory access from a host function,
 * rejection of invalid modules. Modules are written in the text format and
 * assembled with wabt's wat2wasm at test time. */
#include "common/testutil.h"
#include "common/wat.h"

#include "capsa/wasm.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *wat = "(module\n"
                         "  (import \"env\" \"add1\" (func $add1 (param i32) (result i32)))\n"
                         "  (import \"env\" \"peek\" (func $peek (param i32) (result i32)))\n"
                         "  (memory (export \"mem\") 1 2)\n"
                         "  (data (i32.const 16) \"capsa\")\n"
                         "  (global $g (export \"counter\") (mut i64) (i64.const 40))\n"
                         "  (func (export \"f\") (param i32) (result i32)\n"
                         "    local.get 0 call $add1 i32.const 2 i32.mul)\n"
                         "  (func (export \"pair\") (param i64 f64) (result f64 i64)\n"
                         "    local.get 1 f64.const 0.5 f64.add local.get 0 i64.const 2 i64.add\n"
                         "    global.get $g i64.add)\n"
                         "  (func (export \"spin\") (loop br 0))\n"
                         "  (func $rec (export \"rec\") (param i32) (result i32)\n"
                         "    local.get 0 i32.const 1 i32.add call $rec)\n"
                         "  (func (export \"div\") (param i32) (result i32)\n"
                         "    i32.const 10 local.get 0 i32.div_s)\n"
                         "  (func (export \"peek16\") (result i32) i32.const 16 call $peek))\n";

static enum capsa_wasm_trap add1(struct capsa_wasm_caller *c, void *env,
                                 union capsa_wasm_val *cells)
{
	(void)c;
	(*(int *)env)++;
	cells[0].i32 = cells[0].i32 + 1;
	return CAPSA_WASM_OK;
}

static enum capsa_wasm_trap peek(struct capsa_wasm_caller *c, void *env,
                                 union capsa_wasm_val *cells)
{
	(void)env;
	uint64_t size;
	struct capsa_wasm_memory *m = capsa_wasm_caller_memory(c);
	uint8_t *base = m ? capsa_wasm_memory_data(m, &size) : NULL;
	if (!base || (uint64_t)(uint32_t)cells[0].i32 + 5 > size)
		return CAPSA_WASM_TRAP_HOST;
	cells[0].i32 = !memcmp(base + (uint32_t)cells[0].i32, "capsa", 5);
	return CAPSA_WASM_OK;
}

struct env {
	struct capsa_wasm_func *add1, *peek;
};

static int resolve(void *envp, const char *module, const char *name,
                   enum capsa_wasm_extern_kind kind, struct capsa_wasm_extern *out)
{
	struct env *env = envp;
	if (strcmp(module, "env") || kind != CAPSA_WASM_EXTERN_FUNC)
		return -1;
	out->kind = kind;
	if (!strcmp(name, "add1"))
		out->u.func = env->add1;
	else if (!strcmp(name, "peek"))
		out->u.func = env->peek;
	else
		return -1;
	return 0;
}

static struct capsa_wasm_func *export(struct capsa_wasm_instance *in, const char *name)
{
	struct capsa_wasm_extern x;
	assert_int_equal(capsa_wasm_instance_export(in, name, &x), 0);
	assert_int_equal(x.kind, CAPSA_WASM_EXTERN_FUNC);
	return x.u.func;
}

static void test_embedding(void **state)
{
	(void)state;
	if (access("/usr/bin/wat2wasm", X_OK))
		skip_because("wat2wasm (package wabt) is not installed");
	struct err e = {0};
	struct capsa_wasm_module *m = test_wat_load(wat, &e);
	assert_non_null(m);
	struct capsa_wasm_limits lim = {.call_depth = 1000};
	struct capsa_wasm_store *s = capsa_wasm_store_new(&lim, &e);
	assert_non_null(s);
	int calls = 0;
	static const uint8_t i32[] = {CAPSA_WASM_I32};
	struct capsa_wasm_functype t = {1, 1, i32, i32};
	struct env env = {capsa_wasm_func_new(s, &t, add1, &calls, &e),
	                  capsa_wasm_func_new(s, &t, peek, NULL, &e)};
	struct capsa_wasm_trap_info info;
	struct capsa_wasm_instance *in = capsa_wasm_instantiate(s, m, resolve, &env, &info, &e);
	assert_non_null(in);

	union capsa_wasm_val cells[4] = {{.i32 = 20}};
	assert_int_equal(capsa_wasm_call(s, export(in, "f"), cells, &info), CAPSA_WASM_OK);
	assert_int_equal(cells[0].i32, 42);
	assert_int_equal(calls, 1);

	cells[0].i64 = 5;
	cells[1].f64 = 1.25;
	assert_int_equal(capsa_wasm_call(s, export(in, "pair"), cells, &info), CAPSA_WASM_OK);
	assert_true(cells[0].f64 == 1.75);
	assert_int_equal(cells[1].i64, 47);

	cells[0].i32 = 0;
	assert_int_equal(capsa_wasm_call(s, export(in, "div"), cells, &info),
	                 CAPSA_WASM_TRAP_INT_DIV_ZERO);
	assert_string_equal(info.func_name, "div");
	assert_true(info.offset > 0);

	assert_int_equal(capsa_wasm_call(s, export(in, "rec"), cells, &info),
	                 CAPSA_WASM_TRAP_STACK_EXHAUSTED);

	capsa_wasm_store_set_fuel(s, 1000);
	assert_int_equal(capsa_wasm_call(s, export(in, "spin"), cells, &info),
	                 CAPSA_WASM_TRAP_OUT_OF_FUEL);
	assert_int_equal(capsa_wasm_store_fuel(s), 0);
	capsa_wasm_store_set_fuel(s, -1);

	assert_int_equal(capsa_wasm_call(s, export(in, "peek16"), cells, &info), CAPSA_WASM_OK);
	assert_int_equal(cells[0].i32, 1);

	struct capsa_wasm_extern g;
	assert_int_equal(capsa_wasm_instance_export(in, "counter", &g), 0);
	assert_int_equal(g.kind, CAPSA_WASM_EXTERN_GLOBAL);
	assert_int_equal(capsa_wasm_global_get(g.u.global).i64, 40);

	capsa_wasm_store_free(s);
	capsa_wasm_module_free(m);
}

static void test_rejects_bad_modules(void **state)
{
	(void)state;
	struct err e = {0};
	static const uint8_t bad_magic[] = {0, 'a', 's', 'n', 1, 0, 0, 0};
	assert_null(capsa_wasm_module_load(bad_magic, sizeof(bad_magic), &e));
	assert_int_equal(e.kind, ERR_INPUT);
	assert_non_null(strstr(e.msg, "magic"));
	/* A function whose body returns an i64 where an i32 is declared. */
	static const uint8_t mistyped[] = {0, 'a', 's',  'm', 1, 0,    0,    0, 1,
	                                   5, 1,   0x60, 0,   1, 0x7f, 3,    2, 1,
	                                   0, 10,  6,    1,   4, 0,    0x42, 0, 0x0b};
	err_clear(&e);
	assert_null(capsa_wasm_module_load(mistyped, sizeof(mistyped), &e));
	assert_non_null(strstr(e.msg, "type mismatch"));
	/* Truncations are rejected without crashing, except at the two
	 * section boundaries that leave a complete module (header; header
	 * and type section). */
	for (size_t n = 0; n < sizeof(mistyped); n++) {
		struct capsa_wasm_module *m = capsa_wasm_module_load(mistyped, n, &e);
		assert_true(m == NULL || n == 8 || n == 15);
		capsa_wasm_module_free(m);
	}
}

/* The interrupt descriptor becomes readable when the store is interrupted
 * (host functions that block wait on it) and stays so. */
static void test_interrupt_fd(void **state)
{
	(void)state;
	struct err e = {0};
	struct capsa_wasm_store *s = capsa_wasm_store_new(NULL, &e);
	assert_non_null(s);
	struct pollfd p = {capsa_wasm_store_interrupt_fd(s), POLLIN, 0};
	assert_true(p.fd >= 0);
	assert_int_equal(poll(&p, 1, 0), 0);
	capsa_wasm_store_interrupt(s);
	assert_int_equal(poll(&p, 1, 0), 1);
	assert_true(p.revents & POLLIN);
	assert_int_equal(poll(&p, 1, 0), 1);
	capsa_wasm_store_free(s);
}

/* A growing byte buffer for modules built here. */
struct bytes {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct bytes *b, const void *d, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static void put_u8(struct bytes *b, uint8_t v)
{
	put(b, &v, 1);
}

static void put_leb(struct bytes *b, uint64_t v)
{
	do {
		uint8_t c = v & 0x7f;
		v >>= 7;
		put_u8(b, c | (v ? 0x80 : 0));
	} while (v);
}

/* A module exporting "f" (param i32) (result i32) with the given body
 * (locals declarations and code); *body_at gets the body's file offset. */
static struct capsa_wasm_module *with_body(const struct bytes *body, uint32_t *body_at,
                                           struct err *e)
{
	static const uint8_t head[] = {0, 'a',  's', 'm', 1, 0, 0, 0, 1, 6, 1,   0x60, 1, 0x7f,
	                               1, 0x7f, 3,   2,   1, 0, 7, 5, 1, 1, 'f', 0,    0, 0x0a};
	struct bytes m = {0}, sec = {0};
	put(&m, head, sizeof(head));
	put_u8(&sec, 1);
	put_leb(&sec, body->n);
	size_t in_sec = sec.n;
	put(&sec, body->p, body->n);
	put_leb(&m, sec.n);
	*body_at = (uint32_t)(m.n + in_sec);
	put(&m, sec.p, sec.n);
	struct capsa_wasm_module *mod = capsa_wasm_module_load(m.p, m.n, e);
	free(m.p);
	free(sec.p);
	return mod;
}

/* Body: locals (n of type t, then one i32 x); x = 7; return x + param. */
static struct capsa_wasm_module *many_locals(uint32_t n, uint8_t t, struct err *e)
{
	struct bytes b = {0};
	uint32_t at;
	put_leb(&b, 2);
	put_leb(&b, n);
	put_u8(&b, t);
	put_leb(&b, 1);
	put_u8(&b, 0x7f);
	put(&b, "\x41\x07\x21", 3); /* i32.const 7, local.set x */
	put_leb(&b, (uint64_t)n + 1);
	put_u8(&b, 0x20); /* local.get x */
	put_leb(&b, (uint64_t)n + 1);
	put(&b, "\x20\x00\x6a\x0b", 4); /* local.get 0, i32.add, end */
	struct capsa_wasm_module *m = with_body(&b, &at, e);
	free(b.p);
	return m;
}

static int32_t call_f(struct capsa_wasm_module *m, int32_t arg)
{
	struct err e = {0};
	struct capsa_wasm_store *s = capsa_wasm_store_new(NULL, &e);
	assert_non_null(s);
	struct capsa_wasm_trap_info info;
	struct capsa_wasm_instance *in = capsa_wasm_instantiate(s, m, NULL, NULL, &info, &e);
	assert_non_null(in);
	union capsa_wasm_val cells[1] = {{.i32 = arg}};
	enum capsa_wasm_trap t = capsa_wasm_call(s, export(in, "f"), cells, &info);
	if (t)
		printf("# trap: %s\n", info.message);
	assert_int_equal(t, CAPSA_WASM_OK);
	capsa_wasm_store_free(s);
	return cells[0].i32;
}

/* Functions with a million locals (1,048,576 counting the parameter, the
 * limit; v128s take two cells each) compile and run; one more local, an
 * operand stack deeper than 200,000 cells and a deep stack kept over many
 * instructions are refused with the function and the byte offset, named
 * once. */
/* Refused as too costly at the exact instruction: k values kept on the
 * stack, then pairs storing into local 1 a copy of local 0 (the stack is
 * scanned twice per store) or a constant (once), until the work passes
 * 2^26 plus 64 per body byte. The instruction after the store that
 * passes it is refused. */
static void costly_at(struct bytes *b, int constant)
{
	const uint32_t k = 50000, pairs = 2000;
	struct err e = {0};
	uint32_t at;
	b->n = 0;
	put(b, "\x01\x01\x7f", 3);
	for (uint32_t i = 0; i < k; i++)
		put(b, "\x20\x00", 2);
	for (uint32_t i = 0; i < pairs; i++)
		put(b, constant ? "\x41\x00\x21\x01" : "\x20\x00\x21\x01", 4);
	for (uint32_t i = 0; i < k; i++)
		put_u8(b, 0x1a);
	put(b, "\x41\x00\x0b", 3);
	uint64_t limit = (1ull << 26) + 64ull * b->n, per = constant ? k : 2ull * k;
	uint64_t j = limit / per + 1; /* pairs done when refused */
	assert_true(j <= pairs);
	assert_null(with_body(b, &at, &e));
	char want[160];
	snprintf(want, sizeof(want),
	         "function 0: too costly to compile (a deep operand stack kept over many "
	         "instructions) at byte 0x%llx",
	         (unsigned long long)(at + 3 + 2ull * k + 4 * j));
	assert_string_equal(e.msg, want);
}

static void test_limits(void **state)
{
	(void)state;
	struct err e = {0};
	struct capsa_wasm_module *m = many_locals(1000000, CAPSA_WASM_I32, &e);
	assert_non_null(m);
	assert_int_equal(call_f(m, 5), 12);
	capsa_wasm_module_free(m);
	m = many_locals((1u << 20) - 2, CAPSA_WASM_V128, &e);
	assert_non_null(m);
	assert_int_equal(call_f(m, -7), 0);
	capsa_wasm_module_free(m);

	err_clear(&e);
	assert_null(many_locals((1u << 20) - 1, CAPSA_WASM_I32, &e));
	printf("# %s\n", e.msg);
	assert_int_equal(e.kind, ERR_INPUT);
	assert_int_equal(
	    strncmp(e.msg, "function 0: too many locals (more than 1048576) at byte 0x", 58), 0);

	/* 200,000 constants then as many drops: at the limit. */
	struct bytes b = {0};
	uint32_t at;
	put_u8(&b, 0);
	for (int i = 0; i < 200000; i++)
		put(&b, "\x41\x00", 2);
	for (int i = 0; i < 200000; i++)
		put_u8(&b, 0x1a);
	put(&b, "\x41\x01\x0b", 3);
	m = with_body(&b, &at, &e);
	assert_non_null(m);
	assert_int_equal(call_f(m, 0), 1);
	capsa_wasm_module_free(m);
	/* One more: refused at that constant. */
	b.n = 1;
	for (int i = 0; i < 200001; i++)
		put(&b, "\x41\x00", 2);
	put_u8(&b, 0x0b);
	err_clear(&e);
	assert_null(with_body(&b, &at, &e));
	char want[128];
	snprintf(want, sizeof(want),
	         "function 0: operand stack deeper than 200000 cells at byte 0x%x",
	         at + 1 + 200000 * 2);
	printf("# %s\n", e.msg);
	assert_string_equal(e.msg, want);

	/* 100,000 values kept on the stack over 10,000 local.set: compiling
	 * scans the stack at each one (10^9 entries), refused as too costly
	 * instead of taking seconds (minutes for a larger module). */
	b.n = 0;
	put(&b, "\x01\x01\x7f", 3); /* one i32 local */
	for (int i = 0; i < 100000; i++)
		put(&b, "\x20\x00", 2);
	for (int i = 0; i < 10000; i++)
		put(&b, "\x20\x00\x21\x01", 4);
	for (int i = 0; i < 100000; i++)
		put_u8(&b, 0x1a);
	put(&b, "\x41\x00\x0b", 3);
	err_clear(&e);
	double t0 = now_secs();
	m = with_body(&b, &at, &e);
	test_measured("deep-stack module (%zu bytes of code) refused in %.3f s", b.n,
	              now_secs() - t0);
	capsa_wasm_module_free(m);
	assert_null(m);
	printf("# %s\n", e.msg);
	assert_non_null(strstr(e.msg, "function 0: too costly to compile"));
	assert_non_null(strstr(e.msg, " at byte 0x"));
	costly_at(&b, 0);
	costly_at(&b, 1);
	free(b.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_embedding),
	    cmocka_unit_test(test_rejects_bad_modules),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_interrupt_fd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
