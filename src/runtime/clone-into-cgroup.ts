// A child cloned straight into its cgroup (clone3's CLONE_INTO_CGROUP, Linux
// 5.7, cgroup v2) is in it from its first instruction: its limits hold and
// freezing and cgroup.kill reach it before it runs any code. Where that cannot
// be done the child is forked as before and the caller moves it in through
// cgroup.procs (as runc 1.4's exec does, which falls back the same way).
import { debug } from '../log';
import { O, open, closeQuiet } from '../sys/fs';
import { SysError } from '../sys/errno';
import type { CloneTarget } from '../cgroups/handle';

/**
 * The errnos that mean "not here" rather than a broken call: no clone3
 * (ENOSYS), no CLONE_INTO_CGROUP (EINVAL, E2BIG), not a leaf or not a domain
 * cgroup (EBUSY, EOPNOTSUPP), not ours to write or not visible from our
 * cgroup namespace (EACCES, EPERM, ENOENT), gone (ENODEV), or pids.max reached
 * meanwhile (EAGAIN: a move through cgroup.procs may exceed it, a fork not).
 */
const FALLBACK = new Set([
  'ENOSYS',
  'EINVAL',
  'E2BIG',
  'EBUSY',
  'EOPNOTSUPP',
  'EACCES',
  'EPERM',
  'ENOENT',
  'ENODEV',
  'EAGAIN',
]);

export interface Cloned {
  pid: number;
  /** In its cgroup already: the caller must not move it. */
  inCgroup: boolean;
}

/** Clones through `clone` into `target` where it can, else without; `who` names the child in the debug line. */
export function cloneIntoCgroup(
  who: string,
  target: CloneTarget | undefined,
  clone: (cgroup?: { fd: number; path: string }) => number,
): Cloned {
  if (!target) return { pid: clone(), inCgroup: false };
  if ('why' in target) {
    debug(`${who}: joins its cgroup through cgroup.procs (${target.why})`);
    return { pid: clone(), inCgroup: false };
  }
  let fd: number;
  try {
    fd = open(target.dir, O.PATH | O.DIRECTORY);
  } catch (e) {
    debug(`${who}: joins its cgroup through cgroup.procs (${(e as Error).message})`);
    return { pid: clone(), inCgroup: false };
  }
  try {
    const pid = clone({ fd, path: target.dir });
    debug(`${who}: cloned into cgroup ${target.dir} (CLONE_INTO_CGROUP)`);
    return { pid, inCgroup: true };
  } catch (e) {
    if (!(e instanceof SysError && e.call === 'clone3' && FALLBACK.has(e.code))) throw e;
    debug(`${who}: ${e.message}, joins its cgroup through cgroup.procs`);
    return { pid: clone(), inCgroup: false };
  } finally {
    closeQuiet(fd);
  }
}
