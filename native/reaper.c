// The differential harness's reaper (conformance/differential/): runs the
// runtime's commands one after the other as a child subreaper, so the
// container's process, orphaned when `create` returns, is reaped here and its
// exit status is known, as containerd's shim learns it. A test tool, not part of
// dist/tsrun.
//
//   reaper REPORT PIDFILE -- CMD1 ARGS... -- CMD2 ARGS... [-- ...]
//
// Each command runs once the previous one exited 0. REPORT gets one line per
// command ("cmd N status") and, when every command succeeded, the status of
// the process whose pid PIDFILE names ("container status"), where status is
// "exit N", "signal N" or, for the container, "unknown" (it was not our orphan).
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void status_text(int st, char *buf, size_t n) {
  if (WIFEXITED(st))
    snprintf(buf, n, "exit %d", WEXITSTATUS(st));
  else
    snprintf(buf, n, "signal %d", WTERMSIG(st));
}

static int pid_from(const char *file) {
  FILE *f = fopen(file, "r");
  int pid = 0;
  if (f) {
    if (fscanf(f, "%d", &pid) != 1) pid = 0;
    fclose(f);
  }
  return pid;
}

// Wait for `pid`, reaping (and remembering) any orphan that exits meanwhile.
static int wait_for(pid_t pid, pid_t *reaped, int *statuses, int *nreaped) {
  for (;;) {
    int st;
    pid_t got = wait(&st);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return -1;
    if (got == pid) return st;
    if (*nreaped < 64) {
      reaped[*nreaped] = got;
      statuses[(*nreaped)++] = st;
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 5 || strcmp(argv[3], "--") != 0) {
    fprintf(stderr, "usage: reaper REPORT PIDFILE -- CMD ARGS... [-- CMD ARGS...]\n");
    return 2;
  }
  FILE *report = fopen(argv[1], "w");
  if (!report || prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    perror("reaper");
    return 2;
  }
  setvbuf(report, NULL, _IOLBF, 0);
  pid_t reaped[64];
  int statuses[64], nreaped = 0;
  char text[32];
  for (int i = 4, step = 0; i < argc; step++) {
    int end = i;
    while (end < argc && strcmp(argv[end], "--") != 0) end++;
    argv[end < argc ? end : argc] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
      execvp(argv[i], argv + i);
      _exit(127);
    }
    int st = wait_for(pid, reaped, statuses, &nreaped);
    status_text(st, text, sizeof(text));
    fprintf(report, "cmd %d %s\n", step, text);
    // A failed step: stop; what it left is for the caller's delete --force.
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return 0;
    i = end + 1;
  }
  pid_t container = pid_from(argv[2]);
  int st = -1;
  for (int j = 0; j < nreaped; j++)
    if (reaped[j] == container) st = statuses[j];
  while (st == -1) {
    int s;
    pid_t got = wait(&s);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) break;
    if (got == container) st = s;
  }
  if (st == -1)
    fprintf(report, "container unknown\n");
  else {
    status_text(st, text, sizeof(text));
    fprintf(report, "container %s\n", text);
  }
  return 0;
}
