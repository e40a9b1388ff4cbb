/* SPDX-License-Identifier: Apache-2.0 */
/* SSSE3 on XMM registers (66 0F 38 00-0B, 1C-1E and 66 0F 3A 0F), written
 * in C so that the host need not have SSSE3. The MMX forms are in
 * sse_mmx.c. */
#include "vm/emu/sse_impl.h"

static int16_t sat16(int32_t v)
{
	return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

/* horizontal add/subtract of adjacent pairs: destination pairs to the low
 * half, source pairs to the high half */
static void hop(sse_v *r, const sse_v *d, const sse_v *s, unsigned op)
{
	if (op == 0x02 || op == 0x06) {
		for (int k = 0; k < 2; k++) {
			r->d[k] =
			    op == 2 ? d->d[2 * k] + d->d[2 * k + 1] : d->d[2 * k] - d->d[2 * k + 1];
			r->d[2 + k] =
			    op == 2 ? s->d[2 * k] + s->d[2 * k + 1] : s->d[2 * k] - s->d[2 * k + 1];
		}
		return;
	}
	for (int k = 0; k < 8; k++) {
		const sse_v *v = k < 4 ? d : s;
		int a = v->sw[2 * (k & 3)], b = v->sw[2 * (k & 3) + 1];
		int32_t x = (op == 0x01 || op == 0x03) ? a + b : a - b;
		r->sw[k] = (op == 0x03 || op == 0x07) ? sat16(x) : (int16_t)x;
	}
}

void sse_ssse3_op(sse_v *r, const sse_v *d, const sse_v *s, unsigned op)
{
	switch (op) {
	case 0x00:
		for (int k = 0; k < 16; k++)
			r->b[k] = (s->b[k] & 0x80) ? 0 : d->b[s->b[k] & 15];
		break;
	case 0x01 ... 0x03:
	case 0x05 ... 0x07:
		hop(r, d, s, op);
		break;
	case 0x04:
		for (int k = 0; k < 8; k++)
			r->sw[k] =
			    sat16(d->b[2 * k] * s->sb[2 * k] + d->b[2 * k + 1] * s->sb[2 * k + 1]);
		break;
	case 0x08:
		for (int k = 0; k < 16; k++)
			r->sb[k] = (int8_t)(s->sb[k] < 0 ? -d->sb[k] : s->sb[k] ? d->sb[k] : 0);
		break;
	case 0x09:
		for (int k = 0; k < 8; k++)
			r->sw[k] = (int16_t)(s->sw[k] < 0 ? -d->sw[k] : s->sw[k] ? d->sw[k] : 0);
		break;
	case 0x0a:
		for (int k = 0; k < 4; k++)
			r->d[k] = s->sd[k] < 0 ? 0u - d->d[k] : s->sd[k] ? d->d[k] : 0;
		break;
	case 0x0b:
		for (int k = 0; k < 8; k++)
			r->sw[k] = (int16_t)((((int32_t)d->sw[k] * s->sw[k] >> 14) + 1) >> 1);
		break;
	case 0x1c:
		for (int k = 0; k < 16; k++)
			r->b[k] = (uint8_t)(s->sb[k] < 0 ? -s->sb[k] : s->sb[k]);
		break;
	case 0x1d:
		for (int k = 0; k < 8; k++)
			r->w[k] = (uint16_t)(s->sw[k] < 0 ? -s->sw[k] : s->sw[k]);
		break;
	case 0x1e:
		for (int k = 0; k < 4; k++)
			r->d[k] = s->sd[k] < 0 ? 0u - s->d[k] : s->d[k];
		break;
	}
}

static int op_ssse3(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v d, s, r;
	sse_src(c, i, &s, 16, 1);
	sse_get(c, i->reg, &d);
	sse_ssse3_op(&r, &d, &s, i->op);
	sse_put(c, i->reg, &r);
	EMU_NEXT(c, i);
}

/* PALIGNR xmm, xmm/m128, imm8: (dest:src) >> (imm8 * 8), low 16 bytes */
static int op_palignr(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v d, s, r;
	sse_src(c, i, &s, 16, 1);
	sse_get(c, i->reg, &d);
	unsigned n = (unsigned)(i->imm & 0xff);
	for (unsigned k = 0; k < 16; k++) {
		unsigned j = k + n;
		r.b[k] = j < 16 ? s.b[j] : j < 32 ? d.b[j - 16] : 0;
	}
	sse_put(c, i->reg, &r);
	EMU_NEXT(c, i);
}

emu_fn sse_ssse3_pick(const struct emu_insn *i)
{
	if (sse_pidx(i) != 1)
		return NULL;
	if (i->map == 3)
		return i->op == 0x0f ? op_palignr : NULL;
	if (i->map != 2)
		return NULL;
	if (i->op <= 0x0b || (i->op >= 0x1c && i->op <= 0x1e))
		return op_ssse3;
	return NULL;
}
