// Where the cgroup hierarchies of this host are mounted, and where the
// current process sits in each: read from /proc/self/mountinfo and
// /proc/self/cgroup. Works for v1, unified (v2) and hybrid hosts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type CgroupMode = 'v1' | 'v2' | 'hybrid';

export interface Hierarchy {
  /** v1: the subsystems of the mount ("cpu", "cpu,cpuacct", "name=systemd"); v2: "" */
  key: string;
  mountpoint: string;
  /** The cgroup path the mount's root corresponds to (not "/" inside cgroup namespaces). */
  root: string;
}

export interface Layout {
  mode: CgroupMode;
  /** v1 hierarchies, by their mount key. */
  v1: Hierarchy[];
  /** The cgroup2 mount, if any. */
  unified?: Hierarchy;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct) => String.fromCharCode(parseInt(oct, 8)));
}

const v1Controllers = new Set([
  'cpu',
  'cpuacct',
  'cpuset',
  'memory',
  'devices',
  'freezer',
  'blkio',
  'pids',
  'net_cls',
  'net_prio',
  'hugetlb',
  'perf_event',
  'rdma',
  'misc',
]);

export function parseMountinfo(text: string): Layout {
  const v1: Hierarchy[] = [];
  let unified: Hierarchy | undefined;
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const f = left.split(' ');
    const [fstype, , superOpts = ''] = right.split(' ');
    const root = unescapeMount(f[3]);
    const mountpoint = unescapeMount(f[4]);
    if (fstype === 'cgroup2') {
      // The first mount wins; later ones are usually bind mounts of it.
      unified ??= { key: '', mountpoint, root };
    } else if (fstype === 'cgroup') {
      const subsys = superOpts.split(',').filter((o) => v1Controllers.has(o) || o.startsWith('name='));
      const key = subsys.sort().join(',');
      if (!key || seen.has(key)) continue;
      seen.add(key);
      v1.push({ key, mountpoint, root });
    }
  }
  const mode: CgroupMode = v1.length === 0 ? 'v2' : unified ? 'hybrid' : 'v1';
  return { mode, v1, unified };
}

/** Each line of /proc/<pid>/cgroup: hierarchy key ("" for v2) → path. */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const key = m[2].split(',').sort().join(',');
    out.set(key, m[3]);
  }
  return out;
}

let cached: Layout | undefined;

export function hostLayout(): Layout {
  cached ??= parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  return cached;
}

export function ownCgroups(pid: number | 'self' = 'self'): Map<string, string> {
  return parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
}

/** Directory of cgroup `path` (as written in /proc/pid/cgroup) on hierarchy `h`. */
export function dirOf(h: Hierarchy, path: string): string {
  let rel = path;
  if (h.root !== '/' && (rel === h.root || rel.startsWith(h.root + '/'))) rel = rel.slice(h.root.length);
  return join(h.mountpoint, rel);
}

/** The controllers a v1 hierarchy carries ("cpu,cpuacct" → cpu, cpuacct). */
export function controllersOf(h: Hierarchy): string[] {
  return h.key.split(',').filter((c) => !c.startsWith('name='));
}

/** Controllers the v2 root offers (cgroup.controllers of the mount root). */
export function unifiedControllers(layout: Layout): string[] {
  if (!layout.unified) return [];
  try {
    return readFileSync(join(layout.unified.mountpoint, 'cgroup.controllers'), 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * Which version serves each controller: v1 wins on a hybrid host when it has
 * the controller mounted (that is where the kernel binds it), v2 otherwise.
 */
export function controllerVersions(layout: Layout): Map<string, 1 | 2> {
  const out = new Map<string, 1 | 2>();
  for (const c of unifiedControllers(layout)) out.set(c, 2);
  for (const h of layout.v1) for (const c of controllersOf(h)) out.set(c, 1);
  return out;
}
