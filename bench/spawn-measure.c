/* SPDX-License-Identifier: Apache-2.0 */
/* spawn-measure CMD [ARGS...]: run CMD with stdio on /dev/null and print
 * "NANOSECONDS EXIT_STATUS MAXRSS_KIB". posix_spawn starts the child without
 * copying this (small, static) process, so the child's ru_maxrss is its own
 * peak and not inflated by the launcher's memory, as it would be after a fork
 * from a large interpreter. */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: spawn-measure CMD [ARGS...]\n");
		return 2;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	for (int fd = 0; fd <= 2; fd++)
		posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd ? O_WRONLY : O_RDONLY, 0);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid;
	if (posix_spawnp(&pid, argv[1], &fa, NULL, argv + 1, environ)) {
		perror("spawn-measure: posix_spawnp");
		return 1;
	}
	int st;
	struct rusage ru;
	if (wait4(pid, &st, 0, &ru) < 0) {
		perror("spawn-measure: wait4");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long ns =
	    (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	printf("%lld %d %ld\n", ns, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
	       ru.ru_maxrss);
	return 0;
}
