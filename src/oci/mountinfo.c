/* SPDX-License-Identifier: Apache-2.0 */
#include "oci/mountinfo.h"

#include <stdio.h>
#include <string.h>

/* Mount points in mountinfo escape space, tab, newline and backslash as \ooo. */
static void unescape(const char *in, size_t n, char *out, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < len; i++) {
		if (in[i] == '\\' && i + 3 < n && in[i + 1] >= '0' && in[i + 1] <= '3') {
			out[o++] = (char)(((in[i + 1] - '0') << 6) | ((in[i + 2] - '0') << 3) |
			                  (in[i + 3] - '0'));
			i += 3;
		} else {
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
}

/* Is MP the path itself or a directory above it? */
static int holds(const char *mp, const char *path)
{
	size_t n = strlen(mp);
	if (!strcmp(mp, "/"))
		return 1;
	return !strncmp(mp, path, n) && (path[n] == '\0' || path[n] == '/');
}

int oci_mountinfo_find(const char *text, const char *path, char *mp, size_t len, int *shared,
                       struct err *e)
{
	size_t best = 0;
	int found = 0;
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t ll = end ? (size_t)(end - line) : strlen(line);
		/* id parent major:minor root mountpoint options [optional...] - type ... */
		const char *f = line, *fields[6];
		int nf = 0;
		for (const char *p = line; p < line + ll && nf < 6; p++) {
			if (p == f && *p != ' ')
				fields[nf++] = p;
			if (*p == ' ')
				f = p + 1;
		}
		const char *dash = nf == 6 ? strstr(fields[5], " - ") : NULL;
		if (dash && dash < line + ll) {
			char point[4096];
			const char *sp = strchr(fields[4], ' ');
			unescape(fields[4], (size_t)(sp - fields[4]), point, sizeof(point));
			size_t n = strlen(point);
			/* later lines are mounted on top of earlier ones: >= keeps the last */
			if (holds(point, path) && n >= best) {
				char opt[1024];
				size_t ol = (size_t)(dash - fields[5]);
				snprintf(opt, sizeof(opt), "%.*s", (int)ol, fields[5]);
				best = n;
				found = 1;
				*shared = strstr(opt, " shared:") != NULL;
				snprintf(mp, len, "%s", point);
			}
		}
		line = end ? end + 1 : NULL;
	}
	if (!found)
		return err_set(e, ERR_SYSTEM, "no mount holds %s in /proc/self/mountinfo", path);
	return 0;
}
