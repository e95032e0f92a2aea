// `delete`: stop what still runs (with --force), run poststop hooks, remove
// every trace of the container. No FFI unless the container made mounts in
// the caller's namespace (no mount namespace of its own): umount2 is loaded then.
import { ContainerStateError } from '../errors';
import { debug } from '../log';
import { phase } from '../log/phase';
import { ContainerDir, statusOf, ociState, type Saved } from '../state/store';
import { stopContainer } from './kill';
import { runHooks } from '../hooks/run';
import { CgroupHandle } from '../cgroups/handle';

/** Detach what a container without a mount namespace mounted in ours, deepest first. */
async function unmountAll(paths: string[]): Promise<void> {
  const { umount2, MNT_DETACH } = await import('../sys/mount');
  for (const p of [...paths].sort((a, b) => b.length - a.length)) {
    for (;;) {
      try {
        umount2(p, MNT_DETACH);
      } catch {
        break; // not (or no longer) a mount point
      }
    }
  }
}

/** `saved`: the caller's read of state.json, when it made one (the lock held since). */
export async function destroyContainer(
  c: ContainerDir,
  force: boolean,
  saved: Saved | undefined = c.read(),
): Promise<void> {
  const status = statusOf(c, saved);
  phase('delete.checked'); // state.json read, status from /proc
  if (saved && status !== 'stopped') {
    // runc deletes a container that was created but never started without --force.
    if (!force && status !== 'created' && status !== 'creating') {
      throw new ContainerStateError(`cannot delete container ${saved.id} that is not stopped: ${status}`);
    }
    // Everything in its cgroup; the init alone if create died before recording one.
    stopContainer(saved);
    phase('delete.stopped');
  }
  if (saved?.cgroup) new CgroupHandle(saved.cgroup).destroy(true);
  phase('delete.cgroup-removed');
  if (saved?.hostMounts) await unmountAll(saved.hostMounts);
  if (saved && saved.phase === 'created') {
    runHooks('poststop', saved.hooks?.poststop, ociState(saved, 'stopped'), { continueOnError: true });
  }
  debug(`removing ${c.dir}`);
  c.remove();
  phase('delete.removed');
}
