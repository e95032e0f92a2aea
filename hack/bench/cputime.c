// Runs a command and writes the CPU time it burnt, user and system in µs, to
// OUT as "<user_us> <sys_us>\n": wait4's rusage of that child (its own threads
// and every descendant it waited for; not a container init, which is nobody's
// waited-for child). node does not expose wait4's rusage, and /proc's
// cutime/cstime count 10 ms ticks. Compiled by hack/bench.mjs with cc.
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: cputime OUT COMMAND [ARG...]\n");
		return 127;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("cputime: fork");
		return 127;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("cputime: wait4");
			return 127;
		}
	}
	FILE *out = fopen(argv[1], "w");
	if (!out || fprintf(out, "%ld %ld\n", ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec,
			    ru.ru_stime.tv_sec * 1000000L + ru.ru_stime.tv_usec) < 0 || fclose(out) != 0) {
		perror(argv[1]);
		return 127;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
