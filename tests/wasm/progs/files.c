/* SPDX-License-Identifier: Apache-2.0 */
/* Test program: file I/O relative to the current (preopened) directory:
 * create, write, seek, read back, stat, list, rename, unlink, mkdir. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	if (mkdir("work", 0755) != 0) {
		printf("mkdir failed: %s\n", strerror(errno));
		return 1;
	}
	FILE *f = fopen("work/numbers.txt", "w");
	if (!f)
		return 2;
	for (int i = 0; i < 1000; i++)
		fprintf(f, "%d squared is %d\n", i, i * i);
	fclose(f);

	struct stat st;
	if (stat("work/numbers.txt", &st) != 0)
		return 3;
	printf("size %lld regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode) ? 1 : 0);

	int fd = open("work/numbers.txt", O_RDONLY);
	if (fd < 0)
		return 4;
	char buf[64];
	off_t off = lseek(fd, 500, SEEK_SET);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	printf("at %lld: %.20s\n", (long long)off, buf);
	close(fd);

	f = fopen("input.txt", "r");
	if (f) {
		char line[256];
		uint32_t sum = 0;
		while (fgets(line, sizeof(line), f))
			for (char *p = line; *p; p++)
				sum = sum * 31 + (unsigned char)*p;
		fclose(f);
		printf("input checksum %u\n", (unsigned)sum);
	} else {
		printf("no input.txt\n");
	}

	if (rename("work/numbers.txt", "work/renamed.txt") != 0)
		return 5;
	f = fopen("work/second.txt", "a");
	fputs("appended\n", f);
	fclose(f);

	DIR *d = opendir("work");
	if (!d)
		return 6;
	char *names[16];
	int k = 0;
	struct dirent *de;
	while ((de = readdir(d)) && k < 16)
		if (de->d_name[0] != '.')
			names[k++] = strdup(de->d_name);
	closedir(d);
	qsort(names, (size_t)k, sizeof(char *), cmp);
	for (int i = 0; i < k; i++) {
		printf("entry %s\n", names[i]);
		free(names[i]);
	}
	printf("missing: %s\n", fopen("work/nope.txt", "r") ? "found" : strerror(errno));
	unlink("work/renamed.txt");
	unlink("work/second.txt");
	printf("rmdir %d\n", rmdir("work"));
	return 0;
}
