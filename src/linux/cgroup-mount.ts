// A `cgroup` mount on a host with v1 hierarchies, the way runc does it: a
// tmpfs at the destination holding one directory per hierarchy — the
// container's own cgroup bind-mounted from the host, or, inside a cgroup
// namespace (where /proc/self/cgroup reads "/"), a fresh cgroup mount — plus
// symlinks for co-mounted controllers (cpu → cpu,cpuacct).
import { readFileSync, symlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { MS, mount } from '../sys/mount';
import { FS_MAGIC, O, closeQuiet, fsType, open } from '../sys/fs';
import type { MountContext, ResolvedMount } from './mount-context';
import { mkdirAllInRoot, procFdPath } from './in-root';

const DEFAULT_FLAGS = MS.NOEXEC | MS.NOSUID | MS.NODEV;

let cgroup2Host: boolean | undefined;

/** True when /sys/fs/cgroup is itself cgroup2 (unified mode). */
export function isCgroup2Host(): boolean {
  if (cgroup2Host === undefined) {
    const fd = open('/sys/fs/cgroup', O.PATH | O.DIRECTORY);
    try {
      cgroup2Host = fsType(fd, '/sys/fs/cgroup') === FS_MAGIC.CGROUP2;
    } finally {
      closeQuiet(fd);
    }
  }
  return cgroup2Host;
}

export interface MountinfoEntry {
  root: string;
  mountpoint: string;
  optional: string[];
  fstype: string;
  source: string;
  superOptions: string[];
}

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountinfo(text: string): MountinfoEntry[] {
  const out: MountinfoEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const fields = line.split(' ');
    const sep = fields.indexOf('-', 6);
    if (sep < 0) continue;
    out.push({
      root: unescape(fields[3]),
      mountpoint: unescape(fields[4]),
      optional: fields.slice(6, sep),
      fstype: fields[sep + 1],
      source: unescape(fields[sep + 2]),
      superOptions: (fields[sep + 3] ?? '').split(','),
    });
  }
  return out;
}

export function readMountinfo(): MountinfoEntry[] {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** /proc/self/cgroup v1 lines: controller (or name=…) → cgroup path. */
function ownCgroupPaths(): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = /^\d+:([^:]+):(.*)$/.exec(line);
    if (!m) continue;
    for (const controller of m[1].split(',')) paths.set(controller, m[2]);
  }
  return paths;
}

interface Hierarchy {
  mountpoint: string;
  root: string;
  subsystems: string[]; // "cpu", "cpuacct", "name=systemd"
  cgroupPath: string;
}

function hostHierarchies(rootfs: string): Hierarchy[] {
  const own = ownCgroupPaths();
  const seen = new Set<string>();
  const out: Hierarchy[] = [];
  for (const e of readMountinfo()) {
    if (e.fstype !== 'cgroup') continue;
    if (e.mountpoint === rootfs || e.mountpoint.startsWith(rootfs + '/')) continue;
    const subsystems = e.superOptions.filter((o) => own.has(o));
    if (subsystems.length === 0) continue;
    const key = subsystems.slice().sort().join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ mountpoint: e.mountpoint, root: e.root, subsystems, cgroupPath: own.get(subsystems[0])! });
  }
  return out;
}

export function mountCgroupV1(
  ctx: MountContext,
  rm: ResolvedMount,
  mountResolved: (ctx: MountContext, rm: ResolvedMount) => void,
): void {
  const readonly = rm.opts.flags & MS.RDONLY;
  const tmpfsOpts = {
    ...rm.opts,
    flags: DEFAULT_FLAGS,
    data: 'mode=755',
    tmpcopyup: false,
    recAttrSet: 0,
    recAttrClr: 0,
  };
  mountResolved(ctx, { source: 'tmpfs', destination: rm.destination, type: 'tmpfs', opts: tmpfsOpts });
  const merged: string[] = [];
  for (const h of hostHierarchies(ctx.rootfs)) {
    const name = posix.basename(h.mountpoint);
    const dest = posix.join(rm.destination, name);
    if (name.includes(',')) merged.push(name);
    if (ctx.cgroupns) {
      const fd = mkdirAllInRoot(ctx.rootFd, dest);
      try {
        mount('cgroup', procFdPath(fd), 'cgroup', DEFAULT_FLAGS | readonly, h.subsystems.join(','), { target: dest });
      } finally {
        closeQuiet(fd);
      }
    } else {
      const source = posix.join(h.mountpoint, posix.relative(h.root, h.cgroupPath));
      const bindOpts = {
        ...rm.opts,
        flags: DEFAULT_FLAGS | MS.BIND | MS.REC | readonly,
        data: '',
        tmpcopyup: false,
        recAttrSet: 0,
        recAttrClr: 0,
      };
      mountResolved(ctx, { source, destination: dest, type: 'bind', opts: bindOpts });
    }
  }
  for (const name of merged) {
    for (const controller of name.split(',')) {
      const dirFd = mkdirAllInRoot(ctx.rootFd, rm.destination);
      try {
        symlinkSync(name, `${procFdPath(dirFd)}/${controller}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      } finally {
        closeQuiet(dirFd);
      }
    }
  }
}
