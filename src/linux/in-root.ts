// Path handling confined to a root directory. Every path inside the
// container is resolved with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
// from an fd on the root, so a symlink planted in the rootfs (`etc → /etc`,
// `x → ../../..`) resolves inside the rootfs, never on the host. Operations
// then act on the resolved object through its /proc/self/fd/N handle, which
// mount(2) follows to exactly that object (CVE-2021-30465).
import { readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { O, RESOLVE, openat, openat2, mkdirat, closeQuiet, fsType, FS_MAGIC, open } from '../sys/fs';
import { isErrno } from '../sys/libc';

const IN_ROOT = RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS;

/** The absolute, lexically clean form of a container path: `a/../../b` → `/b`. */
export function cleanPath(p: string): string {
  return posix.resolve('/', p);
}

/** An O_PATH|O_DIRECTORY fd on `dir` (a host path), for use as a root. */
export function openRootDir(dir: string): number {
  return open(dir, O.PATH | O.DIRECTORY);
}

/** Opens `path` (a container path) below the root fd; symlinks stay inside. */
export function openInRoot(rootFd: number, path: string, flags: number = O.PATH): number {
  const rel = cleanPath(path).slice(1) || '.';
  return openat2(rootFd, rel, flags, IN_ROOT, 0, path);
}

/** openInRoot, but undefined when the path does not exist. */
export function openInRootIfExists(rootFd: number, path: string, flags: number = O.PATH): number | undefined {
  try {
    return openInRoot(rootFd, path, flags);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

/** Creates every missing directory of `path` inside the root; returns an O_PATH fd on it. */
export function mkdirAllInRoot(rootFd: number, path: string, mode = 0o755, linkDepth = 0): number {
  const parts = cleanPath(path).split('/').filter(Boolean);
  let cur = openat(rootFd, '.', O.PATH | O.DIRECTORY, 0, '/');
  try {
    for (let i = 0; i < parts.length; i++) {
      const prefix = '/' + parts.slice(0, i + 1).join('/');
      let next = openInRootIfExists(rootFd, prefix, O.PATH | O.DIRECTORY);
      if (next === undefined) {
        try {
          mkdirat(cur, parts[i], mode, prefix);
        } catch (err) {
          if (!isErrno(err, 'EEXIST')) throw err;
          // A dangling symlink: create what it names, taken inside the root
          // (as runc's SecureJoin does); the reopen below then follows it.
          const target = linkDepth < 40 ? readLinkAt(cur, parts[i]) : undefined;
          if (target !== undefined) {
            const within = target.startsWith('/') ? target : posix.join(posix.dirname(prefix), target);
            closeQuiet(mkdirAllInRoot(rootFd, within, mode, linkDepth + 1));
          }
        }
        next = openInRoot(rootFd, prefix, O.PATH | O.DIRECTORY);
      }
      closeQuiet(cur);
      cur = next;
    }
    return cur;
  } catch (err) {
    closeQuiet(cur);
    throw err;
  }
}

/** The text of symlink `name` in directory `dirFd`, or undefined if it is not one. */
function readLinkAt(dirFd: number, name: string): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${dirFd}/${name}`);
  } catch {
    return undefined;
  }
}

/**
 * Makes sure `path` exists inside the root — a directory, or an empty file
 * when `isDir` is false — and returns an O_PATH fd on it.
 */
export function ensureInRoot(rootFd: number, path: string, isDir: boolean, mode?: number): number {
  if (isDir) return mkdirAllInRoot(rootFd, path, mode ?? 0o755);
  const existing = openInRootIfExists(rootFd, path);
  if (existing !== undefined) return existing;
  const clean = cleanPath(path);
  const parent = mkdirAllInRoot(rootFd, posix.dirname(clean));
  try {
    // O_EXCL|O_NOFOLLOW: a dangling symlink as the last component fails
    // instead of creating its target somewhere else.
    const fd = openat(parent, posix.basename(clean), O.CREAT | O.EXCL | O.NOFOLLOW | O.WRONLY, mode ?? 0o644, clean);
    closeQuiet(fd);
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
  } finally {
    closeQuiet(parent);
  }
  return openInRoot(rootFd, clean);
}

/**
 * "/proc/self/fd/N" for fd, after checking that /proc is really procfs —
 * otherwise a path under a fake /proc could point anywhere.
 */
export function procFdPath(fd: number): string {
  const dir = open('/proc/self/fd', O.PATH | O.DIRECTORY);
  try {
    if (fsType(dir, '/proc/self/fd') !== FS_MAGIC.PROC) {
      throw new Error('/proc/self/fd is not on procfs: refusing to use it as a handle');
    }
  } finally {
    closeQuiet(dir);
  }
  return `/proc/self/fd/${fd}`;
}

/** Runs fn with the /proc/self/fd path of `path` resolved inside the root. */
export function withPathInRoot<T>(rootFd: number, path: string, fn: (procPath: string, fd: number) => T): T {
  const fd = openInRoot(rootFd, path);
  try {
    return fn(procFdPath(fd), fd);
  } finally {
    closeQuiet(fd);
  }
}
