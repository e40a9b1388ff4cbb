/* SPDX-License-Identifier: Apache-2.0 */
/* Compute kernels for the wasm benchmark: the same source is compiled to
 * wasm32-wasi and natively. Usage: kernels NAME [SCALE]; prints a checksum. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t matmul(int scale)
{
	int n = 96;
	double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n),
	       *c = malloc(sizeof(double) * n * n);
	double sum = 0;
	for (int i = 0; i < n * n; i++) {
		a[i] = (double)(i % 13) * 0.5;
		b[i] = (double)(i % 7) - 3.0;
	}
	for (int r = 0; r < scale; r++) {
		memset(c, 0, sizeof(double) * n * n);
		for (int i = 0; i < n; i++)
			for (int k = 0; k < n; k++) {
				double aik = a[i * n + k];
				for (int j = 0; j < n; j++)
					c[i * n + j] += aik * b[k * n + j];
			}
		sum += c[r % (n * n)];
	}
	free(a);
	free(b);
	free(c);
	return (uint32_t)(int64_t)sum;
}

static uint32_t crc32(int scale)
{
	static uint32_t table[256];
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
		table[i] = c;
	}
	size_t len = 1 << 16;
	uint8_t *buf = malloc(len);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + (i >> 8));
	uint32_t crc = 0;
	for (int r = 0; r < scale; r++) {
		uint32_t c = ~crc;
		for (size_t i = 0; i < len; i++)
			c = table[(c ^ buf[i]) & 0xff] ^ (c >> 8);
		crc = ~c;
	}
	free(buf);
	return crc;
}

static uint32_t sieve(int scale)
{
	int n = 1 << 20;
	uint8_t *s = malloc((size_t)n);
	uint32_t count = 0;
	for (int r = 0; r < scale; r++) {
		memset(s, 1, (size_t)n);
		count = 0;
		for (int i = 2; i < n; i++) {
			if (!s[i])
				continue;
			count++;
			for (int j = i * 2; j < n; j += i)
				s[j] = 0;
		}
	}
	free(s);
	return count;
}

static uint32_t fib_rec(uint32_t n)
{
	return n < 2 ? n : fib_rec(n - 1) + fib_rec(n - 2);
}

static volatile uint32_t fib_n = 27; /* not a compile-time constant */

static uint32_t fib(int scale)
{
	uint32_t s = 0;
	for (int r = 0; r < scale; r++)
		s += fib_rec(fib_n);
	return s;
}

static void quicksort(int32_t *v, int lo, int hi)
{
	while (lo < hi) {
		int32_t p = v[(lo + hi) / 2];
		int i = lo, j = hi;
		while (i <= j) {
			while (v[i] < p)
				i++;
			while (v[j] > p)
				j--;
			if (i <= j) {
				int32_t t = v[i];
				v[i++] = v[j];
				v[j--] = t;
			}
		}
		if (j - lo < hi - i) {
			quicksort(v, lo, j);
			lo = i;
		} else {
			quicksort(v, i, hi);
			hi = j;
		}
	}
}

static uint32_t sort(int scale)
{
	int n = 200000;
	int32_t *v = malloc(sizeof(int32_t) * n);
	uint32_t x = 12345, s = 0;
	for (int r = 0; r < scale; r++) {
		for (int i = 0; i < n; i++) {
			x = x * 1664525u + 1013904223u;
			v[i] = (int32_t)(x >> 1);
		}
		quicksort(v, 0, n - 1);
		s += (uint32_t)v[n / 2];
	}
	free(v);
	return s;
}

/* A CoreMark-like mix: linked-list walk, small matrix ops, a state machine
 * over a byte string, CRC of the results. */
struct node {
	struct node *next;
	int32_t value;
};

static uint32_t mix(int scale)
{
	enum { NN = 1000, MS = 24 };
	struct node *nodes = malloc(sizeof(struct node) * NN);
	int32_t ma[MS * MS], mb[MS * MS], mc[MS * MS];
	char text[512];
	uint32_t crc = 0;
	for (int i = 0; i < NN; i++) {
		nodes[i].value = (i * 37) % 1000;
		nodes[i].next = &nodes[(i * 7 + 1) % NN];
	}
	for (int i = 0; i < MS * MS; i++) {
		ma[i] = i % 11 - 5;
		mb[i] = i % 5 + 1;
	}
	for (int i = 0; i < (int)sizeof(text) - 1; i++)
		text[i] = "0123456789+-.eE, x"[(i * 13) % 18];
	text[sizeof(text) - 1] = 0;
	for (int r = 0; r < scale; r++) {
		/* list */
		struct node *p = &nodes[r % NN];
		int32_t acc = 0;
		for (int i = 0; i < NN * 4; i++) {
			acc += p->value ^ i;
			if (p->value > 500)
				p->value -= 3;
			else
				p->value += 5;
			p = p->next;
		}
		/* matrix */
		for (int i = 0; i < MS; i++)
			for (int j = 0; j < MS; j++) {
				int32_t s = 0;
				for (int k = 0; k < MS; k++)
					s += ma[i * MS + k] * mb[k * MS + j];
				mc[i * MS + j] = s + r;
			}
		/* state machine: count numbers, floats, invalid tokens */
		int state = 0, ints = 0, floats = 0, bad = 0;
		for (const char *c = text; *c; c++) {
			char ch = *c;
			switch (state) {
			case 0:
				if (ch >= '0' && ch <= '9')
					state = 1;
				else if (ch == '+' || ch == '-')
					state = 2;
				else if (ch != ',' && ch != ' ')
					state = 4;
				break;
			case 1:
			case 2:
				if (ch == '.' || ch == 'e' || ch == 'E')
					state = 3;
				else if (ch == ',' || ch == ' ') {
					ints++;
					state = 0;
				} else if (ch < '0' || ch > '9')
					state = 4;
				break;
			case 3:
				if (ch == ',' || ch == ' ') {
					floats++;
					state = 0;
				} else if ((ch < '0' || ch > '9') && ch != '-')
					state = 4;
				break;
			default:
				if (ch == ',' || ch == ' ') {
					bad++;
					state = 0;
				}
			}
		}
		uint32_t v = (uint32_t)acc ^ (uint32_t)mc[(r * 5) % (MS * MS)] ^
		             (uint32_t)(ints * 65536 + floats * 256 + bad);
		for (int k = 0; k < 32; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - ((crc ^ (v >> k)) & 1)));
	}
	free(nodes);
	return crc;
}

static const struct {
	const char *name;
	uint32_t (*fn)(int);
	int scale;
} kernels[] = {
    {"matmul", matmul, 20}, {"crc32", crc32, 150}, {"sieve", sieve, 12},
    {"fib", fib, 12},       {"sort", sort, 6},     {"mix", mix, 2500},
};

#include "kernel_main.h"
