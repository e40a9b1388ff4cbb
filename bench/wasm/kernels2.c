/* SPDX-License-Identifier: Apache-2.0 */
/* The held-out kernel set of the wasm benchmark: algorithms unlike those of
 * kernels.c (floating-point n-body, an open-addressing hash table, string
 * search, a JSON tokenizer, LZ77 compression, big-integer multiply). The
 * engines are tuned on kernels.c and reported on both sets. Usage:
 * kernels2 NAME [SCALE]; prints a checksum. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* ---- n-body: five bodies, velocity Verlet in double precision ---- */

struct body {
	double x[3], v[3], m;
};

static void nbody_step(struct body *b, int n, double dt)
{
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++) {
			double d[3], d2 = 0;
			for (int k = 0; k < 3; k++) {
				d[k] = b[i].x[k] - b[j].x[k];
				d2 += d[k] * d[k];
			}
			double mag = dt / (d2 * sqrt(d2));
			for (int k = 0; k < 3; k++) {
				b[i].v[k] -= d[k] * b[j].m * mag;
				b[j].v[k] += d[k] * b[i].m * mag;
			}
		}
	for (int i = 0; i < n; i++)
		for (int k = 0; k < 3; k++)
			b[i].x[k] += dt * b[i].v[k];
}

static double nbody_energy(const struct body *b, int n)
{
	double e = 0;
	for (int i = 0; i < n; i++) {
		e += 0.5 * b[i].m *
		     (b[i].v[0] * b[i].v[0] + b[i].v[1] * b[i].v[1] + b[i].v[2] * b[i].v[2]);
		for (int j = i + 1; j < n; j++) {
			double d2 = 0;
			for (int k = 0; k < 3; k++)
				d2 += (b[i].x[k] - b[j].x[k]) * (b[i].x[k] - b[j].x[k]);
			e -= b[i].m * b[j].m / sqrt(d2);
		}
	}
	return e;
}

static uint32_t nbody(int scale)
{
	struct body b[5];
	for (int i = 0; i < 5; i++) {
		for (int k = 0; k < 3; k++) {
			b[i].x[k] = (double)(i * 3 + k) - 7.0 + (i == k ? 0.5 : 0.0);
			b[i].v[k] = ((double)((i + 2 * k) % 5) - 2.0) * 0.01;
		}
		b[i].m = i == 0 ? 40.0 : 0.04 * (i + 1);
	}
	for (int s = 0; s < scale * 1000; s++)
		nbody_step(b, 5, 0.001);
	return (uint32_t)(int64_t)(nbody_energy(b, 5) * 1e6);
}

/* ---- hash table: open addressing, inserts, lookups and deletions ---- */

static uint32_t hash32(uint32_t k)
{
	k ^= k >> 16;
	k *= 0x7feb352d;
	k ^= k >> 15;
	k *= 0x846ca68b;
	return k ^ (k >> 16);
}

static uint32_t hashtab(int scale)
{
	const uint32_t cap = 1 << 16, empty = 0, gone = 1;
	uint32_t *keys = calloc(cap, sizeof(uint32_t)), *vals = calloc(cap, sizeof(uint32_t));
	uint32_t sum = 0;
	rnd_state = 777;
	for (int r = 0; r < scale; r++) {
		for (int i = 0; i < 40000; i++) {
			uint32_t k = (rnd() % 60000) + 2, h = hash32(k) & (cap - 1), slot = cap;
			for (;; h = (h + 1) & (cap - 1)) {
				if (keys[h] == k) {
					slot = h;
					break;
				}
				if (keys[h] == gone && slot == cap)
					slot = h;
				if (keys[h] == empty) {
					if (slot == cap)
						slot = h;
					break;
				}
			}
			if (keys[slot] == k && (i & 3) == 0) {
				keys[slot] = gone; /* every fourth hit deletes */
				sum += vals[slot];
			} else if (keys[slot] == k) {
				vals[slot] += (uint32_t)i;
			} else {
				keys[slot] = k;
				vals[slot] = (uint32_t)i;
			}
		}
	}
	for (uint32_t i = 0; i < cap; i++)
		sum = sum * 31 + keys[i] + vals[i];
	free(keys);
	free(vals);
	return sum;
}

/* ---- string search: Horspool over generated text, many patterns ---- */

static size_t horspool(const uint8_t *t, size_t n, const uint8_t *p, size_t m, size_t *count)
{
	size_t shift[256], first = n;
	for (int i = 0; i < 256; i++)
		shift[i] = m;
	for (size_t i = 0; i + 1 < m; i++)
		shift[p[i]] = m - 1 - i;
	for (size_t i = 0; i + m <= n; i += shift[t[i + m - 1]]) {
		if (t[i + m - 1] == p[m - 1] && !memcmp(t + i, p, m - 1)) {
			(*count)++;
			if (first == n)
				first = i;
		}
	}
	return first;
}

static uint32_t strsearch(int scale)
{
	size_t n = 1 << 18;
	uint8_t *t = malloc(n);
	rnd_state = 4242;
	for (size_t i = 0; i < n; i++)
		t[i] = (uint8_t)("acgt"[rnd() & 3]);
	uint32_t sum = 0;
	for (int r = 0; r < scale; r++) {
		uint8_t p[16];
		size_t m = 4 + (size_t)(r % 9), count = 0;
		for (size_t i = 0; i < m; i++)
			p[i] = (uint8_t)("acgt"[(r * 7 + i * 3 + i / 2) & 3]);
		size_t first = horspool(t, n, p, m, &count);
		sum = sum * 33 + (uint32_t)count + (uint32_t)first;
	}
	free(t);
	return sum;
}

/* ---- JSON tokenizer: nested arrays and objects of numbers and strings ---- */

static size_t json_gen(char *out, size_t cap)
{
	size_t n = 0;
	int depth = 0;
	rnd_state = 99;
	while (n + 64 < cap) {
		uint32_t c = rnd() % 10;
		if (c < 2 && depth < 20) {
			out[n++] = c ? '[' : '{';
			depth++;
		} else if (c < 4 && depth > 0) {
			out[n++] = ']';
			depth--;
		} else if (c < 7) {
			n += (size_t)snprintf(out + n, cap - n, "%d.%u,",
			                      (int)(rnd() % 20000) - 10000, rnd() % 1000);
		} else {
			n += (size_t)snprintf(out + n, cap - n, "\"k%u\\n\":", rnd() % 100000);
		}
	}
	while (depth-- > 0)
		out[n++] = ']';
	out[n] = 0;
	return n;
}

static uint32_t json_scan(const char *s, size_t n)
{
	uint32_t h = 0, strings = 0, depth = 0;
	int64_t ints = 0;
	double fsum = 0;
	for (size_t i = 0; i < n;) {
		char c = s[i];
		if (c == '"') {
			uint32_t sh = 5381;
			for (i++; i < n && s[i] != '"'; i++) {
				if (s[i] == '\\')
					i++;
				sh = sh * 33 + (uint8_t)s[i];
			}
			i++;
			h ^= sh;
			strings++;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			int neg = c == '-';
			int64_t v = 0;
			for (i += neg; i < n && s[i] >= '0' && s[i] <= '9'; i++)
				v = v * 10 + (s[i] - '0');
			double frac = 0, scale = 0.1;
			if (i < n && s[i] == '.')
				for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, scale *= 0.1)
					frac += (s[i] - '0') * scale;
			ints += neg ? -v : v;
			fsum += neg ? -frac : frac;
		} else {
			depth += c == '[' || c == '{';
			i++;
		}
	}
	return h + strings * 7 + depth + (uint32_t)ints + (uint32_t)(int64_t)(fsum * 1000);
}

static uint32_t json(int scale)
{
	size_t cap = 1 << 18;
	char *s = malloc(cap);
	size_t n = json_gen(s, cap);
	uint32_t sum = 0;
	for (int r = 0; r < scale; r++)
		sum = sum * 3 + json_scan(s, n);
	free(s);
	return sum;
}

/* ---- LZ77: hash-chain compression, decompression, round trip ---- */

#define LZ_WIN  4096
#define LZ_HASH 4096

static size_t lz_compress(const uint8_t *in, size_t n, uint8_t *out)
{
	static int32_t head[LZ_HASH], prev[LZ_WIN];
	memset(head, -1, sizeof(head));
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		size_t best = 0, dist = 0;
		if (i + 3 <= n) {
			uint32_t h = ((in[i] << 8) ^ (in[i + 1] << 4) ^ in[i + 2]) & (LZ_HASH - 1);
			int tries = 16;
			for (int32_t j = head[h]; j >= 0 && i - (size_t)j < LZ_WIN && tries--;
			     j = prev[j % LZ_WIN]) {
				size_t l = 0;
				while (l < 255 && i + l < n && in[j + l] == in[i + l])
					l++;
				if (l > best) {
					best = l;
					dist = i - (size_t)j;
				}
			}
			prev[i % LZ_WIN] = head[h];
			head[h] = (int32_t)i;
		}
		if (best >= 4) {
			out[o++] = 0xff;
			out[o++] = (uint8_t)best;
			out[o++] = (uint8_t)(dist >> 8);
			out[o++] = (uint8_t)dist;
			i += best;
		} else {
			if (in[i] == 0xff)
				out[o++] = 0xff, out[o++] = 0;
			else
				out[o++] = in[i];
			i++;
		}
	}
	return o;
}

static size_t lz_decompress(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		if (in[i] != 0xff) {
			out[o++] = in[i++];
		} else if (in[i + 1] == 0) {
			out[o++] = 0xff;
			i += 2;
		} else {
			size_t len = in[i + 1], dist = ((size_t)in[i + 2] << 8) | in[i + 3];
			for (size_t k = 0; k < len; k++, o++)
				out[o] = out[o - dist];
			i += 4;
		}
	}
	return o;
}

static uint32_t lz(int scale)
{
	size_t n = 1 << 17;
	uint8_t *in = malloc(n), *c = malloc(2 * n + 16), *d = malloc(n);
	rnd_state = 31337;
	static const char *const words[] = {"the ",   "quick ", "brown ", "fox ",  "jumps ",
	                                    "over ",  "lazy ",  "dog ",   "wasm ", "capsa ",
	                                    "\xff\n", "lorem ", "ipsum "};
	for (size_t i = 0; i < n;) {
		const char *w = words[rnd() % 13];
		for (; *w && i < n; w++)
			in[i++] = (uint8_t)(rnd() % 50 ? *w : (int)(rnd() & 0xff));
	}
	uint32_t sum = 0;
	for (int r = 0; r < scale; r++) {
		in[(size_t)r * 7919 % n] ^= (uint8_t)r;
		size_t cn = lz_compress(in, n, c);
		size_t dn = lz_decompress(c, cn, d);
		sum = sum * 31 + (uint32_t)cn + (dn == n && !memcmp(in, d, n) ? 0 : 0x80000000u);
	}
	free(in);
	free(c);
	free(d);
	return sum;
}

/* ---- big integers: schoolbook multiply of 32-bit limbs ---- */

static void big_mul(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, uint32_t *r)
{
	memset(r, 0, (na + nb) * sizeof(uint32_t));
	for (size_t i = 0; i < na; i++) {
		uint64_t carry = 0;
		for (size_t j = 0; j < nb; j++) {
			uint64_t t = (uint64_t)a[i] * b[j] + r[i + j] + carry;
			r[i + j] = (uint32_t)t;
			carry = t >> 32;
		}
		r[i + nb] = (uint32_t)carry;
	}
}

static uint32_t bigmul(int scale)
{
	size_t n = 512;
	uint32_t *a = malloc(n * 4), *b = malloc(n * 4), *r = malloc(2 * n * 4);
	rnd_state = 2024;
	for (size_t i = 0; i < n; i++) {
		a[i] = rnd();
		b[i] = rnd();
	}
	uint32_t sum = 0;
	for (int s = 0; s < scale; s++) {
		big_mul(a, n, b, n, r);
		/* Feed the product back so no iteration can be skipped. */
		for (size_t i = 0; i < n; i++)
			a[i] = r[i + n / 2] ^ (uint32_t)s;
		sum += r[n] ^ r[2 * n - 1];
	}
	free(a);
	free(b);
	free(r);
	return sum;
}

static const struct {
	const char *name;
	uint32_t (*fn)(int);
	int scale;
} kernels[] = {
    {"nbody", nbody, 300}, {"hashtab", hashtab, 20}, {"strsearch", strsearch, 120},
    {"json", json, 72},    {"lz", lz, 18},           {"bigmul", bigmul, 120},
};

#include "kernel_main.h"
