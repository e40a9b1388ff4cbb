/* SPDX-License-Identifier: Apache-2.0 */
/* Escaping untrusted strings for JSON and for terminals (see escape.h). */
#include "cli/escape.h"

#include <stdint.h>

/* Decode one UTF-8 character at s (n bytes left): its length, or 0 when the
 * bytes are not a well-formed, shortest-form encoding of a scalar value. */
static size_t utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		len = 2;
		c &= 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3;
		c &= 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4;
		c &= 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[k] & 0x3f);
	}
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

static int is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* Characters a terminal shows as nothing or uses to reorder the line. */
static int is_invisible(uint32_t cp)
{
	return (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff || cp == 0x061c;
}

void cli_put_json(FILE *f, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	putc('"', f);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_char(s + i, len - i, &cp);
		if (!n) {
			fprintf(f, "\\u%04x", s[i]);
			i++;
			continue;
		}
		if (cp == '"' || cp == '\\')
			fprintf(f, "\\%c", (char)cp);
		else if (is_control(cp) || is_invisible(cp))
			fprintf(f, "\\u%04x", (unsigned)cp);
		else
			fwrite(s + i, 1, n, f);
		i += n;
	}
	putc('"', f);
}

void cli_put_text(FILE *f, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_char(s + i, len - i, &cp);
		if (!n || cp < 0x20 || cp == 0x7f) {
			fprintf(f, "\\x%02x", s[i]);
			i++;
			continue;
		}
		if (cp == '\\')
			fputs("\\\\", f);
		else if (is_control(cp) || is_invisible(cp))
			fprintf(f, "\\u{%04x}", (unsigned)cp);
		else
			fwrite(s + i, 1, n, f);
		i += n;
	}
}
