/* SPDX-License-Identifier: Apache-2.0 */
/* LEB128 and friends for the binary decoder. */
#include "wasm/reader.h"

#include <stdlib.h>

int rd_fail(struct rd *r, const char *what)
{
	return err_set(r->e, ERR_INPUT, "%s at byte 0x%x", what, rd_off(r));
}

int rd_u8_slow(struct rd *r, uint8_t *out)
{
	if (r->p >= r->end)
		return rd_fail(r, "unexpected end");
	*out = *r->p++;
	return 0;
}

static int rd_uleb(struct rd *r, unsigned bits, uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;
	for (;;) {
		uint8_t b;
		if (r->p >= r->end)
			return rd_fail(r, "unexpected end of LEB128 integer");
		b = *r->p++;
		if (shift + 7 >= bits) {
			/* Last permitted byte: no continuation, unused bits zero. */
			unsigned used = bits - shift;
			if (b & 0x80)
				return rd_fail(r, "integer representation too long");
			if (used < 7 && (b >> used) != 0)
				return rd_fail(r, "integer too large");
			v |= (uint64_t)b << shift;
			break;
		}
		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			break;
	}
	*out = v;
	return 0;
}

static int rd_sleb(struct rd *r, unsigned bits, int64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b;
	for (;;) {
		if (r->p >= r->end)
			return rd_fail(r, "unexpected end of LEB128 integer");
		b = *r->p++;
		if (shift + 7 >= bits) {
			unsigned used = bits - shift; /* 1..7 value bits in this byte */
			if (b & 0x80)
				return rd_fail(r, "integer representation too long");
			/* Remaining bits must be a sign extension of bit used-1. */
			int sign = (b >> (used - 1)) & 1;
			uint8_t rest = (uint8_t)((b & 0x7f) >> used);
			uint8_t want = sign ? (uint8_t)(0x7f >> used) : 0;
			if (rest != want)
				return rd_fail(r, "integer too large");
			v |= (uint64_t)(b & 0x7f) << shift;
			shift += 7;
			break;
		}
		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			break;
	}
	if (shift < 64 && (b & 0x40))
		v |= ~(uint64_t)0 << shift;
	*out = (int64_t)v;
	return 0;
}

int rd_u32_slow(struct rd *r, uint32_t *out)
{
	uint64_t v = 0;
	if (rd_uleb(r, 32, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int rd_s32_slow(struct rd *r, int32_t *out)
{
	const uint8_t *p = r->p;
	if (r->end - p >= 5) { /* up to five bytes at once; anything odd below */
		uint32_t u = 0;
		for (unsigned i = 0; i < 4; i++) {
			u |= (uint32_t)(p[i] & 0x7f) << (7 * i);
			if (!(p[i] & 0x80)) {
				unsigned drop = 32 - 7 * (i + 1); /* sign-extend from bit 7i+6 */
				*out = (int32_t)(u << drop) >> drop;
				r->p = p + i + 1;
				return 0;
			}
		}
		/* The fifth byte: 4 value bits, the 3 above them copies of the
		 * sign bit, no continuation. */
		uint8_t b = p[4];
		if (!(b & 0x80) && (b & 0x70) >> 4 == (b & 0x08 ? 7 : 0)) {
			*out = (int32_t)(u | (uint32_t)b << 28);
			r->p = p + 5;
			return 0;
		}
	}
	int64_t v = 0;
	if (rd_sleb(r, 32, &v))
		return -1;
	*out = (int32_t)v;
	return 0;
}

int rd_s33(struct rd *r, int64_t *out)
{
	return rd_sleb(r, 33, out);
}

int rd_s64(struct rd *r, int64_t *out)
{
	return rd_sleb(r, 64, out);
}

int rd_bytes(struct rd *r, size_t n, const uint8_t **out)
{
	if (rd_left(r) < n)
		return rd_fail(r, "unexpected end");
	*out = r->p;
	r->p += n;
	return 0;
}

int rd_f32(struct rd *r, uint32_t *out)
{
	const uint8_t *b = NULL;
	if (rd_bytes(r, 4, &b))
		return -1;
	memcpy(out, b, 4);
	return 0;
}

int rd_f64(struct rd *r, uint64_t *out)
{
	const uint8_t *b = NULL;
	if (rd_bytes(r, 8, &b))
		return -1;
	memcpy(out, b, 8);
	return 0;
}

int utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		uint32_t cp;
		size_t len;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i < len)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

int rd_name(struct rd *r, char **out)
{
	uint32_t len;
	return rd_name_len(r, out, &len);
}

int rd_name_len(struct rd *r, char **out, uint32_t *len)
{
	uint32_t n;
	const uint8_t *b = NULL;
	if (rd_u32(r, &n) || rd_bytes(r, n, &b))
		return -1;
	if (!utf8_valid(b, n))
		return rd_fail(r, "malformed UTF-8 encoding");
	char *s = malloc((size_t)n + 1);
	if (!s)
		return err_set(r->e, ERR_SYSTEM, "out of memory");
	memcpy(s, b, n);
	s[n] = '\0';
	*out = s;
	*len = n;
	return 0;
}
