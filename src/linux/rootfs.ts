// The container's root filesystem, set up by the init inside its new mount
// namespace, in the order runc uses:
//
//   prepareRootfs   propagation of /, rootfs bound onto itself, every mount
//                   of config.json, devices, /dev links
//   (caller: createRuntime / createContainer hooks)
//   pivotRoot       pivot_root (or MS_MOVE + chroot), final rootfsPropagation
//                   (but unbindable: at the end of finishRootfs)
//   (caller: console setup — before finishRootfs when /dev is read-only)
//   finishRootfs    hostname, domainname, sysctl (before readonlyPaths,
//                   which usually covers /proc/sys), read-only /dev,
//                   read-only root, readonlyPaths, maskedPaths, unbindable
//
// setHostname and applySysctl are also exported on their own; once
// finishRootfs (or an earlier call) applied a config, calling them again
// for the same config object does nothing, so either order is safe.
import { realpathSync } from 'node:fs';
import type { Spec } from '../spec/types';
import { MS, MNT_DETACH, mount, umount2, pivotRoot as sysPivotRoot, chroot, mountFlagsOf } from '../sys/mount';
import { O, open, fchdir, closeQuiet } from '../sys/fs';
import { isErrno } from '../sys/libc';
import { propagationFlag, parseMountOptions } from './mount-options';
import { mountEntry } from './mounts';
import type { MountContext } from './mount-context';
import { readMountinfo } from './cgroup-mount';
import { cleanPath, openRootDir } from './in-root';
import { createDevices, devicesFor, needsDevSetup, setupDevSymlinks, setupPtmx } from './devices';
import { maskPaths, readonlyPaths, remountReadonly } from './protected-paths';

import { setHostname as applyHostname } from './hostname';
import { applySysctl as writeSysctls } from './sysctl';

export interface RootfsPlan {
  /** Absolute host path of the rootfs. */
  rootfs: string;
  bundle: string;
  config: Spec;
  /** --no-pivot: MS_MOVE the rootfs onto / and chroot instead of pivot_root. */
  noPivot: boolean;
  /** A new user namespace is in use (devices are bind-mounted, not mknod'ed). */
  userns: boolean;
  /** Bind sources the caller opened (user namespace), by position in config.mounts; the caller closes them. */
  bindSourceFds?: ReadonlyMap<number, number>;
  /**
   * The container has a mount namespace (new or joined). Without one, the
   * init works in the caller's mount namespace: nothing may change the
   * propagation or the root of that shared tree, so the root is only chroot'ed.
   */
  mountNs: boolean;
}

function rootPropagation(config: Spec): number | undefined {
  const name = config.linux?.rootfsPropagation;
  if (!name) return undefined;
  const flag = propagationFlag(name);
  if (flag === undefined)
    throw new Error(`config.json: /linux/rootfsPropagation: unknown value ${JSON.stringify(name)}`);
  return flag;
}

export function prepareRootfs(plan: RootfsPlan): void {
  const { config } = plan;
  const rootfs = realpathSync(plan.rootfs);
  // Nothing done below may propagate to the host: / becomes a slave unless
  // the config asks otherwise. Unbindable waits until after pivot_root: the
  // rootfs could not be bound onto itself out of an unbindable tree.
  if (plan.mountNs) {
    const prop = rootPropagation(config);
    const early = prop === undefined || prop & MS.UNBINDABLE ? MS.SLAVE | MS.REC : prop;
    mount(null, '/', null, early, null, { source: 'none' });
    makeParentMountPrivate(rootfs);
    // pivot_root needs the new root to be a mount point.
    mount(rootfs, rootfs, 'bind', MS.BIND | MS.REC);
  }

  const rootFd = openRootDir(rootfs);
  try {
    const ctx: MountContext = {
      rootFd,
      rootfs,
      bundle: plan.bundle,
      userns: plan.userns,
      cgroupns: (config.linux?.namespaces ?? []).some((ns) => ns.type === 'cgroup'),
    };
    (config.mounts ?? []).forEach((m, i) => mountEntry(ctx, m, plan.bindSourceFds?.get(i)));
    if (needsDevSetup(config)) {
      createDevices(rootFd, devicesFor(config), plan.userns);
      setupPtmx(rootFd);
      setupDevSymlinks(rootFd);
    }
  } finally {
    closeQuiet(rootFd);
  }
}

/**
 * The mount holding the rootfs must not be shared: the self-bind would
 * propagate to the host, and pivot_root refuses a shared parent.
 */
function makeParentMountPrivate(rootfs: string): void {
  let parent: { mountpoint: string; shared: boolean } | undefined;
  for (const e of readMountinfo()) {
    const mp = e.mountpoint;
    const contains = mp === '/' || rootfs === mp || rootfs.startsWith(mp + '/');
    if (contains && (!parent || mp.length >= parent.mountpoint.length)) {
      parent = { mountpoint: mp, shared: e.optional.some((o) => o.startsWith('shared:')) };
    }
  }
  if (parent?.shared) mount(null, parent.mountpoint, null, MS.PRIVATE, null, { source: 'none' });
}

export function pivotRoot(plan: RootfsPlan): void {
  const rootfs = realpathSync(plan.rootfs);
  if (!plan.mountNs) {
    // runc does the same: the caller's tree is not ours to pivot or move.
    chroot(rootfs);
    return chdirRoot();
  }
  if (plan.noPivot) moveRoot(rootfs);
  else pivot(rootfs);
  // Applied only now: on the old root it would have reached the host's /.
  // MS_PRIVATE was already made sure of by makeParentMountPrivate.
  const prop = rootPropagation(plan.config);
  if (prop !== undefined && !(prop & (MS.PRIVATE | MS.UNBINDABLE)))
    mount(null, '/', null, prop, null, { source: 'none' });
}

/** Unbindable comes last: readonlyPaths bind-mounts paths onto themselves, which an unbindable tree refuses. */
function applyUnbindable(plan: RootfsPlan): void {
  const prop = rootPropagation(plan.config);
  if (plan.mountNs && prop !== undefined && prop & MS.UNBINDABLE)
    mount(null, '/', null, prop, null, { source: 'none' });
}

function pivot(rootfs: string): void {
  const oldRoot = open('/', O.DIRECTORY | O.RDONLY);
  const newRoot = open(rootfs, O.DIRECTORY | O.RDONLY);
  try {
    fchdir(newRoot, rootfs);
    // pivot_root(".", "."): the old root ends up stacked on the new one, so
    // no directory for it is needed inside the rootfs.
    sysPivotRoot('.', '.', rootfs);
    fchdir(oldRoot, 'old root');
    // rslave first, so the detach below cannot propagate to the host.
    mount(null, '.', null, MS.SLAVE | MS.REC, null, { source: 'none', target: 'old root' });
    umount2('.', MNT_DETACH, 'old root');
  } finally {
    closeQuiet(oldRoot);
    closeQuiet(newRoot);
  }
  chdirRoot();
}

/**
 * --no-pivot: hide the host's full proc and sys mounts (the kernel's
 * "is procfs already fully visible" check looks at the whole namespace),
 * move the rootfs onto / and chroot into it.
 */
function moveRoot(rootfs: string): void {
  const dir = open(rootfs, O.DIRECTORY | O.RDONLY);
  try {
    fchdir(dir, rootfs);
  } finally {
    closeQuiet(dir);
  }
  const hostKernelFs = readMountinfo().filter(
    (e) =>
      e.root === '/' &&
      (e.fstype === 'proc' || e.fstype === 'sysfs') &&
      e.mountpoint !== rootfs &&
      !e.mountpoint.startsWith(rootfs + '/'),
  );
  // Deepest first, so a parent is not detached before its children.
  hostKernelFs.sort((a, b) => b.mountpoint.length - a.mountpoint.length);
  for (const e of hostKernelFs) {
    try {
      mount(null, e.mountpoint, null, MS.SLAVE | MS.REC, null, { source: 'none' });
    } catch (err) {
      if (isErrno(err, 'ENOENT')) continue;
      throw err;
    }
    try {
      umount2(e.mountpoint, MNT_DETACH);
    } catch (err) {
      if (!isErrno(err, 'EINVAL') && !isErrno(err, 'EPERM')) throw err;
      // Not allowed to unmount (user namespace): cover it instead.
      mount('tmpfs', e.mountpoint, 'tmpfs', 0);
    }
  }
  mount(rootfs, '/', null, MS.MOVE);
  chroot('.');
  chdirRoot();
}

function chdirRoot(): void {
  const root = open('/', O.DIRECTORY | O.RDONLY);
  try {
    fchdir(root, '/');
  } finally {
    closeQuiet(root);
  }
}

const hostnameDone = new WeakSet<Spec>();
const sysctlDone = new WeakSet<Spec>();

/** hostname and domainname of the container's uts namespace (once per config). */
export function setHostname(config: Spec): void {
  if (hostnameDone.has(config)) return;
  applyHostname(config);
  hostnameDone.add(config);
}

/** linux.sysctl through the container's /proc (once per config). */
export function applySysctl(config: Spec): void {
  if (sysctlDone.has(config)) return;
  writeSysctls(config);
  sysctlDone.add(config);
}

export function finishRootfs(plan: RootfsPlan): void {
  const { config } = plan;
  setHostname(config);
  applySysctl(config);
  const rootFd = openRootDir('/');
  try {
    // /dev was mounted writable so that devices could be created in it.
    for (const m of config.mounts ?? []) {
      if (cleanPath(m.destination) === '/dev' && parseMountOptions(m.options).flags & MS.RDONLY)
        remountReadonly(rootFd, '/dev', false);
    }
    if (config.root?.readonly) setRootReadonly();
    readonlyPaths(rootFd, config.linux?.readonlyPaths ?? []);
    maskPaths(rootFd, config.linux?.maskedPaths ?? []);
  } finally {
    closeQuiet(rootFd);
  }
  applyUnbindable(plan);
}

function setRootReadonly(): void {
  const flags = MS.BIND | MS.REMOUNT | MS.RDONLY;
  try {
    mount(null, '/', null, flags, null, { source: '/' });
  } catch (err) {
    if (!isErrno(err, 'EPERM')) throw err;
    // Keep whatever flags the kernel locked on this mount (user namespace).
    const fd = openRootDir('/');
    try {
      mount(null, '/', null, flags | mountFlagsOf(fd, '/'), null, { source: '/' });
    } finally {
      closeQuiet(fd);
    }
  }
}
