/* SPDX-License-Identifier: Apache-2.0 */
/* Test program: integer and floating-point kernels whose printed results
 * must match a native build bit for bit. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 64;
	double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n),
	       *c = calloc((size_t)n * n, sizeof(double));
	for (int i = 0; i < n * n; i++) {
		a[i] = (double)(i % 17) * 0.37 - 2.5;
		b[i] = 1.0 / (double)(i % 23 + 1) + sqrt((double)i);
	}
	for (int i = 0; i < n; i++)
		for (int k = 0; k < n; k++)
			for (int j = 0; j < n; j++)
				c[i * n + j] += a[i * n + k] * b[k * n + j];
	double tr = 0;
	for (int i = 0; i < n; i++)
		tr += c[i * n + i];
	printf("matrix trace %.17g\n", tr);
	printf("crc32 %08x\n", crc32((const uint8_t *)a, sizeof(double) * n * n));

	int64_t *v = malloc(sizeof(int64_t) * 10000);
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < 10000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v[i] = (int64_t)x;
	}
	qsort(v, 10000, sizeof(int64_t), cmp);
	printf("sorted %lld %lld %lld\n", (long long)v[0], (long long)v[5000], (long long)v[9999]);
	float f = 1.0f;
	for (int i = 0; i < 100; i++)
		f = f * 1.1f + sqrtf(f) - (float)i / 3.0f;
	printf("float %.9g %a\n", f, f);
	printf("div %d %d %u\n", -7 / 2, -7 % 2, 0xffffffffu / 3u);
	free(a);
	free(b);
	free(c);
	free(v);
	return 0;
}
