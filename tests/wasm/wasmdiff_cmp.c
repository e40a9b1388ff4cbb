/* SPDX-License-Identifier: Apache-2.0 */
/* Compares two records of wasmdiff_run() (wasmdiff.h). */
#include "wasmdiff.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int nan32(uint32_t b)
{
	return (b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu);
}

static int nan64(uint64_t b)
{
	return (b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (b & 0xfffffffffffffull);
}

static int same_f32(uint32_t x, uint32_t y)
{
	return x == y || (nan32(x) && nan32(y));
}

static int same_f64(uint64_t x, uint64_t y)
{
	return x == y || (nan64(x) && nan64(y));
}

/* A v128 is equal bit for bit, or as f32x4 or f64x2 with NaN lanes equal:
 * its lane shape is not known here. */
static int same_v128(const uint64_t *x, const uint64_t *y)
{
	if (x[0] == y[0] && x[1] == y[1])
		return 1;
	int f32 = 1;
	for (int i = 0; i < 4; i++)
		f32 &= same_f32((uint32_t)(x[i / 2] >> (32 * (i % 2))),
		                (uint32_t)(y[i / 2] >> (32 * (i % 2))));
	return f32 || (same_f64(x[0], y[0]) && same_f64(x[1], y[1]));
}

static int same_value(uint8_t type, const uint64_t *x, const uint64_t *y)
{
	switch (type) {
	case CAPSA_WASM_I32:
		return (uint32_t)x[0] == (uint32_t)y[0];
	case CAPSA_WASM_F32:
		return same_f32((uint32_t)x[0], (uint32_t)y[0]);
	case CAPSA_WASM_F64:
		return same_f64(x[0], y[0]);
	case CAPSA_WASM_V128:
		return same_v128(x, y);
	case CAPSA_WASM_FUNCREF:
		return !x[0] == !y[0];
	default:
		return x[0] == y[0];
	}
}

static const char *kind_name(uint8_t k)
{
	static const char *const names[] = {"instantiation", "call",   "result",
	                                    "trap",          "fuel",   "host call log",
	                                    "global",        "memory", "log overflow"};
	return k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

static const char *trap_label(uint32_t t)
{
	if (t == WASMDIFF_LINK_ERROR)
		return "link error";
	return t == 0 ? "ok" : capsa_wasm_trap_name((enum capsa_wasm_trap)t);
}

static const char *export_name(const struct wasmdiff_record *r, uint32_t i)
{
	if (i == UINT32_MAX)
		return "hangLimitInitializer";
	return i < r->nnames && r->names[i] ? r->names[i] : "?";
}

/* "event 12 (result 0 of export "func_3", round 1)" */
static void where(const struct wasmdiff_record *r, size_t at, char *buf, size_t len)
{
	size_t i = at;
	while (i > 0 && r->ev[i].kind != WASMDIFF_CALL)
		i--;
	if (r->n && r->ev[i].kind == WASMDIFF_CALL)
		snprintf(buf, len, "event %zu (%s in export \"%s\", round %" PRId64 ")", at,
		         kind_name(r->ev[at].kind), export_name(r, r->ev[i].a), r->ev[i].n);
	else
		snprintf(buf, len, "event %zu (%s)", at, kind_name(r->ev[at].kind));
}

static void show(const struct wasmdiff_event *e, char *buf, size_t len)
{
	switch (e->kind) {
	case WASMDIFF_INSTANCE:
		snprintf(buf, len, "%s, fuel %" PRId64, trap_label(e->a), e->n);
		break;
	case WASMDIFF_CALL:
		snprintf(buf, len, "call of export %u round %" PRId64, e->a, e->n);
		break;
	case WASMDIFF_TRAP:
		snprintf(buf, len, "trap \"%s\" in function %" PRId64 " at offset %" PRIu64,
		         trap_label(e->a), e->n, e->v[0]);
		break;
	case WASMDIFF_FUEL:
	case WASMDIFF_LOG_CUT:
		snprintf(buf, len, "%" PRId64, e->n);
		break;
	case WASMDIFF_MEMORY:
		snprintf(buf, len, "memory %u of %" PRId64 " bytes", e->a, e->n);
		break;
	default:
		if (e->kind == WASMDIFF_LOG && e->type == 0)
			snprintf(buf, len, "call of import %u", e->a);
		else if (e->type == CAPSA_WASM_V128)
			snprintf(buf, len, "v128 0x%016" PRIx64 "%016" PRIx64 " (index %u)",
			         e->v[1], e->v[0], e->a);
		else
			snprintf(buf, len, "%s 0x%" PRIx64 " (index %u)",
			         capsa_wasm_type_name(e->type), e->v[0], e->a);
	}
}

static int same_event(const struct wasmdiff_event *x, const struct wasmdiff_event *y)
{
	if (x->kind != y->kind || x->a != y->a)
		return 0;
	switch (x->kind) {
	case WASMDIFF_RESULT:
	case WASMDIFF_LOG:
	case WASMDIFF_GLOBAL:
		return x->type == y->type && same_value(x->type, x->v, y->v);
	case WASMDIFF_TRAP:
		return x->n == y->n && x->v[0] == y->v[0];
	case WASMDIFF_MEMORY:
		return x->n == y->n && x->v[1] == y->v[1];
	default:
		return x->n == y->n;
	}
}

static int mem_differs(const struct wasmdiff_record *a, const struct wasmdiff_record *b,
                       const struct wasmdiff_event *x, const struct wasmdiff_event *y, char *msg,
                       size_t len)
{
	const uint8_t *p = a->mem[x->v[0]], *q = b->mem[y->v[0]];
	if (!memcmp(p, q, x->v[1]))
		return 0;
	uint64_t off = 0;
	while (p[off] == q[off])
		off++;
	snprintf(msg, len, "memory export \"%s\" differs at byte %" PRIu64 ": 0x%02x vs 0x%02x",
	         export_name(a, x->a), off, p[off], q[off]);
	return 1;
}

int wasmdiff_compare(const struct wasmdiff_record *a, const struct wasmdiff_record *b, char *msg,
                     size_t len)
{
	char at[256], va[160], vb[160];
	if (a->failed || b->failed) {
		snprintf(msg, len,
		         "a run did not complete (the module did not load, or recording ran "
		         "out of memory)");
		return 1;
	}
	size_t n = a->n < b->n ? a->n : b->n;
	for (size_t i = 0; i < n; i++) {
		const struct wasmdiff_event *x = &a->ev[i], *y = &b->ev[i];
		if (same_event(x, y)) {
			if (x->kind == WASMDIFF_MEMORY && mem_differs(a, b, x, y, msg, len))
				return 1;
			continue;
		}
		where(a, i, at, sizeof(at));
		show(x, va, sizeof(va));
		show(y, vb, sizeof(vb));
		if (x->kind != y->kind)
			snprintf(msg, len, "%s: %s (%s) vs %s (%s)", at, kind_name(x->kind), va,
			         kind_name(y->kind), vb);
		else
			snprintf(msg, len, "%s: %s vs %s", at, va, vb);
		return 1;
	}
	if (a->n != b->n) {
		snprintf(msg, len, "one run recorded %zu events, the other %zu", a->n, b->n);
		return 1;
	}
	return 0;
}

void wasmdiff_dump(FILE *f, const struct wasmdiff_record *r)
{
	char v[160];
	for (size_t i = 0; i < r->n; i++) {
		const struct wasmdiff_event *e = &r->ev[i];
		show(e, v, sizeof(v));
		if (e->kind == WASMDIFF_CALL)
			fprintf(f, "%zu call \"%s\" round %" PRId64 "\n", i, export_name(r, e->a),
			        e->n);
		else
			fprintf(f, "%zu   %s: %s\n", i, kind_name(e->kind), v);
	}
}
