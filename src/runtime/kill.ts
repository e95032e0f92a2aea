// Signals to a container: its init, or (--all) every process in its cgroup.
// No lock and no FFI, as runc: a signal races with the container's exit
// whatever the runtime does, and the pid is checked against its start time.
import { InvalidInputError, ContainerStateError } from '../errors';
import { debug } from '../log';
import { ContainerFiles, statusOf, type Saved } from '../state/status';
import { waitGone } from '../state/proc';
import { CgroupHandle } from '../cgroups/handle';
import { parseSignal } from './signals';

const SIGKILL = 9;

/**
 * `kill <id> [signal]`: refuses, as runc, a container that is not created,
 * running or paused — except with --all: a stopped container's cgroup may
 * still hold processes its init left behind (containerd's shim kills them
 * after the init exits), and once that cgroup is gone there is nothing to do.
 */
export function killContainer(root: string, id: string, signal: string | undefined, all: boolean): void {
  const sig = parseSignal(signal);
  const c = ContainerFiles.find(root, id);
  const saved = c.read();
  const status = statusOf(c, saved);
  if (saved && all && status === 'stopped') {
    if (!saved.cgroup || !new CgroupHandle(saved.cgroup).exists()) return;
  } else if (!saved || (status !== 'created' && status !== 'running' && status !== 'paused')) {
    throw new ContainerStateError('container not running');
  }
  signalContainer(saved, sig, all);
}

export function signalContainer(saved: Saved, signal: number, all: boolean): void {
  debug(
    all
      ? `kill: signal ${signal} to every process of container ${saved.id}`
      : `kill: signal ${signal} to the container init`,
    all ? {} : { pid: saved.pid },
  );
  if (all) {
    if (!saved.cgroup)
      throw new InvalidInputError(`kill --all: container ${saved.id} has no cgroup recorded to find its processes by`);
    // Frozen while signalled, so nothing forks its way out.
    new CgroupHandle(saved.cgroup).signalAll(signal);
    return;
  }
  try {
    process.kill(saved.pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/**
 * SIGKILL to every process in the container's cgroup (the init alone if none
 * was recorded, or if the cgroup is one the caller made), and wait until the
 * init is gone: the container is stopped.
 */
export function stopContainer(saved: Saved): void {
  const own = saved.cgroup ? new CgroupHandle(saved.cgroup).isOwn() : false;
  if (saved.cgroup && !own)
    debug(`kill: the cgroup of container ${saved.id} is the caller's: SIGKILL to its init only`);
  signalContainer(saved, SIGKILL, own);
  if (!waitGone(saved.pid, saved.pidStart, 10000)) {
    throw new InvalidInputError(`container ${saved.id}: init ${saved.pid} did not exit after SIGKILL`);
  }
}
