// `update`: new resource limits for a live container, in runc's terms —
// a zero or empty value means "leave as it is" (a pids limit of 0 excepted:
// runtime-spec 1.3), a rejected update leaves the previous values in place,
// and state.json keeps what was applied. The CLI's flags become a
// LinuxResources in src/cli/update-flags.ts.
import { InvalidInputError, ContainerStateError } from '../errors';
import { warn } from '../log';
import type { LinuxResources } from '../spec/types';
import { CgroupError, loadCgroup } from '../cgroups';
import { openContainerCgroup } from './container-cgroup';
import { loadSystemdDriverFor } from '../cgroups/systemd-link';

const isUnchanged = (v: unknown) => v === undefined || v === null || v === 0 || v === '';

/**
 * Drops runc's "unchanged" values (0, "", except a pids limit), kernel memory (ignored, as runc does) and
 * devices (runc's update cannot change them).
 */
export function normalizeUpdate(input: LinuxResources, previous: LinuxResources | undefined): LinuxResources {
  const r = JSON.parse(JSON.stringify(input ?? {})) as LinuxResources;
  if (typeof r !== 'object' || Array.isArray(r))
    throw new InvalidInputError('update: the resources must be a JSON object');
  if (r.devices !== undefined) {
    warn('update: linux.resources.devices cannot be changed on a live container; ignored');
    delete r.devices;
  }
  const m = r.memory;
  if (m) {
    if (!isUnchanged(m.kernel) || !isUnchanged(m.kernelTCP))
      warn('Kernel memory settings are ignored and will be removed');
    delete m.kernel;
    delete m.kernelTCP;
    for (const k of ['limit', 'reservation', 'swap'] as const) if (isUnchanged(m[k])) delete m[k];
    // A new memory+swap limit is checked against the limit in force.
    if (m.swap !== undefined && m.limit === undefined && previous?.memory?.limit) m.limit = previous.memory.limit;
    if (Object.keys(m).length === 0) delete r.memory;
  }
  const c = r.cpu;
  if (c) {
    for (const k of ['shares', 'quota', 'period', 'realtimeRuntime', 'realtimePeriod', 'cpus', 'mems'] as const)
      if (isUnchanged(c[k])) delete c[k];
    // runc: quota or period alone keeps the other at its previous value (cgroup v2 writes both at once).
    if (c.quota !== undefined && c.period === undefined && previous?.cpu?.period) c.period = previous.cpu.period;
    if (c.period !== undefined && c.quota === undefined && previous?.cpu?.quota) c.quota = previous.cpu.quota;
    // Leaving idle resets the kernel's weight to its default: the shares in force are written again.
    if (c.idle === 0 && c.shares === undefined && previous?.cpu?.shares) c.shares = previous.cpu.shares;
    if (Object.keys(c).length === 0) delete r.cpu;
  }
  if (r.blockIO && isUnchanged(r.blockIO.weight)) delete r.blockIO.weight;
  if (r.blockIO && Object.keys(r.blockIO).length === 0) delete r.blockIO;
  // runtime-spec 1.3 and runc 1.4: a pids limit of 0 is a limit; only an absent one leaves pids.max alone.
  if (r.pids && (r.pids.limit === undefined || r.pids.limit === null)) delete r.pids;
  return r;
}

/** Applies the update and records it in state.json; the container stays locked throughout. */
export async function updateContainer(root: string, id: string, resources: LinuxResources): Promise<void> {
  const { container, saved, status, cgroup } = openContainerCgroup(root, id, loadCgroup);
  try {
    await loadSystemdDriverFor(saved);
    if (status === 'stopped') throw new ContainerStateError('container not running');
    const update = normalizeUpdate(resources, cgroup.saved.resources);
    try {
      cgroup.set(update);
    } catch (e) {
      if (e instanceof CgroupError) throw new InvalidInputError(e.message);
      throw e;
    }
    saved.cgroup = cgroup.saved;
    container.write(saved);
  } finally {
    // A long-lived caller (the library) would otherwise hold the lock until it exits.
    container.unlock();
  }
}
