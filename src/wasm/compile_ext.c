/* SPDX-License-Identifier: Apache-2.0 */
/* Compilation of the prefixed instructions: 0xfc (bulk memory, table
 * instructions, saturating conversions) and 0xfd (128-bit SIMD). */
#include "wasm/compile.h"
#include "wasm/simd.h"

#include <string.h>

/* The three operands of a bulk memory or table instruction: i32, `mid`
 * (i32, or the element type of table.fill), i32; slots in operand order. */
static int pop3(struct cc *c, uint8_t mid, uint32_t slots[3])
{
	const uint8_t types[3] = {CAPSA_WASM_I32, mid, CAPSA_WASM_I32};
	for (int i = 2; i >= 0; i--) {
		struct vent v;
		if (wc_pop(c, types[i], &v))
			return -1;
		slots[i] = v.slot;
	}
	return 0;
}

static void emit3(struct cc *c, const uint32_t slots[3])
{
	for (int i = 0; i < 3; i++)
		wc_emit_u(c, slots[i]);
}

int wc_op_prefix_fc(struct cc *c)
{
	uint32_t sub, x, y;
	uint32_t ops[3];
	struct vent a, b;
	struct capsa_wasm_module *m = c->m;
	if (rd_u32(&c->r, &sub))
		return -1;
	if (sub <= 7)
		return wc_op_numeric(c, wc_numinfo_fc(sub));
	switch (sub) {
	case 8: /* memory.init */
		if (rd_u32(&c->r, &x) || wc_zero_byte(c))
			return -1;
		if (!m->nmems)
			return FAIL("unknown memory 0");
		if (!m->has_datacount)
			return FAIL("data count section required");
		if (x >= m->datacount)
			return FAIL("unknown data segment %u", x);
		if (pop3(c, CAPSA_WASM_I32, ops))
			return -1;
		wc_emit_op(c, OP_memory_init);
		wc_emit_reloc(c, RELOC_DATA, x);
		emit3(c, ops);
		return 0;
	case 9:
		if (rd_u32(&c->r, &x))
			return -1;
		if (!m->has_datacount)
			return FAIL("data count section required");
		if (x >= m->datacount)
			return FAIL("unknown data segment %u", x);
		wc_emit_op(c, OP_data_drop);
		wc_emit_reloc(c, RELOC_DATA, x);
		return 0;
	case 10:
	case 11:
		if (wc_zero_byte(c) || (sub == 10 && wc_zero_byte(c)))
			return -1;
		if (!m->nmems)
			return FAIL("unknown memory 0");
		if (pop3(c, CAPSA_WASM_I32, ops))
			return -1;
		wc_emit_op(c, sub == 10 ? OP_memory_copy : OP_memory_fill);
		emit3(c, ops);
		return 0;
	case 12: /* table.init elem table */
		if (rd_u32(&c->r, &x) || rd_u32(&c->r, &y))
			return -1;
		if (wc_check_table(c, y))
			return -1;
		if (x >= m->nelems)
			return FAIL("unknown elem segment %u", x);
		if (m->elems[x].type != m->tables[y].elem)
			return FAIL("type mismatch in table.init");
		if (pop3(c, CAPSA_WASM_I32, ops))
			return -1;
		wc_emit_op(c, OP_table_init);
		wc_emit_reloc(c, RELOC_TABLE, y);
		wc_emit_reloc(c, RELOC_ELEM, x);
		emit3(c, ops);
		return 0;
	case 13:
		if (rd_u32(&c->r, &x))
			return -1;
		if (x >= m->nelems)
			return FAIL("unknown elem segment %u", x);
		wc_emit_op(c, OP_elem_drop);
		wc_emit_reloc(c, RELOC_ELEM, x);
		return 0;
	case 14: /* table.copy dst src */
		if (rd_u32(&c->r, &x) || rd_u32(&c->r, &y))
			return -1;
		if (wc_check_table(c, x) || wc_check_table(c, y))
			return -1;
		if (m->tables[x].elem != m->tables[y].elem)
			return FAIL("type mismatch in table.copy");
		if (pop3(c, CAPSA_WASM_I32, ops))
			return -1;
		wc_emit_op(c, OP_table_copy);
		wc_emit_reloc(c, RELOC_TABLE, x);
		wc_emit_reloc(c, RELOC_TABLE, y);
		emit3(c, ops);
		return 0;
	case 15: /* table.grow: init n -> old */
		if (rd_u32(&c->r, &x) || wc_check_table(c, x))
			return -1;
		if (wc_pop(c, CAPSA_WASM_I32, &b) || wc_pop(c, m->tables[x].elem, &a))
			return -1;
		wc_emit_result_op(c, OP_table_grow, CAPSA_WASM_I32);
		c->last_dst = -1;
		wc_emit_reloc(c, RELOC_TABLE, x);
		wc_emit_u(c, a.slot);
		wc_emit_u(c, b.slot);
		return 0;
	case 16:
		if (rd_u32(&c->r, &x) || wc_check_table(c, x))
			return -1;
		wc_emit_result_op(c, OP_table_size, CAPSA_WASM_I32);
		c->last_dst = -1;
		wc_emit_reloc(c, RELOC_TABLE, x);
		return 0;
	case 17: /* table.fill i val n */
		if (rd_u32(&c->r, &x) || wc_check_table(c, x))
			return -1;
		if (pop3(c, m->tables[x].elem, ops))
			return -1;
		wc_emit_op(c, OP_table_fill);
		wc_emit_reloc(c, RELOC_TABLE, x);
		emit3(c, ops);
		return 0;
	}
	return rd_fail(&c->r, "illegal opcode");
}

struct simdinfo {
	uint8_t valid, shape, param;
	uint16_t op;
};

#define SI(n, sub, shape, param, ...) [sub] = {1, shape, param, OP_##n},
static const struct simdinfo simdinfo[256] = {WASM_SIMD_OPS(SI)};

static uint8_t shape_scalar(uint8_t shape)
{
	switch (shape) {
	case SH_SPLAT_I64:
	case SH_EXTRACT_I64:
	case SH_REPLACE_I64:
		return CAPSA_WASM_I64;
	case SH_SPLAT_F32:
	case SH_EXTRACT_F32:
	case SH_REPLACE_F32:
		return CAPSA_WASM_F32;
	case SH_SPLAT_F64:
	case SH_EXTRACT_F64:
	case SH_REPLACE_F64:
		return CAPSA_WASM_F64;
	}
	return CAPSA_WASM_I32;
}

static int read_lane(struct cc *c, uint32_t lanes, uint8_t *lane)
{
	if (rd_u8(&c->r, lane))
		return -1;
	if (*lane >= lanes)
		return FAIL("invalid lane index %u at byte 0x%x", *lane, c->cur_off);
	return 0;
}

/* Emit a v128-producing op: dst first, then the given operands. */
static void emit_v(struct cc *c, uint16_t op, int n, const uint64_t *ops)
{
	uint32_t dst = wc_next_canon(c);
	wc_emit_op(c, (enum wasm_op)op);
	wc_emit_u(c, dst);
	for (int i = 0; i < n; i++)
		wc_emit_u(c, ops[i]);
	wc_push(c, CAPSA_WASM_V128);
}

int wc_op_simd(struct cc *c)
{
	uint32_t sub, offset;
	struct vent a, b, v;
	const uint8_t V = CAPSA_WASM_V128;
	if (rd_u32(&c->r, &sub))
		return -1;
	if (sub == 12) { /* v128.const */
		const uint8_t *bytes;
		uint64_t lo, hi;
		if (rd_bytes(&c->r, 16, &bytes))
			return -1;
		memcpy(&lo, bytes, 8);
		memcpy(&hi, bytes + 8, 8);
		uint64_t ops[2] = {lo, hi};
		emit_v(c, OP_const128, 2, ops);
		return 0;
	}
	if (sub == 13) { /* i8x16.shuffle */
		const uint8_t *lanes;
		if (rd_bytes(&c->r, 16, &lanes))
			return -1;
		for (int i = 0; i < 16; i++)
			if (lanes[i] >= 32)
				return FAIL("invalid lane index %u at byte 0x%x", lanes[i],
				            c->cur_off);
		if (wc_pop(c, V, &b) || wc_pop(c, V, &a))
			return -1;
		uint64_t ops[4] = {a.slot, b.slot, 0, 0};
		memcpy(&ops[2], lanes, 8);
		memcpy(&ops[3], lanes + 8, 8);
		emit_v(c, OP_i8x16_shuffle, 4, ops);
		return 0;
	}
	if (sub > 255 || !simdinfo[sub].valid)
		return rd_fail(&c->r, "illegal opcode");
	const struct simdinfo *si = &simdinfo[sub];
	uint8_t lane = 0, st = shape_scalar(si->shape);
	switch (si->shape) {
	case SH_BIN:
		if (wc_pop(c, V, &b) || wc_pop(c, V, &a))
			return -1;
		emit_v(c, si->op, 2, (uint64_t[]){a.slot, b.slot});
		return 0;
	case SH_UN:
		if (wc_pop(c, V, &a))
			return -1;
		emit_v(c, si->op, 1, (uint64_t[]){a.slot});
		return 0;
	case SH_TERN: {
		struct vent m;
		if (wc_pop(c, V, &m) || wc_pop(c, V, &b) || wc_pop(c, V, &a))
			return -1;
		emit_v(c, si->op, 3, (uint64_t[]){a.slot, b.slot, m.slot});
		return 0;
	}
	case SH_TEST:
		if (wc_pop(c, V, &a))
			return -1;
		wc_emit_result_op(c, (enum wasm_op)si->op, CAPSA_WASM_I32);
		wc_emit_u(c, a.slot);
		c->last_dst = -1;
		return 0;
	case SH_SHIFT:
		if (wc_pop(c, CAPSA_WASM_I32, &b) || wc_pop(c, V, &a))
			return -1;
		emit_v(c, si->op, 2, (uint64_t[]){a.slot, b.slot});
		return 0;
	case SH_SPLAT_I32:
	case SH_SPLAT_I64:
	case SH_SPLAT_F32:
	case SH_SPLAT_F64:
		if (wc_pop(c, st, &a))
			return -1;
		emit_v(c, si->op, 1, (uint64_t[]){a.slot});
		return 0;
	case SH_EXTRACT_I32:
	case SH_EXTRACT_I64:
	case SH_EXTRACT_F32:
	case SH_EXTRACT_F64:
		if (read_lane(c, si->param, &lane) || wc_pop(c, V, &a))
			return -1;
		wc_emit_result_op(c, (enum wasm_op)si->op, st);
		wc_emit_u(c, a.slot);
		wc_emit_u(c, lane);
		c->last_dst = -1;
		return 0;
	case SH_REPLACE_I32:
	case SH_REPLACE_I64:
	case SH_REPLACE_F32:
	case SH_REPLACE_F64:
		if (read_lane(c, si->param, &lane) || wc_pop(c, st, &b) || wc_pop(c, V, &a))
			return -1;
		emit_v(c, si->op, 3, (uint64_t[]){a.slot, b.slot, lane});
		return 0;
	case SH_LOAD:
		if (wc_read_memarg(c, si->param, &offset) || wc_pop(c, CAPSA_WASM_I32, &a))
			return -1;
		emit_v(c, si->op, 2, (uint64_t[]){a.slot, offset});
		return 0;
	case SH_STORE:
		if (wc_read_memarg(c, si->param, &offset) || wc_pop(c, V, &v) ||
		    wc_pop(c, CAPSA_WASM_I32, &a))
			return -1;
		wc_emit_op(c, (enum wasm_op)si->op);
		wc_emit_u(c, a.slot);
		wc_emit_u(c, v.slot);
		wc_emit_u(c, offset);
		return 0;
	case SH_LOAD_LANE:
		if (wc_read_memarg(c, si->param, &offset) || read_lane(c, 16u / si->param, &lane) ||
		    wc_pop(c, V, &v) || wc_pop(c, CAPSA_WASM_I32, &a))
			return -1;
		emit_v(c, si->op, 4, (uint64_t[]){a.slot, v.slot, offset, lane});
		return 0;
	case SH_STORE_LANE:
		if (wc_read_memarg(c, si->param, &offset) || read_lane(c, 16u / si->param, &lane) ||
		    wc_pop(c, V, &v) || wc_pop(c, CAPSA_WASM_I32, &a))
			return -1;
		wc_emit_op(c, (enum wasm_op)si->op);
		wc_emit_u(c, a.slot);
		wc_emit_u(c, v.slot);
		wc_emit_u(c, offset);
		wc_emit_u(c, lane);
		return 0;
	}
	return rd_fail(&c->r, "illegal opcode");
}
