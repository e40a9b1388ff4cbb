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
	return 0;
}
