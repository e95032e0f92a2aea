// The last steps of every process tsrun starts in a container (the init's
// program, an exec'd one): only the fds it is given, then the seccomp
// filter, the user and capabilities, no_new_privs, startContainer hooks and
// execve with signals reset. Those run in native code (tsrun_finish): no
// JavaScript may run under the container's filter (docs/seccomp.md).
import { statSync } from 'node:fs';
import type { Process } from '../spec/types';
import { closeRange, setCloexec, CLOSE_RANGE_CLOEXEC } from '../sys/fs';
import { nativeFinish } from '../sys/native';
import { releaseProcfsHandle } from '../linux/proc-file';
import { finalPlan, finalError, type FinalInputs } from './final-plan';

export interface FinalSteps extends FinalInputs {
  /** fds 3..3+N-1 reach the program as they are. */
  preserveFds: number;
  /** More fds that stay open, close-on-exec, until execve (the exec fifo, the log, the sync socket). */
  keepOpen: number[];
  /** The last JavaScript, after everything prepared, before the native steps (a debug line). */
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
  const plan = finalPlan(proc, exe, s);
  // exec's process: its last /proc use was the plan (setgroups). The init released it before waiting.
  releaseProcfsHandle();
  s.beforeExec?.();
  // Returns only on failure. If the filter is on by then, what follows runs
  // under it: only to report the failure and exit.
  throw finalError(plan, s.startContainer?.hooks ?? [], nativeFinish(plan));
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
