/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/size.h"

#include <ctype.h>
#include <strings.h>

static int digits(const char *s, const char **end, uint64_t *v)
{
	uint64_t x = 0;
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		unsigned d = (unsigned)(*p - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
		p++;
	}
	*end = p;
	*v = x;
	return 0;
}

int parse_size(const char *s, const char *what, uint64_t *out, struct err *e)
{
	const char *p;
	uint64_t v;
	if (!s || digits(s, &p, &v))
		return err_set(e, ERR_INPUT, "%s '%s': not a size (examples: 512M, 2G, 1048576)",
		               what, s ? s : "");
	unsigned shift = 0;
	switch (toupper((unsigned char)*p)) {
	case 'K':
		shift = 10;
		p++;
		break;
	case 'M':
		shift = 20;
		p++;
		break;
	case 'G':
		shift = 30;
		p++;
		break;
	case 'T':
		shift = 40;
		p++;
		break;
	}
	if (shift && (*p == 'i' || *p == 'I'))
		p++;
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p)
		return err_set(e, ERR_INPUT, "%s '%s': unknown unit (use K, M, G or T)", what, s);
	if (shift && v > (UINT64_MAX >> shift))
		return err_set(e, ERR_INPUT, "%s '%s': too large", what, s);
	*out = v << shift;
	return 0;
}

int parse_uint(const char *s, const char *what, uint64_t min, uint64_t max, uint64_t *out,
               struct err *e)
{
	const char *p;
	uint64_t v;
	if (!s || digits(s, &p, &v) || *p)
		return err_set(e, ERR_INPUT, "%s '%s': not a whole number", what, s ? s : "");
	if (v < min || v > max)
		return err_set(e, ERR_INPUT, "%s %s: must be between %llu and %llu", what, s,
		               (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}
