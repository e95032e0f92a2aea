// Enabling cgroup v2 controllers for a container's cgroup: each must be in
// cgroup.subtree_control of every ancestor below the mount. As runc's fs2
// driver, all the hierarchy offers are asked for at once (so stats and later
// updates find their files), then one by one; a controller that still cannot
// be enabled only matters when a field of linux.resources needs it, and then
// the error names the fields, the controller and why.
import { dirname } from 'node:path';
import { debug } from '../log';
import { CgroupError, cgTryRead, cgWrite } from './files';

/** The ancestors of `dir` from the mount down to its parent. */
function ancestors(mount: string, dir: string): string[] {
  const chain: string[] = [];
  for (let d = dirname(dir); d.startsWith(mount); d = dirname(d)) {
    chain.unshift(d);
    if (d === mount) break;
  }
  return chain;
}

const words = (s: string | undefined) => (s ?? '').trim().split(/\s+/).filter(Boolean);

/** Why `controllers` could not be enabled in `d`, by controller (empty when all were). */
function enableIn(d: string, mount: string, controllers: string[]): Map<string, string> {
  const failed = new Map<string, string>();
  // Processes in a cgroup other than the root keep it from handing controllers down (no internal processes).
  const procs = d === mount ? [] : words(cgTryRead(d, 'cgroup.procs'));
  if (procs.length > 0) {
    const why =
      `${d} holds processes (${procs.slice(0, 5).join(' ')}), ` +
      'and cgroup v2 lets no process sit beside child cgroups that have controllers';
    for (const c of controllers) failed.set(c, why);
    return failed;
  }
  try {
    cgWrite(d, 'cgroup.subtree_control', controllers.map((c) => `+${c}`).join(' '));
    return failed;
  } catch {
    for (const c of controllers) {
      try {
        cgWrite(d, 'cgroup.subtree_control', `+${c}`);
      } catch (err) {
        failed.set(c, (err as Error).message);
      }
    }
  }
  return failed;
}

/**
 * Enables `wanted` for the cgroup `dir` below `mount`. `needed` maps each controller some field needs to
 * those fields' JSON paths; one of them that cannot be enabled fails, naming them.
 */
export function enableControllers(
  mount: string,
  dir: string,
  wanted: Set<string>,
  needed: Map<string, string[]>,
): void {
  const left = new Set(wanted);
  for (const d of ancestors(mount, dir)) {
    const enabled = words(cgTryRead(d, 'cgroup.subtree_control'));
    const missing = [...left].filter((c) => !enabled.includes(c));
    if (missing.length === 0) continue;
    for (const [c, why] of enableIn(d, mount, missing)) {
      const fields = needed.get(c);
      if (fields)
        throw new CgroupError(`${fields.join(', ')}: the ${c} controller cannot be enabled for ${dir}: ${why}`);
      debug(`cgroup: ${c} not enabled for ${dir} (no field needs it): ${why}`);
      left.delete(c); // a child cannot have what its parent lacks
    }
  }
}
