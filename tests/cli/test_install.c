/* SPDX-License-Identifier: Apache-2.0 */
/* `make install DESTDIR=... PREFIX=/usr` into a temporary directory: the
 * installed binary runs and names its commit, the four man pages are there,
 * render without a groff warning, and mention every option the matching
 * `--help` text lists; `make uninstall` removes exactly what was installed. */
#include "common/testutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const man_pages[] = {"capsa.1", "capsa-vm.1", "capsa-oci.1", "capsa-wasm.1"};
#define N_PAGES (sizeof(man_pages) / sizeof(man_pages[0]))

static char *dir;                    /* the DESTDIR */
static struct run_result install_rr; /* output of `make install` */
static char bin[4200], man1[4200];

/* The first executable NAME on $PATH, or NULL. */
static const char *find_tool(const char *name)
{
	static char found[4][4200];
	static int slot;
	const char *path = getenv("PATH");
	char *copy = strdup(path && *path ? path : "/usr/bin:/bin");
	char *save = NULL, *out = NULL;
	for (char *d = strtok_r(copy, ":", &save); d && !out; d = strtok_r(NULL, ":", &save)) {
		char *f = found[slot % 4];
		snprintf(f, sizeof(found[0]), "%s/%s", d, name);
		if (access(f, X_OK) == 0)
			out = found[slot++ % 4];
	}
	free(copy);
	return out;
}

static void run_make(struct run_result *r, const char *target)
{
	char destdir[4300];
	snprintf(destdir, sizeof(destdir), "DESTDIR=%s", dir);
	const char *make = find_tool("make");
	assert_non_null(make);
	char *argv[] = {
	    (char *)make, "--no-print-directory", "-C", (char *)test_root(), (char *)target,
	    destdir,      "PREFIX=/usr",          NULL};
	run_cmd(r, argv, 900);
	if (r->status != 0)
		printf("# note: make %s: status %d\n%s%s", target, r->status, r->out, r->err);
}

static int setup(void **state)
{
	(void)state;
	/* make test's own make must not hand its jobserver or flags to this one. */
	unsetenv("MAKEFLAGS");
	unsetenv("MFLAGS");
	unsetenv("MAKELEVEL");
	unsetenv("MAKEOVERRIDES");
	dir = test_tmpdir();
	if (!dir)
		return -1;
	snprintf(bin, sizeof(bin), "%s/usr/bin/capsa", dir);
	snprintf(man1, sizeof(man1), "%s/usr/share/man/man1", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[4300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	int rc = system(cmd);
	run_result_free(&install_rr);
	free(dir);
	return rc == 0 ? 0 : -1;
}

static void test_install_succeeds(void **state)
{
	(void)state;
	run_make(&install_rr, "install");
	assert_int_equal(install_rr.status, 0);
	struct stat st;
	assert_int_equal(stat(bin, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	for (size_t i = 0; i < N_PAGES; i++) {
		char p[4400];
		snprintf(p, sizeof(p), "%s/%s", man1, man_pages[i]);
		assert_int_equal(stat(p, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0644);
		assert_true(st.st_size > 1000);
	}
}

/* `capsa --version` is runc's layout: "capsa version V", then "commit: C"
 * with the commit the build recorded in build/commit. */
static void test_installed_binary_names_its_commit(void **state)
{
	(void)state;
	assert_int_equal(install_rr.status, 0);
	struct run_result r;
	char *argv[] = {bin, "--version", NULL};
	run_cmd(&r, argv, 30);
	assert_int_equal(r.status, 0);
	assert_true(!strncmp(r.out, "capsa version ", 14));
	const char *nl = strchr(r.out, '\n');
	assert_non_null(nl);
	char path[4200];
	snprintf(path, sizeof(path), "%s/build/commit", test_root());
	char *commit = read_file(path, NULL);
	assert_non_null(commit);
	commit[strcspn(commit, "\n")] = '\0';
	assert_true(strlen(commit) > 0);
	char want[4300];
	snprintf(want, sizeof(want), "commit: %s\n", commit);
	assert_string_equal(nl + 1, want);
	free(commit);
	run_result_free(&r);
}

static char *read_page(const char *name)
{
	char p[4400];
	snprintf(p, sizeof(p), "%s/%s", man1, name);
	char *s = read_file(p, NULL);
	assert_non_null(s);
	/* Plain text of the source: roff writes a minus sign (what options are
	 * made of) as \- and switches fonts inline with \fB, \fI, \fR. */
	char *w = s;
	for (const char *q = s; *q; q++) {
		if (q[0] == '\\' && q[1] == '-')
			continue;
		if (q[0] == '\\' && q[1] == 'f' && q[2]) {
			q += 2;
			continue;
		}
		*w++ = *q;
	}
	*w = '\0';
	return s;
}

static void test_man_pages_render_without_warnings(void **state)
{
	(void)state;
	assert_int_equal(install_rr.status, 0);
	const char *groff = find_tool("groff");
	if (!groff)
		skip_because("groff is not installed (Debian package groff-base)");
	for (size_t i = 0; i < N_PAGES; i++) {
		char p[4400], title[64];
		snprintf(p, sizeof(p), "%s/%s", man1, man_pages[i]);
		/* the default width and a narrow terminal: neither may warn */
		char *const widths[] = {"-rLL=78n", "-rLL=60n"};
		for (size_t k = 0; k < 2; k++) {
			struct run_result r;
			/* -P-cbou: plain characters, no bold or underline sequences */
			char *argv[] = {(char *)groff, "-man",    "-Tutf8", "-ww",
			                "-P-cbou",     widths[k], p,        NULL};
			run_cmd(&r, argv, 60);
			if (r.err[0])
				printf("# note: %s %s: %s", man_pages[i], widths[k], r.err);
			assert_int_equal(r.status, 0);
			assert_string_equal(r.err, "");
			/* The header names the page in capitals: CAPSA-VM(1). */
			size_t n = strcspn(man_pages[i], ".");
			for (size_t c = 0; c < n && c < sizeof(title) - 4; c++)
				title[c] = (char)toupper((unsigned char)man_pages[i][c]);
			snprintf(title + n, sizeof(title) - n, "(1)");
			assert_non_null(strstr(r.out, title));
			assert_non_null(strstr(r.out, "NAME"));
			assert_non_null(strstr(r.out, "SYNOPSIS"));
			run_result_free(&r);
		}
	}
}

/* Every --option in the help text is mentioned in the page (as a whole word). */
static void expect_options_in_page(const char *page, const char *text, const char *help,
                                   int *checked)
{
	for (const char *p = help; (p = strstr(p, "--")); p += 2) {
		if (p > help && (isalnum((unsigned char)p[-1]) || p[-1] == '-'))
			continue;
		size_t n = 2;
		while (isalnum((unsigned char)p[n]) || p[n] == '-')
			n++;
		while (n > 2 && p[n - 1] == '-')
			n--;
		if (n == 2 || n >= 64)
			continue;
		char opt[64];
		memcpy(opt, p, n);
		opt[n] = '\0';
		int found = 0;
		for (const char *q = text; !found && (q = strstr(q, opt)); q++) {
			int starts = q == text || !(isalnum((unsigned char)q[-1]) || q[-1] == '-');
			found = starts && !isalnum((unsigned char)q[n]) && q[n] != '-';
		}
		if (!found)
			printf("# note: %s does not mention %s\n", page, opt);
		assert_true(found);
		++*checked;
	}
}

static void expect_help_in_page(const char *page, char *const args[], int *checked)
{
	char *argv[8] = {bin};
	for (int i = 0; args[i] && i < 6; i++)
		argv[i + 1] = args[i];
	struct run_result r;
	run_cmd(&r, argv, 30);
	assert_int_equal(r.status, 0);
	assert_true(strlen(r.out) > 20);
	char *text = read_page(page);
	expect_options_in_page(page, text, r.out, checked);
	free(text);
	run_result_free(&r);
}

static void test_man_pages_cover_help_texts(void **state)
{
	(void)state;
	assert_int_equal(install_rr.status, 0);
	static const char *const oci_cmds[] = {
	    "spec", "create", "start", "run",    "exec",   "state",    "kill",   "delete",
	    "list", "ps",     "pause", "resume", "update", "features", "events",
	};
	int checked = 0;
	expect_help_in_page("capsa.1", (char *[]){"--help", NULL}, &checked);
	expect_help_in_page("capsa-vm.1", (char *[]){"vm", "run", "--help", NULL}, &checked);
	expect_help_in_page("capsa-vm.1", (char *[]){"vm", "config", "--help", NULL}, &checked);
	expect_help_in_page("capsa-vm.1", (char *[]){"vm", "restore", "--help", NULL}, &checked);
	expect_help_in_page("capsa-vm.1", (char *[]){"disk", "--help", NULL}, &checked);
	expect_help_in_page("capsa-vm.1", (char *[]){"image", "--help", NULL}, &checked);
	expect_help_in_page("capsa-wasm.1", (char *[]){"wasm", "--help", NULL}, &checked);
	/* the OCI usage with its global options (printed after a global option) */
	expect_help_in_page("capsa-oci.1", (char *[]){"--debug", "--help", NULL}, &checked);
	char *oci = read_page("capsa-oci.1");
	for (size_t i = 0; i < sizeof(oci_cmds) / sizeof(oci_cmds[0]); i++) {
		expect_help_in_page("capsa-oci.1", (char *[]){(char *)oci_cmds[i], "--help", NULL},
		                    &checked);
		char heading[64]; /* each command has its own tagged paragraph */
		snprintf(heading, sizeof(heading), ".TP\n.B %s", oci_cmds[i]);
		if (!strstr(oci, heading))
			printf("# note: capsa-oci.1 has no paragraph for %s\n", oci_cmds[i]);
		assert_non_null(strstr(oci, heading));
	}
	free(oci);
	test_measured("%d options of the --help texts found in the man pages", checked);
	assert_true(checked > 60);
}

static void test_uninstall_removes_what_install_put(void **state)
{
	(void)state;
	assert_int_equal(install_rr.status, 0);
	struct run_result r;
	run_make(&r, "uninstall");
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	assert_int_equal(access(bin, F_OK), -1);
	for (size_t i = 0; i < N_PAGES; i++) {
		char p[4400];
		snprintf(p, sizeof(p), "%s/%s", man1, man_pages[i]);
		assert_int_equal(access(p, F_OK), -1);
	}
}

/* Every C and assembler source names its licence (scripts/spdx.sh). */
static void test_every_source_names_its_licence(void **state)
{
	(void)state;
	char script[4200];
	snprintf(script, sizeof(script), "%s/scripts/spdx.sh", test_root());
	char *argv[] = {"/bin/bash", script, "--check", NULL};
	struct run_result r;
	run_cmd(&r, argv, 60);
	if (r.status)
		printf("# note: %s%s\n", r.out, r.err);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_source_names_its_licence),
	    cmocka_unit_test(test_install_succeeds),
	    cmocka_unit_test(test_installed_binary_names_its_commit),
	    cmocka_unit_test(test_man_pages_render_without_warnings),
	    cmocka_unit_test(test_man_pages_cover_help_texts),
	    cmocka_unit_test(test_uninstall_removes_what_install_put),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
