// Cgroup ownership (runtime-spec config-linux.md, "Cgroup ownership"): a
// container with a cgroup namespace of its own and /sys/fs/cgroup mounted
// read-write gets its v2 cgroup delegated to the host uid of process.user.uid
// (the directory and the files /sys/kernel/cgroup/delegate lists), so that
// its root can make sub-cgroups and move processes there. runc 1.2+ does this
// with its systemd driver (libcontainer/specconv sets Cgroups.OwnerUID).
import { chownSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { Spec } from '../spec/types';

/** The spec's list when the kernel has no /sys/kernel/cgroup/delegate (before 4.15). */
const DELEGATE_FALLBACK = ['cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads'];

/** The host uid that should own the container's cgroup, or undefined when the spec says not to change it. */
export function cgroupOwner(config: Spec): number | undefined {
  const namespaces = config.linux?.namespaces ?? [];
  if (!namespaces.some((ns) => ns.type === 'cgroup' && !ns.path)) return undefined;
  const rw = (config.mounts ?? []).some(
    (m) =>
      m.source === 'cgroup' &&
      posix.normalize(m.destination).replace(/(.)\/$/, '$1') === '/sys/fs/cgroup' &&
      !(m.options ?? []).includes('ro'),
  );
  if (!rw) return undefined;
  const uid = config.process?.user?.uid ?? 0;
  if (!namespaces.some((ns) => ns.type === 'user')) return uid;
  // An unmapped uid is refused elsewhere; here it only means nobody to delegate to.
  const m = (config.linux?.uidMappings ?? []).find((r) => uid >= r.containerID && uid < r.containerID + r.size);
  return m === undefined ? undefined : m.hostID + (uid - m.containerID);
}

/** The files of a cgroup directory that delegation hands over. */
function delegateFiles(): string[] {
  try {
    return readFileSync('/sys/kernel/cgroup/delegate', 'utf8').split('\n').filter(Boolean);
  } catch {
    return DELEGATE_FALLBACK;
  }
}

/** chown dir and its delegatable files to uid (group unchanged); a listed file this cgroup lacks is skipped. */
export function delegateCgroup(dir: string, uid: number): void {
  chownSync(dir, uid, -1);
  for (const file of delegateFiles()) {
    try {
      chownSync(join(dir, file), uid, -1);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
