/*
 * tsrun's native helper: the only code that runs between clone() and execve().
 *
 * It exists because JavaScript cannot run there: the JS engines map their
 * heap with MADV_DONTFORK, so a forked child has no heap, and both node and
 * Bun are multithreaded, so they may not unshare or join user, pid or time
 * namespaces. Policy
 * lives in TypeScript; this file only carries out a plan it is handed and
 * reports each step over the sync socket as one JSON line.
 *
 * Those lines are messages of src/protocol/messages.ts, the one place that
 * declares them (with a sequence diagram): this file writes "usermap",
 * "timens", "debug", "error" and "pid" and reads the parent's "ack" as the
 * end of a line. C cannot import it: a change to a message starts there and
 * is made here in step.
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
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/mount.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_memfd_create
#define SYS_memfd_create 319
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#define MFD_ALLOW_SEALING 0x0002U
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#define F_SEAL_WRITE 0x0008
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

static void send_debug(int fd, const char *msg, const char *call)
{
	struct line l = { .len = 0 };
	int err = errno;

	put(&l, "{\"type\":\"debug\",\"msg\":\"");
	put(&l, msg);
	put(&l, "\",\"call\":\"");
	put(&l, call);
	put(&l, "\",\"errno\":");
	put_long(&l, err);
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

/* Root of a user namespace: without it execve drops every capability there. */
static void become_root(int sync_fd)
{
	/* raw syscalls: glibc's set*id would try to reach other threads */
	if (syscall(SYS_setresgid, 0, 0, 0) < 0)
		fail(sync_fd, "setresgid", "0");
	if (syscall(SYS_setresuid, 0, 0, 0) < 0)
		fail(sync_fd, "setresuid", "0");
}

static void join(int sync_fd, const int *fds, const int *types, int n, int user_pass)
{
	for (int i = 0; i < n; i++) {
		if ((types[i] == CLONE_NEWUSER) != user_pass)
			continue;
		if (setns(fds[i], types[i]) < 0)
			fail(sync_fd, "setns", ns_name(types[i]));
		/* A joined user namespace (exec, or a path in the config): its root, as runc. */
		if (types[i] == CLONE_NEWUSER)
			become_root(sync_fd);
	}
}

/* A sealed memfd holding a copy of the executable at `path`. */
static int sealed_copy(int sync_fd, const char *path)
{
	struct stat st;
	int src = open(path, O_RDONLY | O_CLOEXEC);
	int fd;

	if (src < 0)
		fail(sync_fd, "open", path);
	if (fstat(src, &st) < 0)
		fail(sync_fd, "fstat", path);
	fd = syscall(SYS_memfd_create, "tsrun", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		fail(sync_fd, "memfd_create", "tsrun");
	for (off_t done = 0; done < st.st_size;) {
		ssize_t n = sendfile(fd, src, NULL, st.st_size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail(sync_fd, "sendfile", path);
		done += n;
	}
	close(src);
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		fail(sync_fd, "fcntl", "F_ADD_SEALS");
	return fd;
}

/*
 * Binary protection (CVE-2019-5736): the process that enters the container
 * must not run from a file the container could reopen for writing through
 * /proc/PID/exe. A detached, read-only bind of the executable costs well
 * under a millisecond; a sealed memfd copy (runc's way) costs a copy of the
 * whole executable and is only the fallback where the mount API is missing.
 * Called first, while the child still has the caller's privileges.
 */
static int protected_exe(int sync_fd, const char *path)
{
	struct mount_attr attr;
	int fd = syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);

	if (fd >= 0) {
		memset(&attr, 0, sizeof(attr));
		attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
		if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) == 0)
			return fd;
		send_debug(sync_fd, "binary protection: read-only bind unavailable, copying the executable to a sealed memfd", "mount_setattr");
		close(fd);
	} else {
		send_debug(sync_fd, "binary protection: read-only bind unavailable, copying the executable to a sealed memfd", "open_tree");
	}
	return sealed_copy(sync_fd, path);
}

/*
 * The child's side of spawn: protect the executable, join namespaces given
 * by fd (user first), create the new ones (user first, so it owns the rest,
 * with the parent writing the id maps), fork once more when a pid or time
 * namespace only applies to children, then exec the protected executable.
 */
static __attribute__((noreturn)) void child(int sync_fd, const int *join_fds, const int *join_types,
					   int njoin, int unshare_flags, int fork_again,
					   const int *keep_fds, int nkeep, const char *path,
					   char *const argv[], char *const envp[])
{
	int exe_fd;

	/* Until execve, nothing in the container may ptrace or read this process. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail(sync_fd, "prctl", "PR_SET_DUMPABLE");
	exe_fd = protected_exe(sync_fd, path);

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
		/*
		 * A non-dumpable process's /proc files belong to root, so an
		 * unprivileged parent could not write its maps: dumpable just
		 * for the handshake (as runc), before anything of the container
		 * exists to make use of it.
		 */
		if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
			fail(sync_fd, "prctl", "PR_SET_DUMPABLE");
		send_pid(sync_fd, "usermap", getpid());
		wait_ack(sync_fd);
		if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
			fail(sync_fd, "prctl", "PR_SET_DUMPABLE");
		become_root(sync_fd);
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
		if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
			fail(sync_fd, "prctl", "PR_SET_DUMPABLE");
	} else {
		send_pid(sync_fd, "pid", getpid());
	}

	/* Like runc's init: a session of its own, away from the caller's terminal. */
	if (setsid() < 0)
		fail(sync_fd, "setsid", "init");
	syscall(SYS_execveat, exe_fd, "", argv, envp, AT_EMPTY_PATH);
	fail(sync_fd, "execveat", path);
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
 * The init's final step: Bun (like node) ignores SIGPIPE and SIGXFSZ and has
 * handlers and a signal mask of its own; execve keeps ignored signals and the mask, so
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

/*
 * A child in a new, empty user namespace that only waits to be killed: the
 * parent writes its id maps and opens /proc/PID/ns/user, which then holds the
 * namespace (an id-mapped mount's mapping) without any process in it.
 * Returns its pid, or -errno. It dies with its parent.
 */
int tsrun_userns_holder(void)
{
	pid_t parent = getpid();
	long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (getppid() != parent)
			_exit(1);
		for (;;)
			pause();
	}
	return (int)pid;
}
