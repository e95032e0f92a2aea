// The child's fd 2 while it runs as tsrun (the init, exec's process): a
// crash of the runtime prints Bun's crash report there, and fd 2 is the
// container's stderr. So the child gets /dev/null on fd 2 until its last
// native step (tsrun_finish) puts the stderr it was handed back; the parent
// reports a crash as one error of its own (docs/cgroups.md).
import { dupAbove, open, O } from '../sys/fs';

export interface QuietStderr {
  /** Put on the child's fd 2 before it execs tsrun; -1: none. */
  quietFd: number;
  /** The caller's stderr, kept by the child for the program (plan.stderrFd). */
  stderrFd?: number;
}

/** Opens both (pushed on `fds`, closed when the spawn ends); the copy of fd 2 lands at `min` or above. */
export function quietStderr(min: number, fds: number[]): QuietStderr {
  let stderrFd: number;
  try {
    stderrFd = dupAbove(2, min);
  } catch {
    return { quietFd: -1 }; // no fd 2 to hand over: nothing to keep apart from it
  }
  fds.push(stderrFd);
  const quietFd = open('/dev/null', O.WRONLY);
  fds.push(quietFd);
  return { quietFd, stderrFd };
}
