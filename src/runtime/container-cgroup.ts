// The commands that act on a container's cgroup (pause, resume, ps, update,
// events) all start the same way: find the container, its status and its
// cgroup manager.
import { InvalidInputError, NoSuchContainerError } from '../errors';
import { ContainerDir, statusOf, type Saved, type Status } from '../state/store';
import { loadCgroup, type CgroupManager } from '../cgroups';

export interface ContainerCgroup {
  container: ContainerDir;
  saved: Saved;
  status: Status;
  cgroup: CgroupManager;
}

/** Opens (and locks) a container that has a cgroup; errors as runc words them. */
export function openContainerCgroup(root: string, id: string): ContainerCgroup {
  const container = ContainerDir.open(root, id);
  const saved = container.read();
  if (!saved) throw new NoSuchContainerError(id);
  if (!saved.cgroup) throw new InvalidInputError(`container ${id} has no cgroup (it was created without one)`);
  return { container, saved, status: statusOf(container, saved), cgroup: loadCgroup(saved.cgroup) };
}
