// The processes tsrun starts in a container (the init, exec's process) log
// where the command that started them logs, in its format, for as long as
// they live as tsrun: their warnings and debug lines (hooks they run, steps
// they take) reach --log even after that command exited. Errors still go
// back to the parent, which reports them once.
import { fstatSync } from 'node:fs';
import { logTarget, type LogTarget } from '../log';

/**
 * The log to hand over, and the fds the child must inherit for it. No
 * pipe the caller may read to EOF can outlive the command (it would wait
 * for `start`): without --log the child logs to its own fd 2, the caller's
 * until the container's terminal replaces it, and a --log that is not a
 * regular file is not handed over at all.
 */
export function logForChild(): { target: LogTarget; keep: number[] } {
  const target = logTarget();
  if (target.fd <= 2) return { target, keep: [] };
  if (!fstatSync(target.fd).isFile()) return { target: { ...target, fd: -1 }, keep: [] };
  return { target, keep: [target.fd] };
}
