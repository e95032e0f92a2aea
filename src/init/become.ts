// The last steps of every process tsrun starts in a container (the init's
// program, an exec'd one): only the fds it is given, the seccomp filter, the
// user and capabilities, no_new_privs, then execve with signals reset.
import { statSync } from 'node:fs';
import type { Process, State } from '../spec/types';
import type { CompiledSeccompJSON } from '../seccomp/compile';
import { applyUser, applyNoNewPrivileges } from '../linux/credentials';
import { withHome } from '../linux/passwd';
import { closeRange, setCloexec, CLOSE_RANGE_CLOEXEC } from '../sys/fs';
import { nativeExec } from '../sys/native';
import { loadSeccomp } from '../seccomp/load';

export interface FinalSteps {
  /** fds 3..3+N-1 reach the program as they are. */
  preserveFds: number;
  /** More fds that stay open, close-on-exec, until execve (the exec fifo, the log, the sync socket). */
  keepOpen: number[];
  seccomp?: CompiledSeccompJSON;
  /** The state a seccomp notify agent is sent. */
  seccompState: State;
  notifySocket?: number;
  /** Runs after every step, right before execve (startContainer hooks). */
  beforeExec?: () => void;
}

export function becomeProcess(proc: Process, exe: string, s: FinalSteps): never {
  const firstClosed = 3 + s.preserveFds;
  closeRange(firstClosed, 0xffffffff, CLOSE_RANGE_CLOEXEC);
  // The native helper handed them over without close-on-exec: restore it (stdio is the program's).
  for (const fd of s.keepOpen) if (fd > 2) setCloexec(fd, true);
  for (let fd = 0; fd < firstClosed; fd++) {
    if (s.keepOpen.includes(fd)) continue;
    try {
      setCloexec(fd, false);
    } catch {
      // not open: nothing to hand over
    }
  }
  // Read while / is the container's and nothing stops the read yet (user switch, seccomp).
  const env = withHome(proc.env, proc.user?.uid ?? 0);
  // As late as possible, like runc: without no_new_privs, loading a filter
  // needs CAP_SYS_ADMIN, which the user switch may drop, so it comes first.
  const loadFilter = () => {
    if (s.seccomp) loadSeccomp(s.seccomp, { state: s.seccompState, socketFd: s.notifySocket });
  };
  if (!proc.noNewPrivileges) loadFilter();
  applyUser(proc.user ?? { uid: 0, gid: 0 }, proc.capabilities);
  applyNoNewPrivileges(proc.noNewPrivileges);
  if (proc.noNewPrivileges) loadFilter();
  s.beforeExec?.();
  nativeExec(exe, proc.args ?? [], env);
}

/**
 * An entrypoint that is this executable (/proc/self/exe, or a link to it)
 * would run tsrun's code with the image's libraries and the image's
 * arguments: the first step of CVE-2019-5736. The protected copy makes the
 * binary unwritable anyway; this refuses even to run it.
 */
export function refuseOwnExecutable(exe: string, args0: string): void {
  let self: { dev: number; ino: number };
  let target: { dev: number; ino: number };
  try {
    self = statSync('/proc/self/exe');
    target = statSync(exe);
  } catch {
    return; // no /proc in the container: nothing there leads back to this executable
  }
  if (self.dev === target.dev && self.ino === target.ino) {
    throw new Error(
      `exec: "${args0}": is tsrun's own executable; refusing to run it as the container's process (CVE-2019-5736)`,
    );
  }
}
