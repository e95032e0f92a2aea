// After pivot_root: linux.maskedPaths (hidden behind /dev/null or an empty
// read-only tmpfs) and linux.readonlyPaths (bind-mounted read-only onto
// themselves), resolved inside the new root.
import { fstatSync } from 'node:fs';
import { MS, AT_RECURSIVE, MOUNT_ATTR, mount, mountFlagsOf, mountSetattr } from '../sys/mount';
import { AT_EMPTY_PATH, closeQuiet } from '../sys/fs';
import { isErrno } from '../sys/libc';
import { openInRoot, openInRootIfExists, procFdPath } from './in-root';
import { makedev } from './devices';

const KEEP_ON_REMOUNT = MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME;

export function maskPaths(rootFd: number, paths: readonly string[]): void {
  if (paths.length === 0) return;
  const devNull = openDevNull(rootFd);
  try {
    for (const path of paths) maskPath(rootFd, path, procFdPath(devNull));
  } finally {
    closeQuiet(devNull);
  }
}

/** The container's /dev/null, checked to be the real 1:3 node before it is bound over anything. */
function openDevNull(rootFd: number): number {
  const fd = openInRoot(rootFd, '/dev/null');
  const st = fstatSync(fd, { bigint: true });
  if (!st.isCharacterDevice() || st.rdev !== makedev(1, 3)) {
    closeQuiet(fd);
    throw new Error('maskedPaths: /dev/null in the container is not the null device');
  }
  return fd;
}

function maskPath(rootFd: number, path: string, devNull: string): void {
  const fd = openInRootIfExists(rootFd, path);
  if (fd === undefined) return;
  try {
    if (fstatSync(fd).isDirectory()) mount('tmpfs', procFdPath(fd), 'tmpfs', MS.RDONLY, null, { target: path });
    else mount(devNull, procFdPath(fd), null, MS.BIND, null, { source: '/dev/null', target: path });
  } finally {
    closeQuiet(fd);
  }
}

export function readonlyPaths(rootFd: number, paths: readonly string[]): void {
  for (const path of paths) readonlyPath(rootFd, path);
}

function readonlyPath(rootFd: number, path: string): void {
  const fd = openInRootIfExists(rootFd, path);
  if (fd === undefined) return;
  try {
    const self = procFdPath(fd);
    mount(self, self, null, MS.BIND | MS.REC, null, { source: path, target: path });
  } finally {
    closeQuiet(fd);
  }
  remountReadonly(rootFd, path, true);
}

/**
 * Makes the mount at `path` read-only, keeping its other flags (dropping a
 * locked nosuid/nodev/noexec would fail in a user namespace); with
 * `recursive`, its submounts too.
 */
export function remountReadonly(rootFd: number, path: string, recursive: boolean): void {
  const fd = openInRoot(rootFd, path);
  try {
    const keep = mountFlagsOf(fd, path) & KEEP_ON_REMOUNT;
    mount(null, procFdPath(fd), null, keep | MS.BIND | MS.REMOUNT | MS.RDONLY, null, { source: path, target: path });
  } finally {
    closeQuiet(fd);
  }
  if (!recursive) return;
  // The remount only changes the top mount; submounts get the attribute too.
  const top = openInRoot(rootFd, path);
  try {
    mountSetattr(top, '', AT_EMPTY_PATH | AT_RECURSIVE, { attrSet: MOUNT_ATTR.RDONLY, attrClr: 0 }, path);
  } catch (err) {
    if (!isErrno(err, 'ENOSYS')) throw err;
  } finally {
    closeQuiet(top);
  }
}
