/* SPDX-License-Identifier: Apache-2.0 */
/* x86-64 instruction encoding (see x64.h). */
#include "wasm/jit/x64.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void xb_free(struct xbuf *b)
{
	free(b->p);
	free(b->labels);
	free(b->fixes);
	free(b->lates);
	memset(b, 0, sizeof(*b));
}

static int grow(void **p, uint32_t *cap, uint32_t n, size_t sz)
{
	if (n < *cap)
		return 0;
	uint32_t c = *cap ? *cap * 2 : 64;
	void *q = realloc(*p, (size_t)c * sz);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

/* The fixed buffer's next pages, up to need at least, faulted in at once
 * (one call per window, not one fault per page; older kernels refuse:
 * then each page faults when first written). */
static void populate(struct xbuf *b, size_t need)
{
	size_t c = b->cap + (b->cap / 8 > (32u << 10) ? b->cap / 8 : 32u << 10);
	if (c < need)
		c = need;
	c = (c + 4095) & ~(size_t)4095;
	if (c > b->room)
		c = b->room;
	madvise(b->p + b->cap, c - b->cap, MADV_POPULATE_WRITE);
	b->cap = c;
}

void xb_presize(struct xbuf *b, uint32_t nlabels, uint32_t nfixes)
{
	int32_t *l = nlabels <= b->caplabels ? NULL : realloc(b->labels, nlabels * sizeof(*l));
	if (l) {
		b->labels = l;
		b->caplabels = nlabels;
	}
	struct xfix *f = nfixes <= b->capfixes ? NULL : realloc(b->fixes, nfixes * sizeof(*f));
	if (f) {
		b->fixes = f;
		b->capfixes = nfixes;
	}
}

static int reserve(struct xbuf *b, size_t n)
{
	if (b->oom)
		return -1;
	if (b->n + n <= b->cap)
		return 0;
	if (b->fixed && b->n + n <= b->room) {
		populate(b, b->n + n);
		return 0;
	}
	if (b->fixed) {
		b->oom = 1;
		return -1;
	}
	size_t c = b->cap ? b->cap * 2 : 4096;
	while (c < b->n + n)
		c *= 2;
	uint8_t *q = realloc(b->p, c);
	if (!q) {
		b->oom = 1;
		return -1;
	}
	b->p = q;
	b->cap = c;
	return 0;
}

void xb_u8_slow(struct xbuf *b, uint8_t v)
{
	if (!reserve(b, 1))
		b->p[b->n++] = v;
}

void xb_u32_slow(struct xbuf *b, uint32_t v)
{
	if (!reserve(b, 4)) {
		memcpy(b->p + b->n, &v, 4);
		b->n += 4;
	}
}

void xb_u64(struct xbuf *b, uint64_t v)
{
	if (!reserve(b, 8)) {
		memcpy(b->p + b->n, &v, 8);
		b->n += 8;
	}
}

/* Instructions are encoded straight into the buffer when it has room for
 * the longest one (15 bytes), else into a scratch array appended after:
 * the bytes are the same either way. */
#define XB_ROOM 16

static inline uint8_t *enc_begin(struct xbuf *b, uint8_t *tmp)
{
	return b->n + XB_ROOM <= b->cap ? b->p + b->n : tmp;
}

static inline void enc_end(struct xbuf *b, const uint8_t *tmp, const uint8_t *start,
                           const uint8_t *end)
{
	size_t n = (size_t)(end - start);
	if (start != tmp) {
		b->n += n;
		return;
	}
	for (size_t i = 0; i < n; i++)
		xb_u8(b, tmp[i]);
}

static void prefix_rex(struct xbuf *b, int pfx, int w, int r, int x, int bb, int force)
{
	uint8_t tmp[XB_ROOM], *s = enc_begin(b, tmp);
	enc_end(b, tmp, s, x_put_prefix_rex(s, pfx, w, r, x, bb, force));
}

void x_rr_any(struct xbuf *b, int pfx, int w, uint32_t op, int reg, int rm, int byteop)
{
	int force = byteop && ((reg >= 4 && reg < 8) || (rm >= 4 && rm < 8));
	uint8_t tmp[XB_ROOM], *s = enc_begin(b, tmp);
	uint8_t *p = x_put_prefix_rex(s, pfx, w, reg, 0, rm, force);
	p = x_put_opcode(p, op);
	*p++ = (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7));
	enc_end(b, tmp, s, p);
}

void x_rm_any(struct xbuf *b, int pfx, int w, uint32_t op, int reg, struct xm m, int byteop)
{
	int idx = m.index == NO_INDEX ? 0 : m.index;
	int base = m.base == RIP_BASE ? 0 : m.base;
	uint8_t tmp[XB_ROOM], *s = enc_begin(b, tmp);
	uint8_t *p = x_put_prefix_rex(s, pfx, w, reg, idx, base, byteop && reg >= 4 && reg < 8);
	p = x_put_opcode(p, op);
	int r = (reg & 7) << 3;
	if (m.base == RIP_BASE) {
		*p++ = (uint8_t)(r | 5);
		enc_end(b, tmp, s, x_put_u32(p, (uint32_t)m.disp));
		return;
	}
	int mod = m.late                               ? 2
	          : (m.disp == 0 && (base & 7) != RBP) ? 0
	          : (m.disp >= -128 && m.disp <= 127)  ? 1
	                                               : 2;
	if (m.index != NO_INDEX || (base & 7) == RSP) {
		int ss = m.scale == 8 ? 3 : m.scale == 4 ? 2 : m.scale == 2 ? 1 : 0;
		*p++ = (uint8_t)(mod << 6 | r | 4);
		*p++ = (uint8_t)(ss << 6 | (m.index == NO_INDEX ? 4 : (idx & 7)) << 3 | (base & 7));
	} else {
		*p++ = (uint8_t)(mod << 6 | r | (base & 7));
	}
	size_t disp_at = b->n + (size_t)(p - s);
	if (mod == 1)
		*p++ = (uint8_t)(int8_t)m.disp;
	else if (mod == 2)
		p = x_put_u32(p, (uint32_t)m.disp);
	enc_end(b, tmp, s, p);
	if (m.late) {
		if (grow((void **)&b->lates, &b->caplates, b->nlates, sizeof(uint32_t)))
			b->oom = 1;
		else
			b->lates[b->nlates++] = (uint32_t)disp_at;
	}
}

void x_mov_ri(struct xbuf *b, int w, int dst, uint64_t v)
{
	uint8_t tmp[XB_ROOM], *s = enc_begin(b, tmp), *p;
	if (!w || v <= 0xffffffffu) {
		p = x_put_prefix_rex(s, 0, 0, 0, 0, dst, 0);
		*p++ = (uint8_t)(0xb8 + (dst & 7));
		p = x_put_u32(p, (uint32_t)v);
	} else if ((int64_t)v == (int32_t)v) {
		p = x_put_prefix_rex(s, 0, 1, 0, 0, dst, 0);
		*p++ = 0xc7;
		*p++ = (uint8_t)(0xc0 | (dst & 7));
		p = x_put_u32(p, (uint32_t)v);
	} else {
		p = x_put_prefix_rex(s, 0, 1, 0, 0, dst, 0);
		*p++ = (uint8_t)(0xb8 + (dst & 7));
		memcpy(p, &v, 8);
		p += 8;
	}
	enc_end(b, tmp, s, p);
}

void x_store_i32(struct xbuf *b, int w, struct xm m, int32_t v)
{
	x_rm(b, 0, w, 0xc7, 0, m, 0);
	xb_u32(b, (uint32_t)v);
}

void x_alu_rr(struct xbuf *b, int w, int op, int dst, int src)
{
	x_rr(b, 0, w, (uint32_t)(op << 3 | 3), dst, src, 0);
}

void x_alu_rm(struct xbuf *b, int w, int op, int dst, struct xm m)
{
	x_rm(b, 0, w, (uint32_t)(op << 3 | 3), dst, m, 0);
}

void x_alu_ri(struct xbuf *b, int w, int op, int dst, int32_t v)
{
	if (v >= -128 && v <= 127) {
		x_rr(b, 0, w, 0x83, op, dst, 0);
		xb_u8(b, (uint8_t)(int8_t)v);
	} else {
		x_rr(b, 0, w, 0x81, op, dst, 0);
		xb_u32(b, (uint32_t)v);
	}
}

void x_alu_mi(struct xbuf *b, int w, int op, struct xm m, int32_t v)
{
	if (v >= -128 && v <= 127) {
		x_rm(b, 0, w, 0x83, op, m, 0);
		xb_u8(b, (uint8_t)(int8_t)v);
	} else {
		x_rm(b, 0, w, 0x81, op, m, 0);
		xb_u32(b, (uint32_t)v);
	}
}

void x_shift_ri(struct xbuf *b, int w, int digit, int dst, uint8_t n)
{
	x_rr(b, 0, w, 0xc1, digit, dst, 0);
	xb_u8(b, n);
}

void x_setcc(struct xbuf *b, int cc, int dst)
{
	x_rr(b, 0, 0, (uint32_t)(0x0f90 + cc), 0, dst, 1);
	x_rr(b, 0, 0, 0x0fb6, dst, dst, 1);
}

void x_push(struct xbuf *b, int r)
{
	prefix_rex(b, 0, 0, 0, 0, r, 0);
	xb_u8(b, (uint8_t)(0x50 + (r & 7)));
}

void x_pop(struct xbuf *b, int r)
{
	prefix_rex(b, 0, 0, 0, 0, r, 0);
	xb_u8(b, (uint8_t)(0x58 + (r & 7)));
}

void x_call_abs(struct xbuf *b, const void *fn)
{
	x_mov_ri(b, 1, RAX, (uint64_t)(uintptr_t)fn);
	x_rr(b, 0, 0, 0xff, 2, RAX, 0);
}

void x_ret(struct xbuf *b)
{
	xb_u8(b, 0xc3);
}

uint32_t x_label_grow(struct xbuf *b)
{
	if (grow((void **)&b->labels, &b->caplabels, b->nlabels, sizeof(int32_t))) {
		b->oom = 1;
		return 0;
	}
	b->labels[b->nlabels] = -1;
	return b->nlabels++;
}

void x_bind(struct xbuf *b, uint32_t l)
{
	if (l < b->nlabels)
		b->labels[l] = (int32_t)b->n;
}

void x_align16(struct xbuf *b)
{
	/* The long no-op forms (0f 1f /0), 1 to 8 bytes. */
	static const uint8_t nops[8][8] = {
	    {0x90},
	    {0x66, 0x90},
	    {0x0f, 0x1f, 0x00},
	    {0x0f, 0x1f, 0x40, 0x00},
	    {0x0f, 0x1f, 0x44, 0x00, 0x00},
	    {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
	    {0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
	    {0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
	};
	while (b->n % 16 && !b->oom) {
		size_t n = 16 - b->n % 16;
		if (n > 8)
			n = 8;
		for (size_t i = 0; i < n; i++)
			xb_u8(b, nops[n - 1][i]);
	}
}

void x_rel32_grow(struct xbuf *b, uint32_t l)
{
	if (grow((void **)&b->fixes, &b->capfixes, b->nfixes, sizeof(struct xfix))) {
		b->oom = 1;
		return;
	}
	b->fixes[b->nfixes++] = (struct xfix){(uint32_t)b->n, l};
	xb_u32(b, 0);
}

void x_jmp(struct xbuf *b, uint32_t l)
{
	xb_u8(b, 0xe9);
	x_rel32(b, l);
}

void x_jcc(struct xbuf *b, int cc, uint32_t l)
{
	xb_u8(b, 0x0f);
	xb_u8(b, (uint8_t)(0x80 + cc));
	x_rel32(b, l);
}

void x_call_label(struct xbuf *b, uint32_t l)
{
	xb_u8(b, 0xe8);
	x_rel32(b, l);
}

int64_t x_append(struct xbuf *b, const struct xbuf *src, uint32_t nshared)
{
	if (b->oom || src->oom || src->nlabels < nshared || nshared > b->nlabels)
		return -1;
	while (b->n % 16 && !b->oom) /* int3 padding */
		xb_u8(b, 0xcc);
	const uint32_t base = (uint32_t)b->n;
	if (reserve(b, src->n))
		return -1;
	memcpy(b->p + b->n, src->p, src->n);
	return x_adopt(b, src, nshared, base);
}

int64_t x_adopt(struct xbuf *b, const struct xbuf *src, uint32_t nshared, uint32_t base)
{
	if (b->oom || src->oom || src->nlabels < nshared || nshared > b->nlabels || base < b->n ||
	    (uint64_t)base + src->n > UINT32_MAX)
		return -1;
	const uint32_t first = b->nlabels;
	b->n = base + src->n;
	for (uint32_t l = 0; l < src->nlabels; l++) {
		uint32_t to = l < nshared ? l : x_label(b);
		if (b->oom)
			return -1;
		if (src->labels[l] >= 0)
			b->labels[to] = src->labels[l] + (int32_t)base;
	}
	for (uint32_t i = 0; i < src->nfixes; i++) {
		const struct xfix *f = &src->fixes[i];
		if (grow((void **)&b->fixes, &b->capfixes, b->nfixes, sizeof(struct xfix)))
			return b->oom = 1, -1;
		uint32_t l = f->label < nshared ? f->label : first + (f->label - nshared);
		b->fixes[b->nfixes++] = (struct xfix){f->at + base, l};
	}
	return base;
}

int x_settle(struct xbuf *b, uint32_t nshared)
{
	if (b->oom || nshared > b->nlabels)
		return -1;
	uint32_t kept = 0;
	for (uint32_t i = 0; i < b->nfixes; i++) {
		const struct xfix f = b->fixes[i];
		if (f.label < nshared) {
			b->fixes[kept++] = f;
			continue;
		}
		if (f.label >= b->nlabels || b->labels[f.label] < 0)
			return -1;
		int32_t rel = b->labels[f.label] - (int32_t)(f.at + 4);
		memcpy(b->p + f.at, &rel, 4);
	}
	b->nfixes = kept;
	b->nlabels = nshared;
	return 0;
}

int x_resolve(struct xbuf *b)
{
	if (b->oom)
		return -1;
	for (uint32_t i = 0; i < b->nfixes; i++) {
		const struct xfix *f = &b->fixes[i];
		if (f->label >= b->nlabels || b->labels[f->label] < 0)
			return -1;
		int32_t rel = b->labels[f->label] - (int32_t)(f->at + 4);
		memcpy(b->p + f->at, &rel, 4);
	}
	return 0;
}
