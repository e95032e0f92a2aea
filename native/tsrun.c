/*
 * tsrun's native helper: the only code that runs between clone() and execve(),
 * and a container process's last steps from its seccomp filter on (tsrun_finish).
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
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
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
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
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
 * fork() without glibc's bookkeeping: no atfork handlers, no malloc locks.
 * After clone3 (below) this process is a copy of a multithreaded one made
 * without that bookkeeping, where a lock another thread held stays held.
 */
static pid_t raw_fork(void)
{
	return syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
}

/* clone3's arguments up to `cgroup` (CLONE_ARGS_SIZE_VER2, Linux 5.7). */
struct clone_args_v2 {
	unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal;
	unsigned long long stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

/*
 * A fork straight into the cgroup v2 directory open at cgroup_fd, so the
 * child is in it from its first instruction; plain fork() without one.
 */
static pid_t spawn_fork(int cgroup_fd)
{
	struct clone_args_v2 args;

	if (cgroup_fd < 0)
		return fork();
	memset(&args, 0, sizeof(args));
	args.flags = CLONE_INTO_CGROUP;
	args.exit_signal = SIGCHLD;
	args.cgroup = (unsigned int)cgroup_fd;
	return syscall(SYS_clone3, &args, sizeof(args));
}

/*
 * The child's side of spawn: protect the executable, join namespaces given
 * by fd (user first), create the new ones (user first, so it owns the rest,
 * with the parent writing the id maps), fork once more when a pid or time
 * namespace only applies to children, then exec the protected executable.
 */
static __attribute__((noreturn)) void child(int sync_fd, const int *join_fds, const int *join_types,
					   int njoin, int unshare_flags, int fork_again,
					   const int *keep_fds, int nkeep, int quiet_fd, const char *path,
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
		pid_t pid = raw_fork();
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
	/*
	 * Whatever the runtime prints if it crashes (Bun's crash report) must
	 * never reach the container's stderr: fd 2 is /dev/null until
	 * tsrun_finish puts the program's stderr there (the parent kept a copy).
	 */
	if (quiet_fd >= 0 && dup2(quiet_fd, 2) < 0)
		fail(sync_fd, "dup2", "/dev/null");
	syscall(SYS_execveat, exe_fd, "", argv, envp, AT_EMPTY_PATH);
	fail(sync_fd, "execveat", path);
}

/*
 * Returns the pid of the child (the container init, or the intermediate
 * process when fork_again is set), or -errno. With cgroup_fd >= 0 the
 * child is cloned into that cgroup (clone3's errno is returned as it is:
 * whether to fork without is the caller's choice).
 */
int tsrun_spawn(int sync_fd, const int *join_fds, const int *join_types, int njoin,
		int unshare_flags, int fork_again, const int *keep_fds, int nkeep, int quiet_fd,
		const char *path, char *const argv[], char *const envp[], int cgroup_fd)
{
	pid_t pid = spawn_fork(cgroup_fd);

	if (pid < 0)
		return -errno;
	if (pid == 0)
		child(sync_fd, join_fds, join_types, njoin, unshare_flags, fork_again,
		      keep_fds, nkeep, quiet_fd, path, argv, envp);
	return pid;
}

/*
 * Bun (like node) ignores SIGPIPE and SIGXFSZ and has handlers and a signal
 * mask of its own; execve keeps ignored signals and the mask, so reset them
 * all, as a fresh process would have them. All blocked first, so no handler
 * of the runtime runs while the dispositions change; once every one is
 * SIG_DFL, a signal does what it would do to the program, and the mask can
 * be cleared already (a strict filter need not allow rt_sigprocmask).
 */
static struct sigaction saved_actions[NSIG];
static sigset_t saved_mask;

static void reset_signals(void)
{
	struct sigaction dfl;
	sigset_t set;

	sigfillset(&set);
	sigprocmask(SIG_SETMASK, &set, &saved_mask);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sigaction(sig, &dfl, &saved_actions[sig]);
	}
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
}

/* After a failed step: the runtime's handlers back, for the runtime to report it and exit. */
static void restore_signals(void)
{
	sigset_t all;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sigaction(sig, &saved_actions[sig], NULL);
	}
	sigprocmask(SIG_SETMASK, &saved_mask, NULL);
}

/* ---- the last steps of a container's process: tsrun_finish ---- */

/* A startContainer hook: run as the process is about to be, state JSON on stdin. */
struct tsrun_hook {
	const char *path;
	char *const *argv;
	char *const *envp;
	int timeout; /* seconds; 0: none */
};

/* Everything prepared in TypeScript; see src/init/final-plan.ts. */
struct tsrun_final {
	const void *filter; /* struct sock_filter[filter_len], or NULL: no seccomp */
	unsigned int filter_len;
	unsigned int filter_flags;
	int filter_first; /* no_new_privs off: the filter needs CAP_SYS_ADMIN, before the switch */
	int notify_fd; /* connected to the seccomp agent, or -1 */
	const char *notify_msg;
	unsigned int notify_len;
	int set_groups;
	unsigned int ngroups;
	const unsigned int *groups;
	unsigned int uid;
	unsigned int gid;
	int set_caps;
	unsigned int cap_data[6]; /* two struct __user_cap_data_struct */
	unsigned long long ambient;
	int no_new_privs;
	const struct tsrun_hook *hooks;
	unsigned int nhooks;
	const char *hook_input;
	unsigned int hook_input_len;
	const char *path;
	char *const *argv;
	char *const *envp;
	int stderr_fd; /* the program's stderr, put on fd 2 first; -1: fd 2 is already it */
};

/* Which step failed (the TS side names the call and its argument), with errno. */
enum {
	STEP_SECCOMP = 1,
	STEP_NOTIFY_SEND,
	STEP_SETGROUPS,
	STEP_KEEPCAPS_ON,
	STEP_SETRESGID,
	STEP_SETRESUID,
	STEP_KEEPCAPS_OFF,
	STEP_CAPSET,
	STEP_AMBIENT_CLEAR,
	STEP_NO_NEW_PRIVS,
	STEP_HOOK_SETUP,
	STEP_HOOK_EXEC,
	STEP_HOOK_WAIT,
	STEP_HOOK_STATUS,
	STEP_EXECVE,
	STEP_STDERR,
};

struct tsrun_failure {
	int step;
	int err;
	int hook; /* index of the failed hook, or -1 */
	int hook_status; /* its exit status, or -1 */
	int hook_signal; /* the signal that ended it, or 0 */
	int hook_timed_out;
	unsigned char hook_stderr[8192]; /* the start of its stderr, NUL-terminated */
};

static int failed(struct tsrun_failure *out, int step)
{
	out->step = step;
	out->err = errno;
	return -1;
}

#ifndef SECCOMP_SET_MODE_FILTER
#define SECCOMP_SET_MODE_FILTER 1
#endif

struct bpf_prog {
	unsigned short len;
	const void *filter;
};

/* sendmsg of the prepared state with the listener fd attached, then the rest if it was cut short. */
static int send_listener(int sock, int listener, const char *msg, size_t len)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			     .msg_controllen = sizeof(control) };
	struct cmsghdr *c;
	ssize_t n;

	memset(control, 0, sizeof(control));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &listener, sizeof(int));
	for (;;) {
		do
			n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -1;
		iov.iov_base = (char *)iov.iov_base + n;
		iov.iov_len -= n;
		if (iov.iov_len == 0)
			return 0;
		mh.msg_control = NULL; /* later pieces carry no fd */
		mh.msg_controllen = 0;
	}
}

static int load_filter(const struct tsrun_final *f, struct tsrun_failure *out)
{
	struct bpf_prog prog = { .len = f->filter_len, .filter = f->filter };
	long listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->filter_flags, &prog);
	int ret = 0;

	if (listener < 0)
		return failed(out, STEP_SECCOMP);
	if (f->notify_fd < 0)
		return 0;
	if (send_listener(f->notify_fd, listener, f->notify_msg, f->notify_len) < 0)
		ret = failed(out, STEP_NOTIFY_SEND);
	close(listener);
	close(f->notify_fd);
	return ret;
}

/*
 * Groups, gid, uid (raw syscalls: glibc's would signal every thread), with
 * the capabilities kept across the uid change and then set as planned.
 */
static int switch_user(const struct tsrun_final *f, struct tsrun_failure *out)
{
	struct { unsigned int version; int pid; } hdr = { 0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0 };

	if (f->set_groups && syscall(SYS_setgroups, f->ngroups, f->groups) < 0)
		return failed(out, STEP_SETGROUPS);
	if (f->set_caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return failed(out, STEP_KEEPCAPS_ON);
	if (syscall(SYS_setresgid, f->gid, f->gid, f->gid) < 0)
		return failed(out, STEP_SETRESGID);
	if (syscall(SYS_setresuid, f->uid, f->uid, f->uid) < 0)
		return failed(out, STEP_SETRESUID);
	if (!f->set_caps)
		return 0;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return failed(out, STEP_KEEPCAPS_OFF);
	if (syscall(SYS_capset, &hdr, f->cap_data) < 0)
		return failed(out, STEP_CAPSET);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return failed(out, STEP_AMBIENT_CLEAR);
	/* Only caps both permitted and inheritable are asked for; a refusal is no error, as in runc. */
	for (int cap = 0; cap < 64; cap++) {
		if (f->ambient >> cap & 1)
			prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
	}
	return 0;
}

/* A close-on-exec copy of fd above stdio (stdio may be closed, so new fds could land there). */
static int above_stdio(int fd)
{
	int high;

	if (fd < 0 || fd > 2)
		return fd;
	high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return high;
}

/*
 * An anonymous file for a hook's stdout or stderr: with a pipe, a hook that
 * leaves a process behind would keep the init waiting. A memfd when no
 * directory takes O_TMPFILE (a read-only root).
 */
static int capture_file(void)
{
	static const char *const dirs[] = { "/tmp", "/dev/shm", "/run" };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		int fd = open(dirs[i], O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (fd >= 0)
			return above_stdio(fd);
	}
	return above_stdio(syscall(SYS_memfd_create, "tsrun-hook", MFD_CLOEXEC));
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/*
 * The hook's stdin: a pipe already holding the whole state, its write end
 * closed; a state too big for a pipe goes in an anonymous file instead.
 */
static int hook_stdin(const struct tsrun_final *f)
{
	int p[2], fd;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if (f->hook_input_len > 65536)
		fcntl(p[1], F_SETPIPE_SZ, f->hook_input_len);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	if (write_all(p[1], f->hook_input, f->hook_input_len) == 0) {
		close(p[1]);
		return above_stdio(p[0]);
	}
	close(p[0]);
	close(p[1]);
	fd = capture_file();
	if (fd < 0 || write_all(fd, f->hook_input, f->hook_input_len) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Waits for the hook, killing it at its timeout; returns its wait status or -1. */
static int wait_hook(pid_t pid, int timeout, int *timed_out)
{
	int status;

	if (timeout > 0) {
		int pidfd = syscall(SYS_pidfd_open, pid, 0);
		struct pollfd p = { .fd = pidfd, .events = POLLIN };
		int n;

		if (pidfd < 0)
			return -1;
		do
			n = poll(&p, 1, timeout * 1000);
		while (n < 0 && errno == EINTR);
		close(pidfd);
		if (n == 0) {
			kill(pid, SIGKILL);
			*timed_out = 1;
		}
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return status;
}

static void close_all(const int *fds, int n)
{
	for (int k = 0; k < n; k++) {
		if (fds[k] >= 0)
			close(fds[k]);
	}
}

/*
 * One startContainer hook. A raw clone rather than fork(): glibc's fork runs
 * the runtime's atfork handlers. The child only dups and execs; an execve
 * failure comes back as its errno over a close-on-exec pipe.
 */
static int run_hook(const struct tsrun_final *f, int i, struct tsrun_failure *out)
{
	const struct tsrun_hook *h = &f->hooks[i];
	int in = -1, o = -1, e = -1, report[2] = { -1, -1 }, status, child_err = 0, ret = 0;
	pid_t pid;

	out->hook = i;
	in = hook_stdin(f);
	o = capture_file();
	e = capture_file();
	if (in < 0 || o < 0 || e < 0 || pipe2(report, O_CLOEXEC) < 0) {
		ret = failed(out, STEP_HOOK_SETUP);
		goto done;
	}
	report[1] = above_stdio(report[1]);
	pid = syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		ret = failed(out, STEP_HOOK_SETUP);
		goto done;
	}
	if (pid == 0) {
		if (dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			child_err = errno;
		else
			execve(h->path, h->argv, h->envp);
		if (!child_err)
			child_err = errno;
		if (write(report[1], &child_err, sizeof(child_err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(report[1]);
	report[1] = -1;
	status = wait_hook(pid, h->timeout, &out->hook_timed_out);
	if (status < 0) {
		ret = failed(out, STEP_HOOK_WAIT);
		goto done;
	}
	if (read(report[0], &child_err, sizeof(child_err)) == sizeof(child_err)) {
		errno = child_err;
		ret = failed(out, STEP_HOOK_EXEC);
		goto done;
	}
	if (out->hook_timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		ssize_t n = pread(e, out->hook_stderr, sizeof(out->hook_stderr) - 1, 0);

		out->hook_stderr[n > 0 ? n : 0] = 0;
		out->hook_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		out->hook_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
		errno = 0;
		ret = failed(out, STEP_HOOK_STATUS);
	}
done:
	close_all((int[]){ in, o, e, report[0], report[1] }, 5);
	return ret;
}

static int finish_steps(const struct tsrun_final *f, struct tsrun_failure *out)
{
	if (f->filter && f->filter_first && load_filter(f, out) < 0)
		return -1;
	if (switch_user(f, out) < 0)
		return -1;
	if (f->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return failed(out, STEP_NO_NEW_PRIVS);
	if (f->filter && !f->filter_first && load_filter(f, out) < 0)
		return -1;
	for (unsigned int i = 0; i < f->nhooks; i++) {
		if (run_hook(f, i, out) < 0)
			return -1;
	}
	out->hook = -1;
	execve(f->path, f->argv, f->envp);
	return failed(out, STEP_EXECVE);
}

/*
 * The process's last steps, in runc's order and with nothing of the JS
 * runtime in between: [the seccomp filter when no_new_privs is off, as
 * loading it then needs CAP_SYS_ADMIN] -> groups, gid, uid, capabilities ->
 * no_new_privs -> [the filter when no_new_privs is on] -> startContainer
 * hooks -> execve. Signals are reset first, before the filter. Returns
 * only on failure: -1 with `out` saying which step failed and its errno,
 * and the runtime's signal handlers back.
 */
int tsrun_finish(const struct tsrun_final *f, struct tsrun_failure *out)
{
	memset(out, 0, sizeof(*out));
	out->hook = -1;
	out->hook_status = -1;
	int quiet = -1;

	reset_signals();
	/*
	 * The program's stderr goes on fd 2 only now: the runtime's crash
	 * handlers are gone, and no seccomp filter may refuse dup2 yet.
	 */
	if (f->stderr_fd >= 0) {
		quiet = fcntl(2, F_DUPFD_CLOEXEC, 3);
		if (quiet < 0 || dup2(f->stderr_fd, 2) < 0) {
			failed(out, STEP_STDERR);
			restore_signals();
			return -1;
		}
	}
	finish_steps(f, out);
	if (quiet >= 0) {
		dup2(quiet, 2);
		close(quiet);
	}
	restore_signals();
	return -1;
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
