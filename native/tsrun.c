/*
 * tsrun's native helper: the only code that runs between clone() and execve().
 *
 * It exists because JavaScript cannot run there: V8 maps its heap with
 * MADV_DONTFORK, so a forked child has no heap, and node is multithreaded, so
 * node itself may not unshare or join user, pid or time namespaces. Policy
 * lives in TypeScript; this file only carries out a plan it is handed and
 * reports each step over the sync socket as one JSON line.
 *
 * Only async-signal-safe calls are made in the child: it is the fork of a
 * multithreaded process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct line {
	char buf[256];
	size_t len;
};

static void put(struct line *l, const char *s)
{
	while (*s && l->len < sizeof(l->buf) - 2)
		l->buf[l->len++] = *s++;
}

static void put_long(struct line *l, long v)
{
	char tmp[24];
	int i = 0;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;

	do {
		tmp[i++] = '0' + u % 10;
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[i++] = '-';
	while (i > 0 && l->len < sizeof(l->buf) - 2)
		l->buf[l->len++] = tmp[--i];
}

static void send_line(int fd, struct line *l)
{
	const char *p = l->buf;
	size_t left;

	l->buf[l->len++] = '\n';
	left = l->len;
	while (left > 0) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		left -= n;
	}
}

static void send_pid(int fd, const char *type, pid_t pid)
{
	struct line l = { .len = 0 };

	put(&l, "{\"type\":\"");
	put(&l, type);
	put(&l, "\",\"pid\":");
	put_long(&l, pid);
	put(&l, "}");
	send_line(fd, &l);
}

static __attribute__((noreturn)) void fail(int fd, const char *call, const char *arg)
{
	struct line l = { .len = 0 };
	int err = errno;

	put(&l, "{\"type\":\"error\",\"call\":\"");
	put(&l, call);
	put(&l, "\",\"arg\":\"");
	put(&l, arg);
	put(&l, "\",\"errno\":");
	put_long(&l, err);
	put(&l, "}");
	send_line(fd, &l);
	_exit(1);
}

/* Wait for the parent's one-line answer; end quietly if it went away. */
static void wait_ack(int fd)
{
	char c;

	for (;;) {
		ssize_t n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(1);
		if (c == '\n')
			return;
	}
}

static const char *ns_name(int type)
{
	switch (type) {
	case CLONE_NEWUSER: return "user";
	case CLONE_NEWNS: return "mnt";
	case CLONE_NEWPID: return "pid";
	case CLONE_NEWNET: return "net";
	case CLONE_NEWIPC: return "ipc";
	case CLONE_NEWUTS: return "uts";
	case CLONE_NEWCGROUP: return "cgroup";
	case CLONE_NEWTIME: return "time";
	}
	return "unknown";
}

static void join(int sync_fd, const int *fds, const int *types, int n, int user_pass)
{
	for (int i = 0; i < n; i++) {
		if ((types[i] == CLONE_NEWUSER) != user_pass)
			continue;
		if (setns(fds[i], types[i]) < 0)
			fail(sync_fd, "setns", ns_name(types[i]));
	}
}

/*
 * The child's side of spawn: join namespaces given by fd (user first), create
 * the new ones (user first, so it owns the rest, with the parent writing the
 * id maps), fork once more when a pid or time namespace only applies to
 * children, then exec `path`.
 */
static __attribute__((noreturn)) void child(int sync_fd, const int *join_fds, const int *join_types,
					   int njoin, int unshare_flags, int fork_again,
					   const int *keep_fds, int nkeep, const char *path,
					   char *const argv[], char *const envp[])
{
	for (int i = 0; i < nkeep; i++) {
		int flags = fcntl(keep_fds[i], F_GETFD);
		if (flags < 0 || fcntl(keep_fds[i], F_SETFD, flags & ~FD_CLOEXEC) < 0)
			fail(sync_fd, "fcntl", "F_SETFD");
	}

	join(sync_fd, join_fds, join_types, njoin, 1);
	join(sync_fd, join_fds, join_types, njoin, 0);

	if (unshare_flags & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0)
			fail(sync_fd, "unshare", "user");
		send_pid(sync_fd, "usermap", getpid());
		wait_ack(sync_fd);
		/* raw syscalls: glibc's set*id would try to reach other threads */
		if (syscall(SYS_setresgid, 0, 0, 0) < 0)
			fail(sync_fd, "setresgid", "0");
		if (syscall(SYS_setresuid, 0, 0, 0) < 0)
			fail(sync_fd, "setresuid", "0");
	}

	if (unshare_flags & ~CLONE_NEWUSER) {
		if (unshare(unshare_flags & ~CLONE_NEWUSER) < 0)
			fail(sync_fd, "unshare", "namespaces");
	}
	if (unshare_flags & CLONE_NEWTIME) {
		send_pid(sync_fd, "timens", getpid());
		wait_ack(sync_fd);
	}

	if (fork_again) {
		pid_t pid = fork();
		if (pid < 0)
			fail(sync_fd, "fork", "init");
		if (pid > 0) {
			send_pid(sync_fd, "pid", pid);
			_exit(0);
		}
	} else {
		send_pid(sync_fd, "pid", getpid());
	}

	/* Like runc's init: a session of its own, away from the caller's terminal. */
	if (setsid() < 0)
		fail(sync_fd, "setsid", "init");
	execve(path, argv, envp);
	fail(sync_fd, "execve", path);
}

/*
 * Returns the pid of the child (the container init, or the intermediate
 * process when fork_again is set), or -errno.
 */
int tsrun_spawn(int sync_fd, const int *join_fds, const int *join_types, int njoin,
		int unshare_flags, int fork_again, const int *keep_fds, int nkeep,
		const char *path, char *const argv[], char *const envp[])
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0)
		child(sync_fd, join_fds, join_types, njoin, unshare_flags, fork_again,
		      keep_fds, nkeep, path, argv, envp);
	return pid;
}

/*
 * The init's final step: node ignores SIGPIPE and SIGXFSZ and has handlers
 * and a signal mask of its own; execve keeps ignored signals and the mask, so
 * reset them all right before exec, as a fresh process would have them.
 * Returns -errno if execve fails.
 */
int tsrun_exec(const char *path, char *const argv[], char *const envp[])
{
	struct sigaction dfl;
	sigset_t none;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sigaction(sig, &dfl, NULL);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	execve(path, argv, envp);
	return -errno;
}
