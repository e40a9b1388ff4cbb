/* SPDX-License-Identifier: Apache-2.0 */
/* Validation of a module's bodies on two threads (src/wasm/validate.c):
 * the same outcome as one after the other, the same frame sizes for a
 * valid module, and the first invalid body's error whichever thread
 * finds an invalid body first; and the reader's signed LEB128 immediates. */
#include "common/testutil.h"
#include "common/wat.h"

#include "capsa/wasm.h"
#include "wasm/internal.h"
#include "wasm/reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NFUNCS 400
#define ROUNDS 40
#define SLOW   5 /* a long body */

/* NFUNCS functions `i32.const 7 i32.eqz` and 100 nops (a body of about
 * 100 bytes: several runs of bodies for each thread), but SLOW has
 * 200,000 nops. */
static struct capsa_wasm_module *many_funcs(void)
{
	size_t cap = (size_t)NFUNCS * 512 + 200000 * 4 + 64, n = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	n += (size_t)snprintf(text + n, cap - n, "(module\n");
	for (int i = 0; i < NFUNCS; i++) {
		n += (size_t)snprintf(text + n, cap - n, " (func (result i32) i32.const 7 i32.eqz");
		for (int k = 0; k < (i == SLOW ? 200000 : 100); k++)
			n += (size_t)snprintf(text + n, cap - n, " nop");
		n += (size_t)snprintf(text + n, cap - n, ")\n");
	}
	snprintf(text + n, cap - n, ")\n");
	struct err e = {0};
	struct capsa_wasm_module *m = test_wat_load(text, &e);
	free(text);
	assert_non_null(m);
	assert_int_equal(m->nfuncs, NFUNCS);
	return m;
}

/* The i32.eqz of body i (after the locals count and i32.const 7). */
static uint8_t *eqz_of(struct capsa_wasm_module *m, uint32_t i)
{
	uint8_t *p = m->bytes + m->code[i].body_off + 3;
	assert_true(*p == 0x45 || *p == 0x50);
	return p;
}

/* Each round's two-thread error equals the serial one, which names
 * function want. */
static void same_first_error(struct capsa_wasm_module *m, uint32_t want)
{
	struct err serial = {0};
	assert_int_equal(wasm_validate_code(m, 1, &serial), -1);
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "function %u: type mismatch", want);
	assert_int_equal(strncmp(serial.msg, prefix, strlen(prefix)), 0);
	for (int r = 0; r < ROUNDS; r++) {
		struct err e = {0};
		assert_int_equal(wasm_validate_code(m, 2, &e), -1);
		assert_string_equal(e.msg, serial.msg);
		assert_int_equal(e.kind, serial.kind);
	}
}

static void test_first_error(void **state)
{
	(void)state;
	struct capsa_wasm_module *m = many_funcs();
	/* i64.eqz of an i32: invalid. Early and late bodies, then a late one
	 * alone (likely found by the helper, which then reports it). */
	*eqz_of(m, 5) = 0x50;
	*eqz_of(m, NFUNCS - 3) = 0x50;
	same_first_error(m, 5);
	*eqz_of(m, 5) = 0x45;
	same_first_error(m, NFUNCS - 3);
	*eqz_of(m, NFUNCS - 3) = 0x45;
	/* SLOW invalid at its end (its last nop a drop: no result left), a
	 * body just after it at its start: the helper finds that one first,
	 * yet the error is SLOW's. */
	uint8_t *last = m->bytes + m->code[SLOW].body_off + m->code[SLOW].body_len - 2;
	assert_int_equal(*last, 0x01);
	*last = 0x1a;
	*eqz_of(m, 30) = 0x50;
	same_first_error(m, SLOW);
	capsa_wasm_module_free(m);
}

static void test_valid_same_frames(void **state)
{
	(void)state;
	struct capsa_wasm_module *m = many_funcs();
	struct wcode *serial = calloc(NFUNCS, sizeof(*serial));
	assert_non_null(serial);
	struct err e = {0};
	assert_int_equal(wasm_validate_code(m, 1, &e), 0);
	memcpy(serial, m->code, NFUNCS * sizeof(*serial));
	for (int r = 0; r < ROUNDS; r++) {
		for (uint32_t i = 0; i < NFUNCS; i++)
			m->code[i].entry_off = m->code[i].frame_cells = m->code[i].nlocal_cells = 0;
		assert_int_equal(wasm_validate_code(m, 2, &e), 0);
		for (uint32_t i = 0; i < NFUNCS; i++) {
			assert_int_equal(m->code[i].entry_off, serial[i].entry_off);
			assert_int_equal(m->code[i].frame_cells, serial[i].frame_cells);
			assert_int_equal(m->code[i].nlocal_cells, serial[i].nlocal_cells);
		}
	}
	free(serial);
	capsa_wasm_module_free(m);
}

/* Signed 32-bit LEB128 immediates (i32.const): each encoding followed by
 * padding, as in a body, so that all five bytes can be read at once. */
static void test_leb_s32(void **state)
{
	(void)state;
	static const struct {
		uint8_t b[6];
		int ok;
		int32_t v;
		uint32_t len;
		const char *msg;
	} cases[] = {
	    {{0x3f}, 1, 63, 1, NULL},
	    {{0x40}, 1, -64, 1, NULL},
	    {{0x80, 0x80, 0x01}, 1, 16384, 3, NULL},
	    {{0x80, 0x80, 0x80, 0x7f}, 1, -(1 << 21), 4, NULL},
	    {{0xff, 0xff, 0xff, 0xff, 0x07}, 1, INT32_MAX, 5, NULL},
	    {{0x80, 0x80, 0x80, 0x80, 0x78}, 1, INT32_MIN, 5, NULL},
	    {{0xff, 0xff, 0xff, 0xff, 0x7f}, 1, -1, 5, NULL},
	    {{0x80, 0x80, 0x80, 0x80, 0x00}, 1, 0, 5, NULL},
	    {{0xff, 0xff, 0xff, 0xff, 0x0f}, 0, 0, 0, "integer too large at byte 0x5"},
	    {{0x80, 0x80, 0x80, 0x80, 0x70}, 0, 0, 0, "integer too large at byte 0x5"},
	    {{0x80, 0x80, 0x80, 0x80, 0x80, 0x00},
	     0,
	     0,
	     0,
	     "integer representation too long at byte 0x5"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[16] = {0};
		memcpy(buf, cases[i].b, sizeof(cases[i].b));
		struct err e = {0};
		struct rd r = {buf, buf + sizeof(buf), buf, &e};
		int32_t v = 0;
		int rc = rd_s32(&r, &v);
		assert_int_equal(rc, cases[i].ok ? 0 : -1);
		if (cases[i].ok) {
			assert_int_equal(v, cases[i].v);
			assert_int_equal(r.p - buf, cases[i].len);
		} else {
			assert_string_equal(e.msg, cases[i].msg);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_leb_s32),
	    cmocka_unit_test(test_first_error),
	    cmocka_unit_test(test_valid_same_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
