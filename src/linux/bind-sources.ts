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
//
// The id-mapped mounts of any container are made here too, for the same
// reasons and in the same namespace (idmap-mounts.ts): their descriptor is a
// detached, id-mapped copy of the source instead of an O_PATH one.
import type { Spec } from '../spec/types';
import { InvalidInputError } from '../errors';
import { CLONE, setns, unshare } from '../sys/ns';
import { O, open, fchdir, closeQuiet } from '../sys/fs';
import { chroot } from '../sys/mount';
import { SysError } from '../sys/libc';
import { resolveMount } from './mounts';
import { isIdmapped, makeIdmappedMount, openMappingNamespaces } from './idmap-mounts';

/**
 * One pre-opened source: `fd` is an O_PATH descriptor on config.mounts[index]'s source, or its detached id-mapped
 * copy.
 */
export interface BindSource {
  index: number;
  fd: number;
}

/** Indexes of the config's mounts the caller prepares: every id-mapped one, and each bind for a user namespace. */
export function bindSourcesToOpen(config: Spec, bundle: string): number[] {
  const types = new Set((config.linux?.namespaces ?? []).map((n) => n.type));
  // Not root: the init reaches what we reach, and we may not enter its mount namespace (runc skips it too).
  const forUserns = types.has('user') && types.has('mount') && process.geteuid?.() === 0;
  const indexes: number[] = [];
  (config.mounts ?? []).forEach((m, i) => {
    const rm = resolveMount(m, bundle);
    if (isIdmapped(rm) || (forUserns && rm.type === 'bind')) indexes.push(i);
  });
  return indexes;
}

/**
 * The sources the container init needs opened for it, opened in its mount
 * namespace: the one it joins (`mountJoinFd`), else the one it made (our own
 * when it has none).
 */
export function openInitBindSources(config: Spec, bundle: string, initPid: number, mountJoinFd?: number): BindSource[] {
  const indexes = bindSourcesToOpen(config, bundle);
  if (indexes.length === 0) return [];
  const mounts = config.mounts ?? [];
  const mapped = openMappingNamespaces(
    mounts,
    indexes.filter((i) => isIdmapped(resolveMount(mounts[i], bundle))),
    initPid,
  );
  const nsFd = mountJoinFd ?? open(`/proc/${initPid}/ns/mnt`, O.RDONLY);
  try {
    return openBindSources(config, bundle, indexes, nsFd, mapped.byIndex);
  } finally {
    if (nsFd !== mountJoinFd) closeQuiet(nsFd);
    mapped.close();
  }
}

/**
 * Opens the sources of the given mounts O_PATH in the mount namespace
 * `mntNsFd`, with this process's privileges; those with a mapping user
 * namespace in `userns` as detached id-mapped copies. A source that cannot
 * be opened fails here, naming the mount; nothing stays open then.
 */
export function openBindSources(
  config: Spec,
  bundle: string,
  indexes: number[],
  mntNsFd: number,
  userns: ReadonlyMap<number, number> = new Map(),
): BindSource[] {
  if (indexes.length === 0) return [];
  const opened: BindSource[] = [];
  // Not root (id-mapped mounts only, which then fail, named): we may not enter it.
  const inNamespace = process.geteuid?.() === 0 ? inMountNamespace : <T>(_: number, fn: () => T) => fn();
  try {
    inNamespace(mntNsFd, () => {
      for (const index of indexes) {
        const rm = resolveMount(config.mounts![index], bundle);
        const usernsFd = userns.get(index);
        if (usernsFd !== undefined) {
          opened.push({ index, fd: makeIdmappedMount(rm, index, usernsFd) });
          continue;
        }
        try {
          opened.push({ index, fd: open(rm.source, O.PATH) });
        } catch (err) {
          if (!(err instanceof SysError)) throw err;
          throw new InvalidInputError(
            `config.json: /mounts/${index}: mount ${rm.source} → ${rm.destination}: bind source: ${err.code}`,
          );
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
