// Signals to a container: its init, or (--all) every process in its cgroup.
import { UserError } from '../cli/errors';
import type { Saved } from '../state/store';
import { loadCgroup, type SavedCgroup } from '../cgroups';

export function signalContainer(saved: Saved, signal: number, all: boolean): void {
  if (all) {
    if (!saved.cgroup) throw new UserError(`kill --all: container ${saved.id} has no cgroup recorded to find its processes by`);
    // Frozen while signalled, so nothing forks its way out.
    loadCgroup(saved.cgroup as SavedCgroup).signalAll(signal);
    return;
  }
  try {
    process.kill(saved.pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}
