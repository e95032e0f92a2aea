// Device nodes and /dev links inside the rootfs: linux.devices plus runc's
// default set, created with mknod — or, where mknod is not allowed (a user
// namespace), bind-mounted from the host's node onto an empty file.
import { existsSync, lchownSync, lstatSync, symlinkSync, unlinkSync } from 'node:fs';
import { posix } from 'node:path';
import type { LinuxDevice, Spec } from '../spec/types';
import { MS, mount } from '../sys/mount';
import { mknodat, closeQuiet } from '../sys/fs';
import { isErrno } from '../sys/libc';
import { cleanPath, ensureInRoot, mkdirAllInRoot, procFdPath } from './in-root';

const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

/** The nodes runc always provides unless linux.devices names the same path. */
export const defaultDevices: readonly LinuxDevice[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
];

/** glibc's makedev(). */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

/** runc skips /dev setup when the config bind-mounts something over /dev. */
export function needsDevSetup(config: Spec): boolean {
  return !(config.mounts ?? []).some(
    (m) =>
      cleanPath(m.destination) === '/dev' &&
      (m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind')),
  );
}

/** linux.devices plus the defaults they do not override. */
export function devicesFor(config: Spec): LinuxDevice[] {
  const configured = config.linux?.devices ?? [];
  const paths = new Set(configured.map((d) => cleanPath(d.path)));
  return [...configured, ...defaultDevices.filter((d) => !paths.has(d.path))];
}

export function createDevices(rootFd: number, devices: readonly LinuxDevice[], userns: boolean): void {
  const oldMask = process.umask(0);
  try {
    for (const dev of devices) createDevice(rootFd, dev, userns);
  } finally {
    process.umask(oldMask);
  }
}

function typeBits(type: LinuxDevice['type']): number {
  switch (type) {
    case 'b':
      return S_IFBLK;
    case 'p':
      return S_IFIFO;
    default:
      return S_IFCHR; // 'c' and 'u' (unbuffered character device)
  }
}

function createDevice(rootFd: number, dev: LinuxDevice, userns: boolean): void {
  const path = cleanPath(dev.path);
  if (userns) return bindDevice(rootFd, dev, path);
  const parent = mkdirAllInRoot(rootFd, posix.dirname(path));
  try {
    const mode = ((dev.fileMode ?? 0o666) & 0o7777) | typeBits(dev.type);
    const rdev = dev.type === 'p' ? 0n : makedev(dev.major ?? 0, dev.minor ?? 0);
    try {
      mknodat(parent, posix.basename(path), mode, rdev, path);
    } catch (err) {
      // An existing matching node is left alone; anything else there is an
      // error (config-linux.md: "MUST generate an error"). EPERM means we may not mknod.
      if (isErrno(err, 'EEXIST'))
        return checkExisting(`${procFdPath(parent)}/${posix.basename(path)}`, dev, mode, rdev);
      if (isErrno(err, 'EPERM')) return bindDevice(rootFd, dev, path);
      throw err;
    }
    lchownSync(`${procFdPath(parent)}/${posix.basename(path)}`, dev.uid ?? 0, dev.gid ?? 0);
  } finally {
    closeQuiet(parent);
  }
}

function checkExisting(hostPath: string, dev: LinuxDevice, mode: number, rdev: bigint): void {
  const st = lstatSync(hostPath, { bigint: true });
  const typeMatches = (Number(st.mode) & S_IFMT) === (mode & S_IFMT);
  if (!typeMatches || (dev.type !== 'p' && st.rdev !== rdev)) {
    throw new Error(
      `linux.devices: ${dev.path} already exists in the rootfs ` +
        `and is not the requested ${dev.type} device ${dev.major ?? 0}:${dev.minor ?? 0}`,
    );
  }
}

function bindDevice(rootFd: number, dev: LinuxDevice, path: string): void {
  const fd = ensureInRoot(rootFd, path, false);
  try {
    mount(dev.path, procFdPath(fd), 'bind', MS.BIND, null, { target: path });
  } finally {
    closeQuiet(fd);
  }
}

/** /dev/fd, /dev/stdin|stdout|stderr and, when the host has it, /dev/core. */
export function setupDevSymlinks(rootFd: number): void {
  const links: [string, string][] = [
    ['/proc/self/fd', 'fd'],
    ['/proc/self/fd/0', 'stdin'],
    ['/proc/self/fd/1', 'stdout'],
    ['/proc/self/fd/2', 'stderr'],
  ];
  if (existsSync('/proc/kcore')) links.push(['/proc/kcore', 'core']);
  const dev = mkdirAllInRoot(rootFd, '/dev');
  try {
    const dir = procFdPath(dev);
    for (const [target, name] of links) {
      try {
        symlinkSync(target, `${dir}/${name}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new Error(`symlink(${target} → /dev/${name}): ${(err as NodeJS.ErrnoException).code}`, { cause: err });
      }
    }
  } finally {
    closeQuiet(dev);
  }
}

/** /dev/ptmx → pts/ptmx, so the container's devpts instance serves ptys. */
export function setupPtmx(rootFd: number): void {
  const dev = mkdirAllInRoot(rootFd, '/dev');
  try {
    const ptmx = `${procFdPath(dev)}/ptmx`;
    try {
      unlinkSync(ptmx);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new Error(`unlink(/dev/ptmx): ${(err as NodeJS.ErrnoException).code}`, { cause: err });
    }
    symlinkSync('pts/ptmx', ptmx);
  } finally {
    closeQuiet(dev);
  }
}
