/* SPDX-License-Identifier: Apache-2.0 */
/* Test program for wasm containers, built for wasm32-wasi (and natively for
 * the benchmark). argv[1] chooses what it does:
 *   hello ARGS...  print the arguments, $GREETING and /data/input.txt, write
 *                  out.txt in the working directory ($PWD), exit with status 3
 *   cat FILE       print FILE
 *   alloc MIB      allocate and touch MIB MiB; status 4 if that fails
 *   tty            say whether stdout is a terminal
 *   trap           execute an unreachable instruction
 *   (none)         print "hello" and exit 0 (the benchmark) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cat(const char *path)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return 1;
	}
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
	return 0;
}

static int hello(int argc, char **argv)
{
	for (int i = 2; i < argc; i++)
		printf("arg %d: %s\n", i - 1, argv[i]);
	const char *g = getenv("GREETING");
	printf("greeting: %s\n", g ? g : "(unset)");
	printf("input: ");
	fflush(stdout);
	if (cat("/data/input.txt"))
		return 1;
	/* WASI has no working directory; the runtime passes it as $PWD. */
	const char *pwd = getenv("PWD");
	if (pwd && chdir(pwd)) {
		perror(pwd);
		return 1;
	}
	FILE *f = fopen("out.txt", "w");
	if (!f || fprintf(f, "written by the module\n") < 0 || fclose(f)) {
		perror("out.txt");
		return 1;
	}
	fprintf(stderr, "hello on stderr\n");
	return 3;
}

/* Where the allocation escapes to, so that the compiler keeps it. */
char *volatile wasm_hello_kept;

static int alloc(const char *mib)
{
	size_t n = (size_t)atoi(mib) << 20;
	char *p = malloc(n);
	wasm_hello_kept = p;
	if (!p) {
		printf("alloc failed\n");
		return 4;
	}
	memset(p, 1, n);
	printf("allocated %s MiB\n", mib);
	free(p);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		printf("hello\n");
		return 0;
	}
	if (!strcmp(argv[1], "hello"))
		return hello(argc, argv);
	if (!strcmp(argv[1], "cat") && argc > 2)
		return cat(argv[2]);
	if (!strcmp(argv[1], "alloc") && argc > 2)
		return alloc(argv[2]);
	if (!strcmp(argv[1], "tty")) {
		printf("stdout is a terminal: %s\n", isatty(1) ? "yes" : "no");
		return 0;
	}
	if (!strcmp(argv[1], "trap"))
		__builtin_trap();
	fprintf(stderr, "unknown command %s\n", argv[1]);
	return 2;
}
