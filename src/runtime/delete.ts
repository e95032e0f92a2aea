// `delete <id>` by name: find and lock the container, then destroy it.
import { NoSuchContainerError } from '../errors';
import { ContainerDir } from '../state/store';
import { destroyContainer } from './destroy';
import { loadSystemdDriverFor } from '../cgroups/systemd-link';
import { phase } from '../log/phase';

export async function deleteContainer(root: string, id: string, force: boolean): Promise<void> {
  let c: ContainerDir;
  try {
    c = ContainerDir.open(root, id);
    phase('delete.locked');
  } catch (e) {
    if (e instanceof NoSuchContainerError) ContainerDir.sweepClaims(root, id);
    // runc: deleting a missing container with --force is not an error.
    if (force && e instanceof NoSuchContainerError) return;
    throw e;
  }
  try {
    const saved = c.read();
    await loadSystemdDriverFor(saved);
    await destroyContainer(c, force, saved);
  } finally {
    // Removed with its directory on success; a refused delete must not keep the lock in a long-lived caller.
    c.unlock();
  }
}
