/* SPDX-License-Identifier: Apache-2.0 */
/* Test program: file calls beyond plain reading and writing (sizes,
 * allocation, advice, syncing, times, hard and symbolic links, positional
 * I/O, append mode) and, built for WASI, descriptor rights. Works in the
 * current (preopened) directory; prints one line per check. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __wasi__
#include <wasi/api.h>
#endif

static int failures;

static void check(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "ok" : "FAILED");
	if (!ok) {
		printf("  errno %d (%s)\n", errno, strerror(errno));
		failures++;
	}
}

static void rights(void)
{
#ifdef __wasi__
	int fd = open("data.bin", O_RDWR);
	__wasi_fdstat_t st;
	check("fdstat of a file", fd >= 0 && __wasi_fd_fdstat_get(fd, &st) == 0 &&
	                              (st.fs_rights_base & __WASI_RIGHTS_FD_READ) &&
	                              (st.fs_rights_base & __WASI_RIGHTS_FD_WRITE));
	/* Drop the right to write; reading still works, writing does not. */
	__wasi_rights_t keep = st.fs_rights_base & ~__WASI_RIGHTS_FD_WRITE;
	check("drop a right", __wasi_fd_fdstat_set_rights(fd, keep, st.fs_rights_inheriting) == 0);
	char c;
	check("read without the write right", pread(fd, &c, 1, 0) == 1);
	__wasi_ciovec_t iov = {(const uint8_t *)"x", 1};
	__wasi_size_t nw;
	check("write refused", __wasi_fd_write(fd, &iov, 1, &nw) == __WASI_ERRNO_NOTCAPABLE);
	check("rights cannot come back",
	      __wasi_fd_fdstat_set_rights(fd, st.fs_rights_base, st.fs_rights_inheriting) ==
	          __WASI_ERRNO_NOTCAPABLE);
	close(fd);
	/* A directory whose inheriting rights lack writing cannot open a
	 * file for writing. */
	int dir = open(".", O_RDONLY | O_DIRECTORY);
	__wasi_fdstat_t ds;
	check("drop an inheriting right",
	      __wasi_fd_fdstat_get(dir, &ds) == 0 &&
	          __wasi_fd_fdstat_set_rights(dir, ds.fs_rights_base,
	                                      ds.fs_rights_inheriting & ~__WASI_RIGHTS_FD_WRITE) ==
	              0);
	__wasi_fd_t nfd;
	check("open for writing refused",
	      __wasi_path_open(dir, 0, "data.bin", 0,
	                       __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, 0, 0,
	                       &nfd) == __WASI_ERRNO_NOTCAPABLE);
	check("open for reading allowed",
	      __wasi_path_open(dir, 0, "data.bin", 0, __WASI_RIGHTS_FD_READ, 0, 0, &nfd) == 0);
	close(nfd);
	/* Without the right to create directories, mkdir fails. */
	check("drop path_create_directory",
	      __wasi_fd_fdstat_set_rights(
	          dir, ds.fs_rights_base & ~__WASI_RIGHTS_PATH_CREATE_DIRECTORY, 0) == 0);
	check("mkdir refused", mkdirat(dir, "nope", 0755) < 0 && errno == ENOTCAPABLE);
	close(dir);
	/* Renumbering moves a descriptor (and its rights) to another number. */
	int a = open("data.bin", O_RDONLY), b = open("data.bin", O_RDONLY);
	check("renumber", a >= 0 && b >= 0 && __wasi_fd_renumber(a, b) == 0 &&
	                      pread(b, &c, 1, 0) == 1 && close(a) < 0 && errno == EBADF);
	close(b);
#else
	const char *lines[] = {"fdstat of a file",
	                       "drop a right",
	                       "read without the write right",
	                       "write refused",
	                       "rights cannot come back",
	                       "drop an inheriting right",
	                       "open for writing refused",
	                       "open for reading allowed",
	                       "drop path_create_directory",
	                       "mkdir refused",
	                       "renumber"};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		check(lines[i], 1);
#endif
}

int main(void)
{
	int fd = open("data.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
	check("create", fd >= 0);
	check("pwrite", pwrite(fd, "hello world", 11, 100) == 11);
	char buf[16] = {0};
	check("pread", pread(fd, buf, 5, 106) == 5 && !memcmp(buf, "world", 5));
	struct stat st;
	check("size after pwrite", fstat(fd, &st) == 0 && st.st_size == 111);
	check("ftruncate", ftruncate(fd, 50) == 0 && fstat(fd, &st) == 0 && st.st_size == 50);
	check("posix_fallocate",
	      posix_fallocate(fd, 0, 4096) == 0 && fstat(fd, &st) == 0 && st.st_size == 4096);
	check("posix_fadvise", posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) == 0);
	check("fsync", fsync(fd) == 0);
	check("fdatasync", fdatasync(fd) == 0);
	struct timespec ts[2] = {{1000000000, 5}, {1200000000, 7}};
	check("futimens", futimens(fd, ts) == 0 && fstat(fd, &st) == 0 &&
	                      st.st_mtim.tv_sec == 1200000000 && st.st_atim.tv_sec == 1000000000);
	close(fd);

	check("symlink", symlink("data.bin", "link") == 0);
	char target[64] = {0};
	ssize_t n = readlink("link", target, sizeof(target) - 1);
	check("readlink", n == 8 && !strcmp(target, "data.bin"));
	struct timespec t2[2] = {{1300000000, 0}, {1400000000, 0}};
	check("utimensat through the link", utimensat(AT_FDCWD, "link", t2, 0) == 0 &&
	                                        stat("data.bin", &st) == 0 &&
	                                        st.st_mtim.tv_sec == 1400000000);
	struct timespec t3[2] = {{0, UTIME_OMIT}, {1500000000, 0}};
	struct stat lst;
	check("utimensat on the link itself",
	      utimensat(AT_FDCWD, "link", t3, AT_SYMLINK_NOFOLLOW) == 0 &&
	          lstat("link", &lst) == 0 && lst.st_mtim.tv_sec == 1500000000 &&
	          stat("data.bin", &st) == 0 && st.st_mtim.tv_sec == 1400000000);
	check("link", link("data.bin", "hard") == 0 && stat("hard", &st) == 0 && st.st_nlink == 2 &&
	                  st.st_size == 4096);
	check("unlink a link",
	      unlink("hard") == 0 && stat("data.bin", &st) == 0 && st.st_nlink == 1);
	check("symlink escaping is stored", symlink("../../outside", "bad") == 0);
	check("but not followed", open("bad", O_RDONLY) < 0);
	unlink("bad");

	fd = open("log.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	check("write", write(fd, "one\n", 4) == 4);
	int fl = fcntl(fd, F_GETFL);
	check("set O_APPEND",
	      fcntl(fd, F_SETFL, fl | O_APPEND) == 0 && (fcntl(fd, F_GETFL) & O_APPEND));
	lseek(fd, 0, SEEK_SET);
	check("append", write(fd, "two\n", 4) == 4);
	close(fd);
	fd = open("log.txt", O_RDONLY);
	memset(buf, 0, sizeof(buf));
	check("appended", read(fd, buf, sizeof(buf) - 1) == 8 && !strcmp(buf, "one\ntwo\n"));
	close(fd);

	rights();
	unlink("link");
	unlink("log.txt");
	unlink("data.bin");
	printf("%d failures\n", failures);
	return failures != 0;
}
