// The runtime's own /proc (runc 1.2.8 / 1.3.3's fix for CVE-2025-52881).
// A container can place mounts inside its /proc (by racing a shared mount,
// or from a hook) so that a path like /proc/self/attr/exec, oom_score_adj or
// /proc/sys/... leads to another procfs file, e.g. the host's core_pattern:
// checking that the file opened is on procfs cannot tell. So tsrun never
// walks the container's /proc: it takes a procfs handle before the
// container's mounts exist (a private procfs from fsopen; else a clone of
// /proc from open_tree; else /proc itself), checks that it is the root of a
// procfs, and opens every file beneath it with openat2 refusing to cross a
// mount or follow a magic link. What does not verify is refused.
import { fstatSync, readSync, writeSync } from 'node:fs';
import { AT_FDCWD, FS_MAGIC, O, RESOLVE, closeQuiet, fsType, open, openat2 } from '../sys/fs';
import { AT_RECURSIVE, MOUNT_ATTR, OPEN_TREE_CLOEXEC, OPEN_TREE_CLONE, fsmountNew, openTree } from '../sys/mount';
import { SysError, isErrno } from '../sys/libc';

/** Where a procfs handle can come from, most private first (runc's order). */
export const PROCFS_SOURCES = {
  fsopen: () => fsmountNew('proc', MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC),
  'open_tree(/proc)': () => openTree(AT_FDCWD, '/proc', OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC),
  'open_tree(/proc, AT_RECURSIVE)': () =>
    openTree(AT_FDCWD, '/proc', OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE),
  '/proc': () => open('/proc', O.PATH | O.DIRECTORY | O.NOFOLLOW),
} as const;
export type ProcfsSource = keyof typeof PROCFS_SOURCES;

// The root directory of every procfs has inode 1 (PROC_ROOT_INO).
const PROC_ROOT_INO = 1;
// Beneath the handle; "self" and "thread-self" are ordinary symlinks there, magic links (fd/N, exe) are not followed.
const RESOLVE_PROC = RESOLVE.BENEATH | RESOLVE.NO_XDEV | RESOLVE.NO_MAGICLINKS;

let handle: { fd: number; source: ProcfsSource } | undefined;
// Once released it is not taken again: by then the container's mounts exist.
let released = false;

/**
 * Takes the procfs handle every later /proc access goes through. Call it
 * before anything the container controls is mounted (the init before its
 * rootfs, exec's process before it enters the container's mount namespace).
 */
export function takeProcfsHandle(
  sources: readonly ProcfsSource[] = Object.keys(PROCFS_SOURCES) as ProcfsSource[],
): void {
  if (handle) return;
  if (released)
    throw new Error("the runtime's procfs handle was released: no /proc access after that (internal error)");
  const failures: string[] = [];
  for (const source of sources) {
    let fd: number;
    try {
      fd = PROCFS_SOURCES[source]();
    } catch (err) {
      failures.push((err as Error).message);
      continue;
    }
    const wrong = notProcRoot(fd);
    if (wrong === undefined) {
      handle = { fd, source };
      return;
    }
    closeQuiet(fd);
    failures.push(`${source}: ${wrong}`);
  }
  throw new Error(`no verified procfs handle: ${failures.join('; ')}`);
}

/**
 * Closes the handle for good: while the init waits for start, and when any
 * program runs, no runtime process holds a directory that is not the
 * container's (CVE-2024-21626).
 */
export function releaseProcfsHandle(): void {
  if (handle) closeQuiet(handle.fd);
  handle = undefined;
  released = true;
}

/** Which source the handle came from (tests, debug logs). */
export function procfsHandleSource(): ProcfsSource | undefined {
  return handle?.source;
}

function notProcRoot(fd: number): string | undefined {
  const type = fsType(fd, '/proc');
  if (type !== FS_MAGIC.PROC) return `not a procfs (filesystem type 0x${type.toString(16)})`;
  const ino = fstatSync(fd).ino;
  return ino === PROC_ROOT_INO ? undefined : `not the root of a procfs (inode ${ino})`;
}

/**
 * Opens `path` ("/proc/self/oom_score_adj", "/proc/sys/net/...") beneath the
 * verified handle. A mount over any part of it (EXDEV) or a magic link on
 * the way (ELOOP) is refused with the reason. `extraResolve`: more RESOLVE_*
 * flags (RESOLVE_NO_SYMLINKS where no symlink belongs, as under /proc/sys).
 */
export function openProcFile(path: string, flags: number, extraResolve = 0): number {
  if (!path.startsWith('/proc/')) throw new Error(`${path}: not a /proc path`);
  takeProcfsHandle();
  let fd: number;
  try {
    fd = openat2(handle!.fd, path.slice('/proc/'.length), flags | O.NOFOLLOW, RESOLVE_PROC | extraResolve, 0, path);
  } catch (err) {
    if (isErrno(err, 'EXDEV')) throw refusal(path, 'a mount covers it or a directory on its way', err);
    if (isErrno(err, 'ELOOP')) throw refusal(path, 'it leads through a magic link or a forbidden symlink', err);
    throw err;
  }
  const type = fsType(fd, path);
  if (type === FS_MAGIC.PROC) return fd;
  closeQuiet(fd);
  throw new Error(`${path}: not on procfs (filesystem type 0x${type.toString(16)}); refusing to use it`);
}

function refusal(path: string, why: string, cause: unknown): Error {
  return new Error(`${path}: ${why} (${(cause as Error).message}); refusing to use it`, { cause });
}

/** Writes `value` to a /proc file that sets something about this process or thread. */
export function writeProcFile(path: string, value: string): void {
  const fd = openProcFile(path, O.WRONLY);
  try {
    writeSync(fd, value);
  } catch (err) {
    const errno = -((err as NodeJS.ErrnoException).errno ?? -5);
    throw new SysError('write', `${path}, "${value}"`, errno);
  } finally {
    closeQuiet(fd);
  }
}

/** Reads a (small) /proc file through the handle. */
export function readProcFile(path: string): string {
  const fd = openProcFile(path, O.RDONLY);
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, null);
    return buf.toString('utf8', 0, n);
  } finally {
    closeQuiet(fd);
  }
}
