// The commands that act on a container's cgroup (pause, resume, ps, update,
// events) all start the same way: find the container, its status and its
// cgroup. pause, resume and ps only freeze, thaw or list it (CgroupHandle:
// no FFI); update and events need the full manager (loadCgroup).
import { InvalidInputError, NoSuchContainerError } from '../errors';
import { ContainerDir, statusOf, type Saved, type Status } from '../state/store';
import { CgroupHandle, type SavedCgroup } from '../cgroups/handle';

export interface ContainerCgroup<T> {
  container: ContainerDir;
  saved: Saved;
  status: Status;
  cgroup: T;
}

/**
 * Opens (and locks) a container that has a cgroup, with `load` making the
 * cgroup object the command needs; errors as runc words them.
 */
export function openContainerCgroup<T = CgroupHandle>(
  root: string,
  id: string,
  load: (saved: SavedCgroup) => T = (s) => new CgroupHandle(s) as T,
): ContainerCgroup<T> {
  const container = ContainerDir.open(root, id);
  try {
    const saved = container.read();
    if (!saved) throw new NoSuchContainerError(id);
    if (!saved.cgroup) throw new InvalidInputError(`container ${id} has no cgroup (it was created without one)`);
    return { container, saved, status: statusOf(container, saved), cgroup: load(saved.cgroup) };
  } catch (e) {
    container.unlock();
    throw e;
  }
}
