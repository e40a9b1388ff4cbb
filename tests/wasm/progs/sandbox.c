/* SPDX-License-Identifier: Apache-2.0 */
/* Test program: every attempt to reach outside the preopened directory
 * must fail (absolute path, "..", a symlink pointing outside). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void try(const char *path)
{
	int fd = open(path, O_RDONLY);
	printf("%s: %s\n", path, fd >= 0 ? "OPENED" : "refused");
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	try("inside.txt");
	try("../secret.txt");
	try("sub/../../secret.txt");
	try("escape/secret.txt");
	try("/etc/passwd");
	try("abs_link");
	struct stat st;
	printf("stat ..: %s\n", stat("../secret.txt", &st) == 0 ? "OK" : "refused");
	printf("mkdir ../x: %s\n", mkdir("../x", 0755) == 0 ? "CREATED" : "refused");
	printf("unlink via link: %s\n", unlink("escape/secret.txt") == 0 ? "REMOVED" : "refused");
	printf("link out: %s\n", link("../secret.txt", "stolen") == 0 ? "LINKED" : "refused");
	printf("link via link: %s\n",
	       linkat(AT_FDCWD, "escape/secret.txt", AT_FDCWD, "stolen", AT_SYMLINK_FOLLOW) == 0
	           ? "LINKED"
	           : "refused");
	printf("link following abs_link: %s\n",
	       linkat(AT_FDCWD, "abs_link", AT_FDCWD, "stolen", AT_SYMLINK_FOLLOW) == 0
	           ? "LINKED"
	           : "refused");
	printf("symlink outside: %s\n", symlink("x", "../planted") == 0 ? "CREATED" : "refused");
	struct timespec ts[2] = {{1, 0}, {1, 0}};
	printf("utimensat ..: %s\n",
	       utimensat(AT_FDCWD, "../secret.txt", ts, 0) == 0 ? "CHANGED" : "refused");
	printf("utimensat via abs_link: %s\n",
	       utimensat(AT_FDCWD, "abs_link", ts, 0) == 0 ? "CHANGED" : "refused");
	return 0;
}
