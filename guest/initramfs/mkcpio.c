/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mkcpio: writes an uncompressed initramfs (cpio "newc" format) from a spec.
 *
 *   mkcpio [-o OUT] [SPEC]      (SPEC defaults to stdin, OUT to stdout)
 *
 * One entry per spec line; '#' starts a comment; fields are separated by blanks:
 *   dir   PATH MODE
 *   file  PATH SRC MODE
 *   nod   PATH MODE c|b MAJOR MINOR
 *   slink PATH TARGET MODE
 * MODE is octal permission bits (at most 07777). PATH is stored without its leading
 * '/'; ".." components are refused. Owners are 0:0 and times 0, so archives are
 * reproducible. Exit status: 0, 1 on I/O errors, 2 on a bad spec (with SPEC:LINE).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_MAXLEN 4095
#define MAX_FIELDS  7

/* Partial output to remove when failing (the archive is written to OUT.tmp first). */
static const char *tmp_path;

struct out {
	FILE *f;
	const char *name;
	uint64_t off;
	uint32_t ino;
};

static void die(int status, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void die(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("mkcpio: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	if (tmp_path)
		unlink(tmp_path);
	exit(status);
}

static void emit(struct out *o, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, o->f) != n)
		die(1, "writing %s: %s", o->name, strerror(errno));
	o->off += n;
}

static void pad4(struct out *o)
{
	static const char zero[4];
	emit(o, zero, (size_t)((4 - o->off % 4) % 4));
}

static void header(struct out *o, const char *name, uint32_t mode, uint32_t size, uint32_t rmaj,
                   uint32_t rmin)
{
	char h[111];
	size_t nlen = strlen(name) + 1;
	uint32_t nlink = (mode & S_IFMT) == S_IFDIR ? 2 : 1;
	int n = snprintf(h, sizeof(h),
	                 "070701%08" PRIX32 "%08" PRIX32 "%08X%08X%08" PRIX32 "%08X%08" PRIX32
	                 "%08X%08X%08" PRIX32 "%08" PRIX32 "%08" PRIX32 "%08X",
	                 o->ino++, mode, 0u, 0u, nlink, 0u, size, 0u, 0u, rmaj, rmin,
	                 (uint32_t)nlen, 0u);
	if (n != 110)
		die(1, "internal error: header length %d", n);
	emit(o, h, 110);
	emit(o, name, nlen);
	pad4(o);
}

struct line {
	const char *spec;
	unsigned no;
	char *f[MAX_FIELDS];
	int n;
};

static void bad(const struct line *l, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
static void bad(const struct line *l, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	die(2, "%s:%u: %s", l->spec, l->no, msg);
}

static uint32_t parse_mode(const struct line *l, const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 8);
	if (!*s || *end || errno || v > 07777 || *s == '-')
		bad(l, "bad mode \"%s\" (octal, at most 07777)", s);
	return (uint32_t)v;
}

static uint32_t parse_u32(const struct line *l, const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || errno || v > UINT32_MAX || *s == '-')
		bad(l, "bad %s \"%s\"", what, s);
	return (uint32_t)v;
}

/* Archive name of PATH: leading '/' removed, no empty name, no ".." component. */
static const char *arc_name(const struct line *l, const char *path)
{
	const char *p = path;
	while (*p == '/')
		p++;
	if (!*p)
		bad(l, "bad path \"%s\"", path);
	if (strlen(p) > PATH_MAXLEN)
		bad(l, "path too long");
	for (const char *c = p; *c;) {
		size_t n = strcspn(c, "/");
		if (n == 2 && c[0] == '.' && c[1] == '.')
			bad(l, "path \"%s\" has a \"..\" component", path);
		c += n;
		while (*c == '/')
			c++;
	}
	return p;
}

static void add_file(struct out *o, const struct line *l, const char *name, const char *src,
                     uint32_t perm)
{
	int fd = open(src, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block us */
	struct stat st;
	if (fd < 0 || fstat(fd, &st))
		bad(l, "cannot read \"%s\": %s", src, strerror(errno));
	if (!S_ISREG(st.st_mode))
		bad(l, "\"%s\" is not a regular file", src);
	if ((uint64_t)st.st_size > UINT32_MAX)
		bad(l, "\"%s\" is larger than 4 GiB", src);
	header(o, name, S_IFREG | perm, (uint32_t)st.st_size, 0, 0);
	char buf[65536];
	uint64_t left = (uint64_t)st.st_size;
	while (left) {
		ssize_t k = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));
		if (k <= 0)
			die(1, "reading %s: %s", src, k ? strerror(errno) : "file shrank");
		emit(o, buf, (size_t)k);
		left -= (uint64_t)k;
	}
	close(fd);
	pad4(o);
}

static void need(const struct line *l, int n, const char *usage)
{
	if (l->n != n)
		bad(l, "expected \"%s\"", usage);
}

static void do_line(struct out *o, struct line *l)
{
	const char *kw = l->f[0];
	if (!strcmp(kw, "dir")) {
		need(l, 3, "dir PATH MODE");
		header(o, arc_name(l, l->f[1]), S_IFDIR | parse_mode(l, l->f[2]), 0, 0, 0);
	} else if (!strcmp(kw, "file")) {
		need(l, 4, "file PATH SRC MODE");
		add_file(o, l, arc_name(l, l->f[1]), l->f[2], parse_mode(l, l->f[3]));
	} else if (!strcmp(kw, "nod")) {
		need(l, 6, "nod PATH MODE c|b MAJOR MINOR");
		const char *name = arc_name(l, l->f[1]);
		uint32_t mode = parse_mode(l, l->f[2]);
		if (strcmp(l->f[3], "c") && strcmp(l->f[3], "b"))
			bad(l, "device type must be c or b, not \"%s\"", l->f[3]);
		uint32_t type = l->f[3][0] == 'c' ? S_IFCHR : S_IFBLK;
		header(o, name, type | mode, 0, parse_u32(l, l->f[4], "major"),
		       parse_u32(l, l->f[5], "minor"));
	} else if (!strcmp(kw, "slink")) {
		need(l, 4, "slink PATH TARGET MODE");
		const char *name = arc_name(l, l->f[1]);
		size_t tlen = strlen(l->f[2]);
		if (!tlen || tlen > PATH_MAXLEN)
			bad(l, "bad symlink target");
		header(o, name, S_IFLNK | parse_mode(l, l->f[3]), (uint32_t)tlen, 0, 0);
		emit(o, l->f[2], tlen);
		pad4(o);
	} else {
		bad(l, "unknown entry type \"%s\" (dir, file, nod or slink)", kw);
	}
}

int main(int argc, char **argv)
{
	const char *outpath = NULL, *specpath = NULL;
	int c;
	while ((c = getopt(argc, argv, "o:h")) != -1) {
		if (c == 'o')
			outpath = optarg;
		else {
			fprintf(stderr, "usage: mkcpio [-o OUT] [SPEC]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (argc - optind > 1)
		die(2, "usage: mkcpio [-o OUT] [SPEC]");
	if (optind < argc)
		specpath = argv[optind];
	FILE *spec = specpath ? fopen(specpath, "r") : stdin;
	if (!spec)
		die(2, "%s: %s", specpath, strerror(errno));
	struct out o = {stdout, "stdout", 0, 1};
	char *tmp = NULL;
	if (outpath) {
		if (asprintf(&tmp, "%s.tmp", outpath) < 0)
			die(1, "out of memory");
		o.f = fopen(tmp, "wb");
		o.name = outpath;
		if (!o.f)
			die(1, "%s: %s", tmp, strerror(errno));
		tmp_path = tmp;
	}
	struct line l = {specpath ? specpath : "stdin", 0, {0}, 0};
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&buf, &cap, spec)) >= 0) {
		l.no++;
		if (strlen(buf) != (size_t)len)
			bad(&l, "NUL byte in line");
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		l.n = 0;
		for (char *save, *t = strtok_r(buf, " \t\r\n", &save); t;
		     t = strtok_r(NULL, " \t\r\n", &save)) {
			if (l.n == MAX_FIELDS)
				bad(&l, "too many fields");
			l.f[l.n++] = t;
		}
		if (l.n)
			do_line(&o, &l);
	}
	free(buf);
	if (ferror(spec))
		die(1, "reading %s: %s", l.spec, strerror(errno));
	header(&o, "TRAILER!!!", 0, 0, 0, 0);
	if (fflush(o.f) || (outpath && fclose(o.f)))
		die(1, "writing %s: %s", o.name, strerror(errno));
	if (outpath && rename(tmp, outpath))
		die(1, "renaming %s to %s: %s", tmp, outpath, strerror(errno));
	free(tmp);
	return 0;
}
