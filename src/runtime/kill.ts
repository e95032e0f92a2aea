// Signals to a container: its init, or (--all) every process in it.
import { readdirSync, readlinkSync } from 'node:fs';
import { UserError } from '../cli/errors';
import type { Saved } from '../state/store';
import { loadCgroup, type SavedCgroup } from '../cgroups';

function send(pid: number, signal: number): void {
  try {
    process.kill(pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** pids whose pid namespace is the container's (the init's own namespace). */
function pidsInNamespace(nsLink: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/ns/pid`) === nsLink) pids.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

export function signalContainer(saved: Saved, signal: number, all: boolean): void {
  if (!all) {
    send(saved.pid, signal);
    return;
  }
  if (saved.cgroup) {
    // Frozen while signalled, so nothing forks its way out.
    loadCgroup(saved.cgroup as SavedCgroup).signalAll(signal);
  } else if (saved.privatePidNs && saved.pidNs) {
    for (const pid of pidsInNamespace(saved.pidNs)) send(pid, signal);
  } else {
    throw new UserError('kill --all: the container has neither a cgroup nor a pid namespace of its own to find its processes by');
  }
}
