// Id-mapped bind mounts (mounts[].uidMappings/gidMappings with the idmap or
// ridmap option), made by `tsrun create` and attached by the init.
//
// The parent makes them because only it can: mount_setattr(MOUNT_ATTR_IDMAP)
// wants CAP_SYS_ADMIN over the user namespace of the filesystem (the host's,
// for a host volume) and over the one holding the mapping, and a namespace
// with an arbitrary mapping needs a process to be made in (the runtime is
// multithreaded: it cannot unshare one itself). So, as host root:
//
//   1. the mapping's user namespace: the container's own for a plain `idmap`,
//      else a native child cloned into an empty user namespace, its maps
//      written, /proc/PID/ns/user opened, the child killed;
//   2. in the container's mount namespace (bind-sources.ts), a detached copy
//      of the source: open_tree(OPEN_TREE_CLONE [, AT_RECURSIVE for rbind]);
//      copied from the container's copy of the host's mounts, it keeps the
//      flags and submounts the kernel locked there;
//   3. mount_setattr on that copy: the mapping (every mount of the tree for
//      ridmap) and slave propagation (as a bind made after the init's rslave).
//
// The init receives the copy over the sync socket and move_mounts it onto
// its target in the rootfs (mounts.ts), then applies the mount's flags and
// propagation as for any bind. Nothing of this is visible before then, and
// closing the descriptor is all a failed create has to undo.
import type { LinuxIDMapping, Mount } from '../spec/types';
import { InvalidInputError } from '../errors';
import { AT_RECURSIVE, MOUNT_ATTR, MS, OPEN_TREE_CLOEXEC, OPEN_TREE_CLONE, mountSetattr, openTree } from '../sys/mount';
import { AT_EMPTY_PATH, AT_FDCWD, FS_MAGIC, O, closeQuiet, fsType, open } from '../sys/fs';
import { SysError } from '../sys/libc';
import { spawnUsernsHolder } from '../sys/native';
import { waitpid } from '../sys/wait';
import { mapText, writeProc } from './id-maps';
import type { ResolvedMount } from './mount-context';

/** The mount asks for an id mapping (idmap or ridmap among its options). */
export function isIdmapped(rm: ResolvedMount): boolean {
  return rm.opts.idmap !== '';
}

/** User namespace descriptors for the id-mapped mounts, by config.mounts position. */
export interface MappingNamespaces {
  byIndex: Map<number, number>;
  close(): void;
}

/**
 * The user namespace of each id-mapped mount: its own mapping's (one
 * namespace per distinct mapping), or the container's (`/proc/initPid/ns/user`)
 * when it has none (config validation made sure the container has one then).
 */
export function openMappingNamespaces(mounts: readonly Mount[], indexes: number[], initPid: number): MappingNamespaces {
  const byMapping = new Map<string, number>();
  const byIndex = new Map<number, number>();
  const close = () => byMapping.forEach((fd) => closeQuiet(fd));
  try {
    for (const index of indexes) {
      const m = mounts[index];
      const key = m.uidMappings ? `${mapText(m.uidMappings)}|${mapText(m.gidMappings ?? [])}` : 'container';
      let fd = byMapping.get(key);
      if (fd === undefined) {
        fd = m.uidMappings
          ? mappedUserns(m.uidMappings, m.gidMappings ?? [], `/mounts/${index}`)
          : containerUserns(initPid, index);
        byMapping.set(key, fd);
      }
      byIndex.set(index, fd);
    }
  } catch (err) {
    close();
    throw err;
  }
  return { byIndex, close };
}

function containerUserns(initPid: number, index: number): number {
  try {
    return open(`/proc/${initPid}/ns/user`, O.RDONLY);
  } catch (err) {
    throw new InvalidInputError(
      `config.json: /mounts/${index}: the container's user namespace for idmap: ${(err as Error).message}`,
    );
  }
}

/** A user namespace holding exactly this mapping, kept by the returned fd alone. */
function mappedUserns(uid: LinuxIDMapping[], gid: LinuxIDMapping[], where: string): number {
  const pid = spawnUsernsHolder();
  try {
    writeMap(pid, 'uid_map', uid, `${where}/uidMappings`);
    writeMap(pid, 'gid_map', gid, `${where}/gidMappings`);
    return open(`/proc/${pid}/ns/user`, O.RDONLY);
  } finally {
    process.kill(pid, 'SIGKILL');
    try {
      waitpid(pid);
    } catch {
      // reaped elsewhere: it is gone either way
    }
  }
}

function writeMap(pid: number, file: string, maps: LinuxIDMapping[], where: string): void {
  writeProc(pid, file, mapText(maps), `config.json: ${where}: the kernel refuses this mapping`);
}

/**
 * The detached, id-mapped copy of the mount's source (run in the container's
 * mount namespace). A filesystem that cannot be id-mapped fails here, named.
 */
export function makeIdmappedMount(rm: ResolvedMount, index: number, usernsFd: number): number {
  const where = `config.json: /mounts/${index}: id-mapped mount ${rm.source} → ${rm.destination}`;
  const recursiveTree = (rm.opts.flags & MS.REC) !== 0;
  let fd: number;
  try {
    fd = openTree(
      AT_FDCWD,
      rm.source,
      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursiveTree ? AT_RECURSIVE : 0),
      rm.source,
    );
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    throw new InvalidInputError(`${where}: bind source: ${err.message}`);
  }
  try {
    // Slave, as a bind made after the init's rslave of / would be: host mounts
    // reach the container, nothing it mounts there reaches the host.
    mountSetattr(fd, '', AT_EMPTY_PATH | AT_RECURSIVE, { attrSet: 0, attrClr: 0, propagation: MS.SLAVE }, 'MS_SLAVE');
  } catch (err) {
    closeQuiet(fd);
    if (!(err instanceof SysError)) throw err;
    throw new InvalidInputError(`${where}: ${err.message}`);
  }
  try {
    const mapFlags = AT_EMPTY_PATH | (rm.opts.idmap === 'ridmap' ? AT_RECURSIVE : 0);
    mountSetattr(fd, '', mapFlags, { attrSet: MOUNT_ATTR.IDMAP, attrClr: 0, usernsFd }, 'MOUNT_ATTR_IDMAP');
  } catch (err) {
    closeQuiet(fd);
    if (!(err instanceof SysError)) throw err;
    throw new InvalidInputError(`${where}: ${err.message}${idmapRefusal(err, rm.source)}`);
  }
  return fd;
}

const FS_NAMES = new Map<number, string>(Object.entries(FS_MAGIC).map(([name, magic]) => [magic, name.toLowerCase()]));

/** Why the kernel said no, in words (EINVAL is what a filesystem without id-mapping support gets). */
function idmapRefusal(err: SysError, source: string): string {
  if (err.code === 'EPERM')
    return " (id-mapped mounts need host root, and a mapping other than the host's own user namespace)";
  if (err.code !== 'EINVAL') return '';
  let type = 'this filesystem';
  try {
    const probe = open(source, O.PATH);
    try {
      const magic = fsType(probe, source);
      type = `the filesystem of ${source} (${FS_NAMES.get(magic) ?? `magic 0x${magic.toString(16)}`})`;
    } finally {
      closeQuiet(probe);
    }
  } catch {
    // keep the generic words
  }
  return `: ${type} cannot be id-mapped, or the source is already an id-mapped mount`;
}
