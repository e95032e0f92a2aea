// The pids of a container's processes (`ps`), read from its cgroup.
import { openContainerCgroup } from './container-cgroup';

export function containerPids(root: string, id: string): number[] {
  const { status, cgroup, container } = openContainerCgroup(root, id);
  try {
    if (status === 'stopped' && !cgroup.exists()) return [];
    return cgroup.pids();
  } finally {
    container.unlock();
  }
}
