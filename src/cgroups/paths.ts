// linux.cgroupsPath → one directory per hierarchy.
//  - absolute: below the root of each hierarchy (as mounted here);
//  - relative: below this process's own cgroup in each hierarchy, as runc does;
//    on a cgroup v2-only host below its parent (see relativeBase);
//  - empty: the relative path "<id>" (what runc 1.1 does with cgroupfs:
//    measured here, `runc create x` lands in "<own cgroup>/x" everywhere).
// With --systemd-cgroup: the form "slice:prefix:name", the container in the
// transient scope prefix-name.scope of that slice.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { dirOf, type Hierarchy, type Layout, ownCgroups } from './layout';
import { CgroupError } from './files';
import { expandSlice, systemdUnit, UnitNameError } from '../systemd/unit-name';
import { annotationProperties, AnnotationError } from '../systemd/annotation-properties';
import { systemdDriver } from './systemd-link';
import type { ScopeRecord } from '../systemd/driver';

export interface CgroupDirs {
  /** v1 hierarchy key ("memory", "cpu,cpuacct", "name=systemd") → directory */
  v1: Record<string, string>;
  /** the directory in the cgroup2 hierarchy */
  unified?: string;
  /** the systemd unit that holds it (--systemd-cgroup) */
  systemd?: ScopeRecord;
}

const SYSTEMD_FORM = /^[^:/]*:[^:/]*:[^:/]+$/;

export function isSystemdForm(path: string): boolean {
  return SYSTEMD_FORM.test(path);
}

/**
 * --systemd-cgroup: the scope's directory, below its slice, in every
 * hierarchy (for a rootless caller in the user's systemd instance, below its
 * own cgroup, as runc). On a v1 or hybrid host, as runc's legacy driver: the
 * same path in each v1 hierarchy (systemd makes it in those it manages, the
 * cgroup manager the others) and, hybrid, in systemd's cgroup2 tree.
 */
function systemdDirs(layout: Layout, cgroupsPath: string | undefined, id: string, opts: DirOptions): CgroupDirs {
  if (!existsSync('/run/systemd/system'))
    throw new CgroupError(
      'linux.cgroupsPath: --systemd-cgroup needs systemd as the init system; ' +
        'this host has none (no /run/systemd/system)',
    );
  const legacy = layout.mode !== 'v2';
  if (legacy && opts.rootless)
    throw new CgroupError(
      `linux.cgroupsPath: --systemd-cgroup with --rootless needs a cgroup v2 host; this one is ${layout.mode} ` +
        '(runc: "cannot use rootless systemd cgroups manager on cgroup v1"): run without --systemd-cgroup',
    );
  let systemd: ScopeRecord;
  try {
    const { slice, unit, name } = systemdUnit(cgroupsPath, id, opts.rootless);
    systemd = { unit, slice, name, properties: annotationProperties(opts.annotations) };
    if (opts.rootless) systemd.user = true;
    if (legacy) systemd.legacy = true;
  } catch (err) {
    if (err instanceof UnitNameError || err instanceof AnnotationError) throw new CgroupError(err.message);
    throw err;
  }
  let base = '/';
  try {
    if (opts.rootless) base = systemdDriver().userManagerCgroup();
  } catch (err) {
    throw new CgroupError(`linux.cgroupsPath: --systemd-cgroup --rootless: ${(err as Error).message}`);
  }
  return { ...scopeDirs(layout, join(base, expandSlice(systemd.slice), systemd.unit)), systemd };
}

/** A systemd unit's cgroup path (as /proc/PID/cgroup says it) → its directory in each hierarchy. */
export function scopeDirs(layout: Layout, path: string): CgroupDirs {
  const dirs: CgroupDirs = { v1: {} };
  for (const h of layout.v1) dirs.v1[h.key] = dirOf(h, path);
  if (layout.unified) dirs.unified = dirOf(layout.unified, path);
  return dirs;
}

/** The cleaned inner path, or an error naming linux.cgroupsPath. */
export function innerPath(cgroupsPath: string | undefined, id: string): { path: string; absolute: boolean } {
  const raw = cgroupsPath ?? '';
  if (raw === '') {
    if (!id || id.includes('/') || id === '.' || id === '..')
      throw new CgroupError(
        `linux.cgroupsPath: empty, and the container id ${JSON.stringify(id)} cannot name a cgroup`,
      );
    return { path: id, absolute: false };
  }
  if (raw.includes('\0')) throw new CgroupError('linux.cgroupsPath: contains a NUL byte');
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..'))
    throw new CgroupError(
      `linux.cgroupsPath: ${JSON.stringify(raw)} has a ".." component, which could leave the cgroup tree`,
    );
  const absolute = raw.startsWith('/');
  if (!absolute && parts.length === 0)
    throw new CgroupError(`linux.cgroupsPath: ${JSON.stringify(raw)} names no cgroup`);
  return { path: parts.join('/'), absolute };
}

/**
 * The directory a relative cgroupsPath is below, on hierarchy h: this
 * process's own cgroup there. On a v2-only host runc's fs2 driver takes the
 * parent instead: the own cgroup (a systemd service or scope) holds
 * processes, so no controller could be enabled below it (the "no internal
 * processes" rule: EBUSY on cgroup.subtree_control). On v1 and hybrid hosts
 * runc keeps the own cgroup, and so does tsrun.
 */
export function relativeBase(layout: Layout, h: Hierarchy, own: Map<string, string>): string | undefined {
  const mine = own.get(h.key);
  if (mine === undefined) return undefined;
  return dirOf(h, layout.mode === 'v2' ? dirname(mine) : mine);
}

export interface DirOptions {
  systemd: boolean;
  rootless: boolean;
  /** config.json's annotations: the systemd driver passes org.systemd.property.* on. */
  annotations?: Record<string, string | undefined>;
}

export function resolveDirs(layout: Layout, cgroupsPath: string | undefined, id: string, opts: DirOptions): CgroupDirs {
  if (opts.systemd) return systemdDirs(layout, cgroupsPath, id, opts);
  if (cgroupsPath && isSystemdForm(cgroupsPath)) {
    throw new CgroupError(
      `linux.cgroupsPath: ${JSON.stringify(cgroupsPath)} is in the systemd form "slice:prefix:name", ` +
        'which needs --systemd-cgroup',
    );
  }
  const inner = innerPath(cgroupsPath, id);
  const own = inner.absolute ? undefined : ownCgroups();
  const base = (h: Hierarchy): string | undefined => (inner.absolute ? h.mountpoint : relativeBase(layout, h, own!));
  const dirs: CgroupDirs = { v1: {} };
  for (const h of layout.v1) {
    const b = base(h);
    if (b !== undefined) dirs.v1[h.key] = join(b, inner.path);
  }
  if (layout.unified) {
    const b = base(layout.unified);
    if (b !== undefined) dirs.unified = join(b, inner.path);
  }
  return dirs;
}
