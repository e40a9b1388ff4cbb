/* SPDX-License-Identifier: Apache-2.0 */
/* The JIT's code buffer: instructions encoded straight into a buffer with
 * room are the bytes of the path that appends them one at a time (a buffer
 * with no room left); a fixed buffer is never written past its end; and a
 * module whose code outgrows the mapping it is compiled into at
 * instantiation is compiled again into a growing buffer, and runs as the
 * interpreter does. */
#include "common/testutil.h"
#include "common/wat.h"

#include "capsa/wasm.h"
#include "wasm/jit/jc.h"
#include "wasm/jit/jit.h"
#include "wasm/jit/x64.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const int regs[] = {RAX, RCX, RSP, RBP, RSI, RDI, R8, R11, R12, R13, R15};
static const int32_t disps[] = {0, 8, -128, 127, 128, -129, 0x12345, -0x7fffffff};
#define NREGS  (sizeof(regs) / sizeof(regs[0]))
#define NDISPS (sizeof(disps) / sizeof(disps[0]))

/* Form k of the memory forms tried, with registers reg and base. */
static void emit_mem(struct xbuf *b, int k, int reg, int base, int32_t disp)
{
	switch (k) {
	case 0:
		x_load(b, 1, reg, xmem(base, disp));
		break;
	case 1:
		x_store(b, 0, xmem(base, disp), reg);
		break;
	case 2:
		x_lea(b, 1, reg, xmem(base, disp));
		break;
	case 3: /* movsd xmm, [mem] */
		x_rm(b, 0xf2, 0, 0x0f10, reg, xmem(base, disp), 0);
		break;
	case 4: /* movss [mem], xmm */
		x_rm(b, 0xf3, 0, 0x0f11, reg, xmem(base, disp), 0);
		break;
	case 5:
		x_store_i32(b, 1, xmem(base, disp), -7);
		break;
	default: /* mov byte [mem], reg: a REX for SPL..DIL */
		x_rm(b, 0, 0, 0x88, reg, xmem(base, disp), 1);
		break;
	}
}

static void emit_rr(struct xbuf *b, int k, int a, int c)
{
	switch (k) {
	case 0:
		x_mov_rr(b, 0, a, c);
		break;
	case 1:
		x_alu_rr(b, 1, OP_XOR, a, c);
		break;
	case 2:
		x_rr(b, 0x66, 0, 0x0f57, a, c, 0); /* xorpd */
		break;
	case 3:
		x_alu_ri(b, 1, OP_ADD, a, c * 1000);
		break;
	default:
		x_mov_ri(b, k & 1, a, (uint64_t)c << (k * 7));
		break;
	}
}

/* Each instruction encoded alone into an empty buffer (byte by byte)
 * equals the same instruction in a buffer with room. */
static void check_same(struct xbuf *room, size_t at, void (*emit)(struct xbuf *, int, int, int),
                       int k, int a, int c)
{
	struct xbuf one = {0};
	emit(&one, k, a, c);
	assert_false(one.oom);
	assert_int_equal(one.n, room->n - at);
	assert_memory_equal(one.p, room->p + at, one.n);
	xb_free(&one);
}

static int32_t cur_disp;
static void emit_mem3(struct xbuf *b, int k, int reg, int base)
{
	emit_mem(b, k, reg, base, cur_disp);
}

static void test_same_bytes(void **state)
{
	(void)state;
	struct xbuf room = {0};
	room.p = malloc(1 << 20);
	room.cap = 1 << 20;
	assert_non_null(room.p);
	for (int k = 0; k < 7; k++)
		for (size_t d = 0; d < NDISPS; d++)
			for (size_t i = 0; i < NREGS; i++)
				for (size_t j = 0; j < NREGS; j++) {
					size_t at = room.n;
					cur_disp = disps[d];
					emit_mem3(&room, k, regs[i], regs[j]);
					check_same(&room, at, emit_mem3, k, regs[i], regs[j]);
				}
	for (int k = 0; k < 9; k++)
		for (size_t i = 0; i < NREGS; i++)
			for (size_t j = 0; j < NREGS; j++) {
				size_t at = room.n;
				emit_rr(&room, k, regs[i], regs[j]);
				check_same(&room, at, emit_rr, k, regs[i], regs[j]);
			}
	/* and a few by their bytes */
	room.n = 0;
	x_rm(&room, 0xf2, 0, 0x0f10, 9, xmem(R12, 0x100), 0); /* movsd xmm9, [r12 + 256] */
	x_load(&room, 0, R13, xmem(RBP, 0));                  /* mov r13d, [rbp + 0] */
	x_store(&room, 1, xmem(RSP, -8), RBX);                /* mov [rsp - 8], rbx */
	static const uint8_t want[] = {0xf2, 0x45, 0x0f, 0x10, 0x8c, 0x24, 0x00, 0x01, 0x00, 0x00,
	                               0x44, 0x8b, 0x6d, 0x00, 0x48, 0x89, 0x5c, 0x24, 0xf8};
	assert_int_equal(room.n, sizeof(want));
	assert_memory_equal(room.p, want, sizeof(want));
	xb_free(&room);
}

/* A buffer that is not the encoder's own (the code mapping) ends where it
 * ends: what does not fit is out of memory, nothing written past it. */
static void test_fixed_buffer_full(void **state)
{
	(void)state;
	uint8_t mem[64];
	for (size_t cap = 0; cap < 24; cap++) {
		memset(mem, 0xa5, sizeof(mem));
		struct xbuf b = {.p = mem, .cap = cap, .fixed = 1};
		for (int i = 0; i < 8; i++) {
			x_load(&b, 1, R9, xmem(RSP, 0x1000));
			x_mov_ri(&b, 1, RAX, 0x123456789ull);
			x_rr(&b, 0, 1, 0x8b, RCX, R10, 0);
		}
		assert_true(b.oom);
		assert_true(b.n <= cap);
		for (size_t k = cap; k < sizeof(mem); k++)
			assert_int_equal(mem[k], 0xa5);
	}
}

/* Two thousand calls from a function keeping seven locals in registers
 * (each call saves and restores them): more machine code than the room
 * of eight bytes per body byte. */
static char *call_heavy(void)
{
	enum { CALLS = 2000 };
	size_t cap = CALLS * 8 + 4096, n = 0;
	char *t = malloc(cap);
	assert_non_null(t);
	n += (size_t)snprintf(t + n, cap - n,
	                      "(module (func $h)\n"
	                      "(func (export \"f\") (param i32) (result i32)"
	                      " (local i32 i32 i32 i32 i32 i32 i32)\n");
	for (int k = 1; k <= 7; k++)
		n += (size_t)snprintf(t + n, cap - n,
		                      "local.get 0 i32.const %d i32.mul local.set %d\n", k * 3, k);
	for (int k = 0; k < CALLS; k++)
		n += (size_t)snprintf(t + n, cap - n, "call $h\n");
	n += (size_t)snprintf(t + n, cap - n, "local.get 1");
	for (int k = 2; k <= 7; k++)
		n += (size_t)snprintf(t + n, cap - n, " local.get %d i32.add", k);
	snprintf(t + n, cap - n, "))\n");
	return t;
}

static void test_code_over_room(void **state)
{
	(void)state;
	if (access("/usr/bin/wat2wasm", X_OK))
		skip_because("wat2wasm (wabt) is missing");
	if (!capsa_wasm_engine_available(CAPSA_WASM_ENGINE_JIT))
		skip_because("no JIT on this host");
	struct err e = {0};
	char *text = call_heavy();
	struct capsa_wasm_module *m = test_wat_load(text, &e);
	free(text);
	assert_non_null(m);
	uint64_t room = 64u << 10;
	for (uint32_t i = 0; i < m->nfuncs - m->nimp_funcs; i++)
		room += 8ull * m->code[i].body_len + 64;
	/* compiled on one thread, on two (each then compiles into a buffer
	 * of its own, and the second's code is copied after the first's), and
	 * interpreted */
	int32_t got[3];
	for (int k = 0; k < 3; k++) {
		struct capsa_wasm_limits lim = {.engine = k == 2 ? CAPSA_WASM_ENGINE_INTERP
		                                                 : CAPSA_WASM_ENGINE_JIT};
		struct capsa_wasm_store *s = capsa_wasm_store_new(&lim, &e);
		assert_non_null(s);
		if (k < 2) {
			assert_int_equal(wasm_jit_eager(s, &e), 0);
			assert_int_equal(wasm_jit_threads(s, k + 1, &e), 0);
		}
		struct capsa_wasm_instance *in = capsa_wasm_instantiate(s, m, NULL, NULL, NULL, &e);
		assert_non_null(in);
		if (k < 2) {
			const struct jit_region *rg = in->jit_region;
			assert_non_null(rg);
			assert_true(rg->size > room); /* it did not fit the first time */
			assert_int_equal(wasm_jit_uncompiled(in), 0);
		}
		struct capsa_wasm_extern x;
		assert_int_equal(capsa_wasm_instance_export(in, "f", &x), 0);
		union capsa_wasm_val cells[1] = {{.i32 = 5}};
		assert_int_equal(capsa_wasm_call(s, x.u.func, cells, NULL), CAPSA_WASM_OK);
		got[k] = cells[0].i32;
		capsa_wasm_store_free(s);
	}
	assert_int_equal(got[0], 5 * 3 * (1 + 2 + 3 + 4 + 5 + 6 + 7));
	assert_int_equal(got[0], got[1]);
	assert_int_equal(got[0], got[2]);
	capsa_wasm_module_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_bytes),
	    cmocka_unit_test(test_fixed_buffer_full),
	    cmocka_unit_test(test_code_over_room),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
