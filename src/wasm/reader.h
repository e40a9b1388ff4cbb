/* SPDX-License-Identifier: Apache-2.0 */
/* Bounds-checked reader for the WebAssembly binary format (LEB128, floats,
 * names). Every function returns 0 or -1 with an ERR_INPUT error naming the
 * byte offset. */
#ifndef CAPSA_WASM_READER_H
#define CAPSA_WASM_READER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/err.h"

struct rd {
	const uint8_t *p, *end, *base;
	struct err *e;
};

int rd_fail(struct rd *r, const char *what);
/* rd_u8, rd_u32 and rd_s32 read one byte inline when they can (most
 * immediates are small); the rest, errors included, is done by these. */
int rd_u8_slow(struct rd *r, uint8_t *out);
int rd_u32_slow(struct rd *r, uint32_t *out);
int rd_s32_slow(struct rd *r, int32_t *out);
int rd_s33(struct rd *r, int64_t *out);
int rd_s64(struct rd *r, int64_t *out);
int rd_bytes(struct rd *r, size_t n, const uint8_t **out);
int rd_f32(struct rd *r, uint32_t *out);
int rd_f64(struct rd *r, uint64_t *out);
/* A length-prefixed UTF-8 name, copied into a new NUL-terminated string. */
int rd_name(struct rd *r, char **out);
/* Same, also giving the length (names may contain NUL bytes). */
int rd_name_len(struct rd *r, char **out, uint32_t *len);
int utf8_valid(const uint8_t *s, size_t n);

static inline size_t rd_left(const struct rd *r)
{
	return (size_t)(r->end - r->p);
}
static inline uint32_t rd_off(const struct rd *r)
{
	return (uint32_t)(r->p - r->base);
}

static inline int rd_u8(struct rd *r, uint8_t *out)
{
	if (r->p < r->end) {
		*out = *r->p++;
		return 0;
	}
	return rd_u8_slow(r, out);
}
static inline int rd_u32(struct rd *r, uint32_t *out)
{
	if (r->p < r->end && *r->p < 0x80) {
		*out = *r->p++;
		return 0;
	}
	return rd_u32_slow(r, out);
}
static inline int rd_s32(struct rd *r, int32_t *out)
{
	if (r->p < r->end && *r->p < 0x80) {
		*out = (int32_t)((uint32_t)*r->p++ << 25) >> 25; /* 7 bits, sign-extended */
		return 0;
	}
	if (r->end - r->p >= 2 && r->p[1] < 0x80) { /* 14 bits */
		*out = (int32_t)(((uint32_t)(r->p[0] & 0x7f) | (uint32_t)r->p[1] << 7) << 18) >> 18;
		r->p += 2;
		return 0;
	}
	return rd_s32_slow(r, out);
}

#endif
