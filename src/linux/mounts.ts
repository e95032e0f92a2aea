// Mounts one entry of config.json's `mounts` inside the rootfs: creates the
// target, mounts through the target's /proc/self/fd handle, then applies the
// remount, propagation and recursive attributes the options ask for.
import { statSync, fstatSync, mkdtempSync, rmdirSync, chmodSync, readlinkSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import { tmpdir } from 'node:os';
import type { Mount } from '../spec/types';
import { MS, MNT_DETACH, AT_RECURSIVE, mount, umount2, mountSetattr, mountFlagsOf, moveMount } from '../sys/mount';
import { AT_EMPTY_PATH, FS_MAGIC, O, closeQuiet, fsType, open, openat } from '../sys/fs';
import { isErrno } from '../sys/libc';
import { parseMountOptions } from './mount-options';
import type { MountContext, ResolvedMount } from './mount-context';
import {
  cleanPath,
  ensureInRoot,
  mkdirAllInRoot,
  openInRoot,
  openInRootIfExists,
  procFdPath,
  withPathInRoot,
} from './in-root';
import { copyTree } from './copy-tree';
import { mountCgroupV1, isCgroup2Host } from './cgroup-mount';

// Entries emulated by lxcfs: the only mounts runc allows below /proc.
const allowedProcTargets = new Set([
  '/proc/cpuinfo',
  '/proc/diskstats',
  '/proc/meminfo',
  '/proc/stat',
  '/proc/swaps',
  '/proc/uptime',
  '/proc/loadavg',
  '/proc/slabinfo',
  '/proc/net/dev',
  '/proc/sys/kernel/ns_last_pid',
]);

const ATIME_BITS = MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME;
// Flags a less privileged mount namespace may not drop from a bind mount.
const LOCKABLE = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | ATIME_BITS;

export function resolveMount(m: Mount, bundle: string): ResolvedMount {
  const opts = parseMountOptions(m.options);
  let type = m.type ?? '';
  // A bind option makes any type meaningless (runc), and type "bind" implies it.
  if (type === 'bind') opts.flags |= MS.BIND;
  if (opts.flags & MS.BIND) type = 'bind';
  let source = m.source ?? '';
  if (type === 'bind' && !isAbsolute(source)) source = join(bundle, source);
  return { source, destination: cleanPath(m.destination), type, opts };
}

/** Mounts one config.json entry inside the rootfs; `sourceFd`: its bind source, opened by the caller. */
export function mountEntry(ctx: MountContext, m: Mount, sourceFd?: number): void {
  const rm = resolveMount(m, ctx.bundle);
  if (sourceFd !== undefined && rm.type === 'bind') rm.sourceFd = sourceFd;
  // Only the runtime's parent can make one (idmap-mounts.ts): never a plain bind instead.
  if (rm.opts.idmap && rm.sourceFd === undefined)
    throw new Error(`mount ${rm.source} → ${rm.destination}: the id-mapped mount was not prepared by tsrun create`);
  mountResolved(ctx, rm);
}

/** Where the bind source is reached: its pre-opened fd if there is one (no search permission needed), else its path. */
function bindSourcePath(rm: ResolvedMount): string {
  return rm.sourceFd === undefined ? rm.source : procFdPath(rm.sourceFd);
}

export function mountResolved(ctx: MountContext, rm: ResolvedMount): void {
  checkProcTarget(rm);
  if (rm.type === 'bind') return mountBind(ctx, rm);
  if (rm.type === 'cgroup' && !isCgroup2Host()) return mountCgroupV1(ctx, rm, mountResolved);
  if (rm.type === 'cgroup') rm.type = 'cgroup2';
  if (rm.type === 'proc' || rm.type === 'sysfs') requireOrdinaryDirectory(ctx, rm);
  try {
    mountFilesystem(ctx, rm);
  } catch (err) {
    const standIn = hostStandIn(ctx, rm, err);
    if (!standIn) throw err;
    mountResolved(ctx, standIn);
  }
}

/**
 * The host's filesystem, bound, where the kernel refuses a new one:
 * - a sysfs, in a user namespace that does not own the network namespace:
 *   the host's /sys, read-only;
 * - a cgroup2 without a cgroup namespace (EPERM in a user namespace, EBUSY
 *   elsewhere): the host's hierarchy, as runc 1.1 binds it (its options, ro
 *   included, stay). With a cgroup namespace runc binds only the container's
 *   own cgroup; tsrun keeps the kernel's error there.
 */
function hostStandIn(ctx: MountContext, rm: ResolvedMount, err: unknown): ResolvedMount | undefined {
  if (rm.type === 'sysfs' && ctx.userns && isErrno(err, 'EPERM')) {
    const flags = rm.opts.flags | MS.BIND | MS.REC | MS.RDONLY;
    return { ...rm, source: '/sys', type: 'bind', opts: { ...rm.opts, flags, data: '' } };
  }
  if (rm.type === 'cgroup2' && !ctx.cgroupns && (isErrno(err, 'EPERM') || isErrno(err, 'EBUSY'))) {
    return {
      ...rm,
      source: '/sys/fs/cgroup',
      type: 'bind',
      opts: { ...rm.opts, flags: rm.opts.flags | MS.BIND, data: '' },
    };
  }
  return undefined;
}

/**
 * proc and sysfs go on a real directory only: a symlink there, even one
 * resolving inside the rootfs, is refused (runc), as that has been an
 * attack vector against the procfs checks.
 */
function requireOrdinaryDirectory(ctx: MountContext, rm: ResolvedMount): void {
  const parent = openInRootIfExists(ctx.rootFd, posix.dirname(rm.destination));
  if (parent === undefined) return;
  try {
    const fd = openat(parent, posix.basename(rm.destination), O.PATH | O.NOFOLLOW, 0, rm.destination);
    try {
      // fstat on an O_PATH|O_NOFOLLOW fd describes a symlink itself.
      const st = fstatSync(fd);
      if (!st.isDirectory()) {
        // runc's words first (its mask.bats and tools match them), then what is there.
        const what = st.isSymbolicLink() ? 'a symlink' : 'not a directory';
        throw new Error(
          `mount ${rm.source} → ${rm.destination}: filesystem "${rm.type}" must be mounted on ordinary directory` +
            ` (${rm.destination} is ${what})`,
        );
      }
    } finally {
      closeQuiet(fd);
    }
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  } finally {
    closeQuiet(parent);
  }
}

function checkProcTarget(rm: ResolvedMount): void {
  const dest = rm.destination;
  if (dest === '/proc') {
    if (rm.type === 'proc') return;
    if (rm.type === 'bind' && isProcfs(bindSourcePath(rm))) return;
    throw new Error(`mount ${rm.source} → /proc: only a procfs may be mounted on /proc`);
  }
  if (dest.startsWith('/proc/') && !allowedProcTargets.has(dest)) {
    throw new Error(`mount ${rm.source} → ${dest}: mounts inside /proc are not allowed`);
  }
}

/**
 * The same check on the target as resolved (runc 1.1 checks the resolved
 * path): a symlink in the image must not lead a mount into /proc, where it
 * could cover a file the runtime writes (CVE-2025-52881).
 */
function checkResolvedProcTarget(ctx: MountContext, rm: ResolvedMount, fd: number): void {
  if (rm.destination === '/proc' || allowedProcTargets.has(rm.destination)) return;
  const resolved = readlinkSync(procFdPath(fd));
  if (!resolved.startsWith(ctx.rootfs + '/')) return;
  const inRoot = resolved.slice(ctx.rootfs.length);
  if (inRoot === rm.destination) return;
  try {
    checkProcTarget({ ...rm, destination: inRoot });
  } catch (err) {
    throw new Error(`${(err as Error).message} (${rm.destination} resolves to ${inRoot})`, { cause: err });
  }
}

function isProcfs(path: string): boolean {
  try {
    const fd = open(path, O.PATH);
    try {
      return fsType(fd, path) === FS_MAGIC.PROC;
    } finally {
      closeQuiet(fd);
    }
  } catch {
    return false;
  }
}

function mountBind(ctx: MountContext, rm: ResolvedMount): void {
  const source = bindSourcePath(rm);
  let isDir: boolean;
  try {
    isDir = statSync(source).isDirectory();
  } catch (err) {
    throw new Error(
      `mount ${rm.source} → ${rm.destination}: bind source: ${(err as NodeJS.ErrnoException).code ?? err}`,
      { cause: err },
    );
  }
  const fd = ensureInRoot(ctx.rootFd, rm.destination, isDir);
  try {
    checkResolvedProcTarget(ctx, rm, fd);
    if (rm.opts.idmap) moveMount(rm.sourceFd!, fd, `${rm.source} → ${rm.destination}`);
    else
      mount(source, procFdPath(fd), 'bind', rm.opts.flags & (MS.BIND | MS.REC), null, {
        source: rm.source,
        target: rm.destination,
      });
  } finally {
    closeQuiet(fd);
  }
  // Bind mounts ignore every flag but MS_REC at first; the rest need a remount.
  if (rm.opts.flags & ~(MS.BIND | MS.REC | MS.REMOUNT)) remountBind(ctx, rm.destination, rm.opts.flags, rm.source);
  applyPropagation(ctx, rm);
  applyRecursiveAttrs(ctx, rm);
}

/** MS_BIND|MS_REMOUNT with flags; keeps flags the kernel locked (user namespace) when asked to drop them. */
export function remountBind(ctx: { rootFd: number }, dest: string, flags: number, shownSource = dest): void {
  withPathInRoot(ctx.rootFd, dest, (path, fd) => {
    const want = (flags | MS.BIND | MS.REMOUNT) & ~MS.REC;
    try {
      mount(null, path, null, want, null, { source: shownSource, target: dest });
    } catch (err) {
      if (!isErrno(err, 'EPERM')) throw err;
      const locked = mountFlagsOf(fd, dest) & LOCKABLE;
      const retry = (want & ~ATIME_BITS) | locked | (locked & ATIME_BITS ? 0 : want & ATIME_BITS);
      if (retry === want) throw err;
      mount(null, path, null, retry, null, { source: shownSource, target: dest });
    }
  });
}

function mountFilesystem(ctx: MountContext, rm: ResolvedMount): void {
  const dest = rm.destination;
  const existing = openInRootIfExists(ctx.rootFd, dest);
  let existingMode: number | undefined;
  if (existing !== undefined) {
    try {
      existingMode = fstatMode(existing);
    } finally {
      closeQuiet(existing);
    }
  }
  const fd = mkdirAllInRoot(ctx.rootFd, dest);
  try {
    checkResolvedProcTarget(ctx, rm, fd);
  } catch (err) {
    closeQuiet(fd);
    throw err;
  }
  // tmpfs and /dev are mounted writable and made read-only afterwards: their
  // content (copy-up, devices) is written first (runc does the same).
  const delayReadonly = rm.type === 'tmpfs' || dest === '/dev';
  const flags = delayReadonly ? rm.opts.flags & ~MS.RDONLY : rm.opts.flags;
  try {
    if (rm.opts.tmpcopyup) tmpfsCopyUp(rm, fd, flags);
    else mount(rm.source || rm.type, procFdPath(fd), rm.type, flags, rm.opts.data || null, { target: dest });
  } finally {
    closeQuiet(fd);
  }
  if (rm.type === 'tmpfs' && existingMode !== undefined && !/(^|,)mode=/.test(rm.opts.data)) {
    // A tmpfs over an existing directory keeps that directory's permissions.
    withPathInRoot(ctx.rootFd, dest, (path) => chmodSync(path, existingMode! & 0o7777));
  }
  if (rm.type === 'tmpfs' && dest !== '/dev' && rm.opts.flags & MS.RDONLY) {
    withPathInRoot(ctx.rootFd, dest, (path) => {
      mount(rm.source || rm.type, path, rm.type, rm.opts.flags | MS.REMOUNT, rm.opts.data || null, { target: dest });
    });
  }
  applyPropagation(ctx, rm);
  applyRecursiveAttrs(ctx, rm);
}

/** A fresh tmpfs holding a copy of what the destination held, moved over it. */
function tmpfsCopyUp(rm: ResolvedMount, destFd: number, flags: number): void {
  const staging = mkdtempSync(join(tmpdir(), 'tsrun-copyup-'));
  let mounted = false;
  try {
    mount(rm.source || 'tmpfs', staging, 'tmpfs', flags, rm.opts.data || null, { target: rm.destination });
    mounted = true;
    copyTree(procFdPath(destFd), staging);
    mount(staging, procFdPath(destFd), null, MS.MOVE, null, { target: rm.destination });
    mounted = false;
  } finally {
    if (mounted) umount2(staging, MNT_DETACH);
    rmdirSync(staging);
  }
}

function applyPropagation(ctx: MountContext, rm: ResolvedMount): void {
  if (rm.opts.propagation.length === 0) return;
  withPathInRoot(ctx.rootFd, rm.destination, (path) => {
    for (const flag of rm.opts.propagation)
      mount(null, path, null, flag, null, { source: 'none', target: rm.destination });
  });
}

function applyRecursiveAttrs(ctx: MountContext, rm: ResolvedMount): void {
  const { recAttrSet, recAttrClr } = rm.opts;
  if (recAttrSet === 0 && recAttrClr === 0) return;
  const fd = openInRoot(ctx.rootFd, rm.destination);
  try {
    mountSetattr(fd, '', AT_EMPTY_PATH | AT_RECURSIVE, { attrSet: recAttrSet, attrClr: recAttrClr }, rm.destination);
  } finally {
    closeQuiet(fd);
  }
}

function fstatMode(fd: number): number {
  // statSync through the magic link stats the object itself.
  return statSync(procFdPath(fd)).mode;
}
