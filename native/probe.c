// The differential harness's probe (conformance/differential/): run as a
// container's process, it prints what the process sees of itself as one JSON
// object on stdout, then exits with the status given by --exit. Built static
// (build/probe) so it runs in any rootfs; it is a test tool, not part of
// dist/tsrun.
//
//   /probe [--exit N] [--file PATH]... [--path PATH]...
//
// --file adds PATH's first bytes to "files"; --path adds PATH to the paths
// whose open/read/write behaviour "paths" reports (masked and read-only paths).
// Values are raw: the harness's normaliser drops what differs per run.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>

extern char **environ;

static int first;

static void str(const char *s) {
  putchar('"');
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c < 0x20 || c >= 0x7f)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
  putchar('"');
}

// Object members and array items: a comma before all but the first.
static void sep(void) {
  if (!first) putchar(',');
  first = 0;
}
static void key(const char *k) {
  sep();
  str(k);
  putchar(':');
}
static void open_obj(const char *k) {
  if (k) key(k);
  putchar('{');
  first = 1;
}
static void open_arr(const char *k) {
  if (k) key(k);
  putchar('[');
  first = 1;
}
static void close_obj(void) {
  putchar('}');
  first = 0;
}
static void close_arr(void) {
  putchar(']');
  first = 0;
}
static void kv_str(const char *k, const char *v) {
  key(k);
  str(v);
}
static void kv_long(const char *k, long long v) {
  key(k);
  printf("%lld", v);
}
static void kv_errno(const char *k, int err) {
  key(k);
  str(err ? strerrorname_np(err) : "ok");
}

// A whole small file, or "" with errno set; trailing newlines kept.
static char *slurp(const char *path, size_t max) {
  static char buf[1 << 16];
  if (max > sizeof(buf) - 1) max = sizeof(buf) - 1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  size_t n = 0;
  if (fd >= 0) {
    ssize_t r;
    while (n < max && (r = read(fd, buf + n, max - n)) > 0) n += (size_t)r;
    close(fd);
  }
  buf[n] = 0;
  return buf;
}

static void status_fields(void) {
  static const char *wanted[] = {"Uid",    "Gid",    "Groups",     "Umask",   "CapInh",         "CapPrm",
                                 "CapEff", "CapBnd", "CapAmb",     "NoNewPrivs", "Seccomp",     "SigBlk",
                                 "SigIgn", "SigCgt", "Cpus_allowed_list", "Mems_allowed_list", NULL};
  char *text = strdup(slurp("/proc/self/status", 1 << 16));
  open_obj("status");
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    char *colon = strchr(line, ':');
    if (!colon) continue;
    *colon = 0;
    for (int i = 0; wanted[i]; i++) {
      if (strcmp(line, wanted[i]) != 0) continue;
      char *v = colon + 1;
      while (*v == ' ' || *v == '\t') v++;
      for (char *t = v; *t; t++)
        if (*t == '\t') *t = ' ';
      kv_str(line, v);
    }
  }
  close_obj();
  free(text);
}

static void env_fields(void) {
  open_arr("env");
  for (char **e = environ; *e; e++) {
    sep();
    str(*e);
  }
  close_arr();
}

static void rlimit_fields(void) {
  static const char *names[] = {"RLIMIT_CPU",    "RLIMIT_FSIZE",   "RLIMIT_DATA",   "RLIMIT_STACK",
                                "RLIMIT_CORE",   "RLIMIT_RSS",     "RLIMIT_NPROC",  "RLIMIT_NOFILE",
                                "RLIMIT_MEMLOCK", "RLIMIT_AS",     "RLIMIT_LOCKS",  "RLIMIT_SIGPENDING",
                                "RLIMIT_MSGQUEUE", "RLIMIT_NICE",  "RLIMIT_RTPRIO", "RLIMIT_RTTIME"};
  open_obj("rlimits");
  for (int i = 0; i < 16; i++) {
    struct rlimit rl;
    char v[64];
    if (getrlimit(i, &rl) != 0)
      snprintf(v, sizeof(v), "%s", strerrorname_np(errno));
    else if (rl.rlim_cur == RLIM_INFINITY && rl.rlim_max == RLIM_INFINITY)
      snprintf(v, sizeof(v), "unlimited unlimited");
    else
      snprintf(v, sizeof(v), "%lld %lld", (long long)rl.rlim_cur, (long long)rl.rlim_max);
    kv_str(names[i], v);
  }
  close_obj();
}

static void fd_fields(void) {
  DIR *d = opendir("/proc/self/fd");
  int self = d ? dirfd(d) : -1;
  open_obj("fds");
  struct dirent *de;
  while (d && (de = readdir(d))) {
    if (de->d_name[0] == '.' || atoi(de->d_name) == self) continue;
    char path[300], target[4096];
    snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    target[n > 0 ? n : 0] = 0;
    int fl = fcntl(atoi(de->d_name), F_GETFL);
    char v[4200];
    snprintf(v, sizeof(v), "%s %s", target, (fl & O_ACCMODE) == O_RDONLY ? "r" : (fl & O_ACCMODE) == O_WRONLY ? "w" : "rw");
    kv_str(de->d_name, v);
  }
  close_obj();
  if (d) closedir(d);
}

static void identity_fields(void) {
  struct utsname u;
  char cwd[4096];
  uname(&u);
  kv_str("hostname", u.nodename);
  kv_str("domainname", u.domainname);
  kv_str("cwd", getcwd(cwd, sizeof(cwd)) ? cwd : strerrorname_np(errno));
  kv_str("cgroup", slurp("/proc/self/cgroup", 1 << 14));
  kv_str("mountinfo", slurp("/proc/self/mountinfo", 1 << 16));
  kv_str("oom_score_adj", slurp("/proc/self/oom_score_adj", 64));
  kv_str("personality", slurp("/proc/self/personality", 64));
  kv_str("timens_offsets", slurp("/proc/self/timens_offsets", 256));
}

static void sched_fields(void) {
  struct sched_param sp = {0};
  open_obj("sched");
  kv_long("policy", sched_getscheduler(0) & ~SCHED_RESET_ON_FORK);
  kv_long("reset_on_fork", (sched_getscheduler(0) & SCHED_RESET_ON_FORK) != 0);
  sched_getparam(0, &sp);
  kv_long("priority", sp.sched_priority);
  errno = 0;
  kv_long("nice", getpriority(PRIO_PROCESS, 0));
  kv_long("ioprio", syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0));
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof(set), &set);
  char cpus[1024] = "";
  for (int i = 0; i < CPU_SETSIZE; i++)
    if (CPU_ISSET(i, &set)) snprintf(cpus + strlen(cpus), sizeof(cpus) - strlen(cpus), "%s%d", cpus[0] ? "," : "", i);
  kv_str("affinity", cpus);
  close_obj();
}

// The process's view of its stdio as a terminal (process.terminal): which fds
// are a tty, that tty's mode and owner, whether it is the controlling terminal
// of a session the process leads, and whether the process is in its foreground.
static void tty_fields(void) {
  open_obj("tty");
  for (int fd = 0; fd <= 2; fd++) {
    char k[8], v[300];
    struct stat st;
    snprintf(k, sizeof(k), "fd%d", fd);
    if (!isatty(fd) || fstat(fd, &st) != 0)
      snprintf(v, sizeof(v), "not a tty");
    else
      snprintf(v, sizeof(v), "%s %04o %u:%u", ttyname(fd) ? ttyname(fd) : strerrorname_np(errno), st.st_mode & 07777,
               st.st_uid, st.st_gid);
    kv_str(k, v);
  }
  kv_long("session_leader", getsid(0) == getpid());
  // /dev/tty opens only for a process with a controlling terminal (ENXIO otherwise).
  int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  kv_errno("ctty", fd < 0 ? errno : 0);
  if (fd >= 0) close(fd);
  kv_long("foreground", isatty(0) && tcgetpgrp(0) == getpgrp());
  close_obj();
}

static void ns_fields(void) {
  static const char *types[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time",
                                "time_for_children", "user", "uts", NULL};
  open_obj("ns");
  for (int i = 0; types[i]; i++) {
    char path[64], target[256];
    snprintf(path, sizeof(path), "/proc/self/ns/%s", types[i]);
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    target[n > 0 ? n : 0] = 0;
    kv_str(types[i], n > 0 ? target : strerrorname_np(errno));
  }
  close_obj();
}

static void dev_walk(const char *dir, int depth) {
  DIR *d = opendir(dir);
  struct dirent *de;
  while (d && (de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    char path[4096], v[4200] = "";
    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
    struct stat st;
    if (lstat(path, &st) != 0) continue;
    const char *type = S_ISCHR(st.st_mode) ? "c" : S_ISBLK(st.st_mode) ? "b" : S_ISDIR(st.st_mode) ? "d"
                       : S_ISLNK(st.st_mode) ? "l" : S_ISFIFO(st.st_mode) ? "p" : S_ISSOCK(st.st_mode) ? "s" : "f";
    int n = snprintf(v, sizeof(v), "%s %04o %u:%u", type, st.st_mode & 07777, st.st_uid, st.st_gid);
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
      snprintf(v + n, sizeof(v) - n, " %u:%u", major(st.st_rdev), minor(st.st_rdev));
    if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t m = readlink(path, target, sizeof(target) - 1);
      target[m > 0 ? m : 0] = 0;
      snprintf(v + n, sizeof(v) - n, " -> %s", target);
    }
    kv_str(path, v);
    // /dev's own tree only: the submounts (pts, shm, mqueue) are in mountinfo.
    if (S_ISDIR(st.st_mode) && depth < 2 && strcmp(path, "/dev/pts") && strcmp(path, "/dev/shm") &&
        strcmp(path, "/dev/mqueue"))
      dev_walk(path, depth + 1);
  }
  if (d) closedir(d);
}

// What open, read and write do on PATH: masked paths read as empty, read-only
// ones refuse writes (EROFS). Write means open(O_WRONLY) only: nothing is written.
static void path_entry(const char *path) {
  struct stat st;
  char v[256];
  int n = snprintf(v, sizeof(v), "%s", lstat(path, &st) != 0 ? strerrorname_np(errno)
                                       : S_ISDIR(st.st_mode) ? "dir" : S_ISCHR(st.st_mode) ? "chr" : "file");
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    n += snprintf(v + n, sizeof(v) - n, " open=%s", strerrorname_np(errno));
  } else if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    DIR *d = fdopendir(fd);
    int count = 0;
    while (d && readdir(d)) count++;
    n += snprintf(v + n, sizeof(v) - n, " entries=%d", count);
    if (d) closedir(d);
  } else {
    char c;
    ssize_t r = read(fd, &c, 1);
    n += snprintf(v + n, sizeof(v) - n, " read=%s", r < 0 ? strerrorname_np(errno) : r == 0 ? "empty" : "data");
    close(fd);
  }
  fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  snprintf(v + n, sizeof(v) - n, " write=%s", fd < 0 ? strerrorname_np(errno) : "ok");
  if (fd >= 0) close(fd);
  kv_str(path, v);
}

static const char *default_paths[] = {
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
    "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/proc/bus", "/proc/fs",
    "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", "/proc/sys/kernel/hostname", "/", "/tmp", "/etc/passwd", NULL};

int main(int argc, char **argv) {
  int code = 0;
  // chroot is what the harness's small seccomp profile refuses: its errno shows the filter at work.
  int chroot_errno = chroot("/probe-nonexistent") == 0 ? 0 : errno;
  first = 1;
  putchar('{');
  key("args");
  open_arr(NULL);
  for (int i = 0; i < argc; i++) {
    sep();
    str(argv[i]);
  }
  close_arr();
  identity_fields();
  kv_errno("chroot", chroot_errno);
  status_fields();
  env_fields();
  rlimit_fields();
  fd_fields();
  sched_fields();
  tty_fields();
  ns_fields();
  open_obj("dev");
  dev_walk("/dev", 0);
  close_obj();
  open_obj("paths");
  for (int i = 0; default_paths[i]; i++) path_entry(default_paths[i]);
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], "--path") == 0) path_entry(argv[++i]);
  close_obj();
  open_obj("files");
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], "--file") == 0) {
      kv_str(argv[i + 1], slurp(argv[i + 1], 4096));
      i++;
    }
  close_obj();
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], "--exit") == 0) code = atoi(argv[i + 1]);
  puts("}");
  fflush(stdout);
  return code;
}
