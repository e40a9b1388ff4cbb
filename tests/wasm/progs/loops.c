/* SPDX-License-Identifier: Apache-2.0 */
/* Test program: loop and expression shapes the interpreter fuses into single
 * operations (counted loops with one and two induction variables and every
 * comparison, selects between constants, values loaded and combined at
 * once, chains of additions), with bounds from the command line so that
 * nothing is folded at compile time. Prints checksums. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int32_t data[4096];

/* One loop per comparison, counting up or down by a step. */
#define LOOP(name, init, cond, step)                                                               \
	static uint32_t name(int32_t n)                                                            \
	{                                                                                          \
		uint32_t s = 0;                                                                    \
		for (int32_t i = (init); cond; i += (step))                                        \
			s = s * 31u + (uint32_t)data[(uint32_t)i & 4095];                          \
		return s;                                                                          \
	}
LOOP(l_lt_s, -n, i < n, 3)
LOOP(l_le_s, -n, i <= n, 5)
LOOP(l_gt_s, n, i > -n, -3)
LOOP(l_ge_s, n, i >= -n, -7)
LOOP(l_ne, 0, i != 4 * n, 4)
LOOP(l_eq, 0, i == 0, 1)
static uint32_t l_lt_u(uint32_t n)
{
	uint32_t s = 0;
	for (uint32_t i = 1; i < n; i += 2)
		s += (uint32_t)data[i & 4095] ^ i;
	return s;
}
static uint32_t l_ge_u(uint32_t n)
{
	uint32_t s = 0;
	for (uint32_t i = n; i >= 2u; i -= 2)
		s += (uint32_t)data[i & 4095] * i;
	return s;
}

/* Two pointers stepped together, as strength reduction produces. */
static int32_t dot(const int32_t *a, const int32_t *b, int n, int stride)
{
	int32_t s = 0;
	for (int k = 0; k < n; k++)
		s += a[k] * b[k * stride];
	return s;
}

/* Loads combined with each operation, the load on either side. */
static uint32_t combine(const uint32_t *p, int n, uint32_t x)
{
	uint32_t add = 0, sub = x, mul = 1, and = ~0u, or = 0, xor = 0;
	for (int i = 0; i < n; i++) {
		add = add + p[i];
		sub = sub - p[i + 1];
		mul = mul * (p[i] | 1u);
		and = and&p[i + 2];
		or = or | p[i + 3];
		xor = p[i + 4] ^ xor;
	}
	return add ^ sub ^ mul ^ and^ or ^xor;
}

/* Selects between constants on every comparison. */
static uint32_t selects(int n)
{
	uint32_t s = 0;
	for (int i = 0; i < n; i++) {
		int32_t v = data[i & 4095];
		uint32_t u = (uint32_t)v;
		s += v > 100 ? 7u : 3u;
		s += v < -100 ? 11u : 5u;
		s += v >= 200 ? 13u : 2u;
		s += v <= -200 ? 17u : 1u;
		s += v == 42 ? 19u : 4u;
		s += v != 43 ? 23u : 6u;
		s += u > 1000u ? 29u : 8u;
		s += u < 3000u ? 31u : 9u;
		s += u >= 500u ? 37u : 10u;
		s += u <= 700u ? 41u : 12u;
	}
	return s;
}

/* Fields updated in place by a select between constants, on every
 * comparison (p->v += c ? A : B, each on another element so that the
 * updates stay apart); returns a checksum of the updated data. */
struct cell_pair {
	int32_t v, u;
};
#define UPD(k, cond, a, b) c[(i + (k)*97) & 1023].v += (cond) ? (a) : (b)
static uint32_t updates(struct cell_pair *c, int n)
{
	uint32_t s = 0;
	for (int i = 0; i < n; i++) {
		int32_t v = data[i & 4095];
		uint32_t u = (uint32_t)v;
		UPD(0, v > 100, -3, 5);
		UPD(1, v < -100, 11, -7);
		UPD(2, v >= 200, 13, 2);
		UPD(3, v <= -200, 17, 1);
		UPD(4, v == 42, 19, 4);
		UPD(5, v != 43, 23, 6);
		UPD(6, u > 1000u, 29, 8);
		UPD(7, u < 3000u, 31, 9);
		UPD(8, u >= 500u, 37, 10);
		UPD(9, u <= 700u, 41, 12);
	}
	for (int i = 0; i < 1024; i++)
		s = s * 31u + (uint32_t)c[i].v + (uint32_t)c[i].u * 7u;
	return s;
}

/* A linked list walked round and round, each node's value stepped up or
 * down: the walk is a pointer chase p = p->next. */
struct node {
	struct node *next;
	int32_t value;
};
static uint32_t walk(int n)
{
	static struct node nodes[997];
	for (int i = 0; i < 997; i++) {
		nodes[i].value = data[i];
		nodes[i].next = &nodes[(i * 13 + 5) % 997];
	}
	struct node *p = &nodes[n % 997];
	int32_t acc = 0;
	for (int i = 0; i < 4 * n; i++) {
		acc += p->value ^ i;
		p->value += p->value > 0 ? -9 : 4;
		p = p->next;
	}
	return (uint32_t)acc + (uint32_t)(p - nodes);
}

static uint32_t sums(const int32_t *a, int n)
{
	uint32_t s = 0;
	for (int i = 0; i + 3 < n; i++)
		s += (uint32_t)(a[i] + a[i + 1]) + (uint32_t)(a[i + 2] + a[i + 3]) + (uint32_t)i;
	return s;
}

/* Sums of two loads, and sums stored straight away. */
static uint32_t pairs(int32_t *out, const int32_t *a, const int32_t *b, int n)
{
	uint32_t s = 0;
	int32_t acc = 0;
	for (int i = 0; i < n; i++) {
		s = s * 3u + (uint32_t)(a[i] + b[i]);
		acc ^= i;
		out[i] = acc + n;
	}
	for (int i = 0; i < n; i++)
		s += (uint32_t)out[i];
	return s;
}

/* A small integer matrix product (loads interleaved with address sums). */
static uint32_t matrix(const int32_t *ma, const int32_t *mb, int r)
{
	enum { MS = 24 };
	static int32_t mc[MS * MS];
	uint32_t s = 0;
	for (int i = 0; i < MS; i++)
		for (int j = 0; j < MS; j++) {
			int32_t acc = 0;
			for (int k = 0; k < MS; k++)
				acc += ma[i * MS + k] * mb[k * MS + j];
			mc[i * MS + j] = acc + r;
		}
	for (int i = 0; i < MS * MS; i++)
		s = s * 7u + (uint32_t)mc[i];
	return s;
}

/* Counters and accumulators the interpreter may keep in registers, and
 * shapes that must not: the counter also stepped in the body, a call in the
 * loop, a second way back (continue), an early exit whose counter is used
 * afterwards, and an accumulator also read inside the loop. */
__attribute__((noinline)) static int32_t twice(int32_t v)
{
	return v * 2 + 1;
}

static uint32_t cached(const int32_t *a, const int32_t *b, int n)
{
	uint32_t s = 0;
	int32_t acc = 0, peek = 0;
	int i;
	for (i = 0; i < n; i++) {
		acc += a[i] * b[i] + a[i + 1] * b[i + 1];
		peek ^= acc;
	}
	s = s * 31u + (uint32_t)acc + (uint32_t)peek + (uint32_t)i;
	for (i = 0; i < n; i++) {
		if (a[i] > 1900)
			i += 2;
		acc += a[i] * b[i];
	}
	s = s * 31u + (uint32_t)acc + (uint32_t)i;
	for (i = 0; i < n; i += 3)
		acc += twice(a[i]) * b[i];
	s = s * 31u + (uint32_t)acc + (uint32_t)i;
	for (i = 0; i < n; i++) {
		if (b[i] < -1900)
			continue;
		acc += a[i] * b[i];
	}
	s = s * 31u + (uint32_t)acc + (uint32_t)i;
	for (i = 0; i < n; i++) {
		if (a[i] * b[i] == 1234567)
			break;
		acc += a[i] * b[i + 2];
	}
	s = s * 31u + (uint32_t)acc + (uint32_t)i;
	for (int j = 0; j < 8; j++)
		for (i = j; i < n; i += 8)
			acc += a[i] * b[i - j];
	return s * 31u + (uint32_t)acc + (uint32_t)i;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	uint32_t x = 2463534242u;
	for (int i = 0; i < 4096; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		data[i] = (int32_t)(x % 4001u) - 2000;
	}
	printf("loops %u %u %u %u %u %u %u %u\n", l_lt_s(n), l_le_s(n), l_gt_s(n), l_ge_s(n),
	       l_ne(n), l_eq(n), l_lt_u((uint32_t)n * 3), l_ge_u((uint32_t)n * 3));
	printf("dot %d %d\n", dot(data, data + 100, 24, 24), dot(data + 7, data + 1000, n / 8, 3));
	printf("combine %u\n", combine((const uint32_t *)data, n, 12345u));
	printf("selects %u\n", selects(n));
	static struct cell_pair cells[1024];
	printf("updates %u\n", updates(cells, n));
	printf("walk %u\n", walk(n));
	printf("sums %u\n", sums(data, n));
	printf("matrix %u\n", matrix(data, data + 600, n));
	printf("cached %u\n", cached(data, data + 2000, n < 2000 ? n : 2000));
	static int32_t out[4096];
	printf("pairs %u\n", pairs(out, data, data + 5, n < 4000 ? n : 4000));
	return 0;
}
