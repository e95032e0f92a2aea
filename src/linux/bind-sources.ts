// Bind-mount sources of a container with a user namespace, opened by the
// caller (host root) before the init mounts them. The init is root only in
// its user namespace: a source below a directory only the host's root may
// search (0700 root) is out of its reach. runc 1.1 opens such sources in the
// parent and mounts them from /proc/self/fd/N; so does tsrun.
//
// They are opened inside the container's mount namespace, not ours: mount(2)
// binds only from a mount of the caller's own namespace, and that copy of the
// host's mounts carries the flags the kernel locked there (ro, nosuid, nodev,
// and submounts that may not be unmounted). A detached open_tree() clone made
// here would carry no such locks: the container could remount it writable or
// unmount what covers a path.
import type { Spec } from '../spec/types';
import { InvalidInputError } from '../errors';
import { CLONE, setns, unshare } from '../sys/ns';
import { O, open, fchdir, closeQuiet } from '../sys/fs';
import { chroot } from '../sys/mount';
import { SysError } from '../sys/libc';
import { resolveMount } from './mounts';

/** One pre-opened source: `fd` is an O_PATH descriptor on config.mounts[index]'s source. */
export interface BindSource {
  index: number;
  fd: number;
}

/** Indexes of the config's bind mounts whose sources the caller must open (user and mount namespace). */
export function bindSourcesToOpen(config: Spec, bundle: string): number[] {
  const types = new Set((config.linux?.namespaces ?? []).map((n) => n.type));
  if (!types.has('user') || !types.has('mount')) return [];
  // Not root: the init reaches what we reach, and we may not enter its mount namespace (runc skips it too).
  if (process.geteuid?.() !== 0) return [];
  const indexes: number[] = [];
  (config.mounts ?? []).forEach((m, i) => {
    if (resolveMount(m, bundle).type === 'bind') indexes.push(i);
  });
  return indexes;
}

/**
 * The sources the container init needs opened for it, opened in its mount
 * namespace: the one it joins (`mountJoinFd`), else the one it made.
 */
export function openInitBindSources(config: Spec, bundle: string, initPid: number, mountJoinFd?: number): BindSource[] {
  const indexes = bindSourcesToOpen(config, bundle);
  if (indexes.length === 0) return [];
  const nsFd = mountJoinFd ?? open(`/proc/${initPid}/ns/mnt`, O.RDONLY);
  try {
    return openBindSources(config, bundle, indexes, nsFd);
  } finally {
    if (nsFd !== mountJoinFd) closeQuiet(nsFd);
  }
}

/**
 * Opens the sources of the given mounts O_PATH in the mount namespace
 * `mntNsFd`, with this process's privileges. A source that cannot be opened
 * fails here, naming the mount; nothing stays open then.
 */
export function openBindSources(config: Spec, bundle: string, indexes: number[], mntNsFd: number): BindSource[] {
  if (indexes.length === 0) return [];
  const opened: BindSource[] = [];
  try {
    inMountNamespace(mntNsFd, () => {
      for (const index of indexes) {
        const rm = resolveMount(config.mounts![index], bundle);
        try {
          opened.push({ index, fd: open(rm.source, O.PATH) });
        } catch (err) {
          if (!(err instanceof SysError)) throw err;
          throw new InvalidInputError(`config.json: /mounts/${index}: mount ${rm.source} → ${rm.destination}: bind source: ${err.code}`);
        }
      }
    });
  } catch (err) {
    for (const s of opened) closeQuiet(s.fd);
    throw err;
  }
  return opened;
}

/**
 * Runs fn in another mount namespace on this (main) thread, then comes back
 * to ours with the same root and working directory. setns(CLONE_NEWNS) needs
 * a thread that does not share its fs_struct with the runtime's other threads.
 */
function inMountNamespace<T>(nsFd: number, fn: () => T): T {
  const home = open('/proc/thread-self/ns/mnt', O.RDONLY);
  const root = open('/', O.PATH | O.DIRECTORY);
  const cwd = open('.', O.PATH | O.DIRECTORY);
  try {
    unshare(CLONE.FS, 'fs');
    setns(nsFd, CLONE.NEWNS, "the container's mnt");
    try {
      return fn();
    } finally {
      setns(home, CLONE.NEWNS, 'our own mnt');
      fchdir(root, 'our root');
      chroot('.');
      fchdir(cwd, 'our working directory');
    }
  } finally {
    closeQuiet(home);
    closeQuiet(root);
    closeQuiet(cwd);
  }
}
