// One container's cgroup across every hierarchy of the host: creation,
// joining, limits, freezing, signalling, stats, OOM events and removal.
import { existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LinuxResources } from '../spec/types';
import { CgroupError, cgHas, cgRead, cgTryRead, cgWrite, readNumber, sleepMs } from './files';
import { type CgroupMode, controllersOf, hostLayout, type Layout, unifiedControllers } from './layout';
import { planResources, type Plan, type Target } from './plan';
import { applyPlan } from './apply';
import { validateResources } from './validate';
import { freeze, isFrozen, thaw, type Freezer } from './freezer';
import { collectStats, type ControllerDir } from './stats';
import { watchOomV1, watchOomV2 } from './oom';

/** What state.json keeps to find the cgroup again. */
export interface SavedCgroup {
  mode: CgroupMode;
  /** v1 hierarchy key ("memory", "cpu,cpuacct", "name=systemd") → directory */
  v1: Record<string, string>;
  /** directory in the cgroup2 hierarchy */
  unified?: string;
  /** the v1/v2 mount points, to look up the host's interface files */
  mounts: Record<string, string>;
  /** the controllers the v2 hierarchy offered when the cgroup was made */
  v2Controllers: string[];
  /** the resources as last applied (merged over updates) */
  resources?: LinuxResources;
}

const V2_CORE = ['devices', 'freezer', 'unified'];
const SIGKILL = 9;
const DRAIN_MS = 2000;

export function savedFromLayout(layout: Layout, dirs: { v1: Record<string, string>; unified?: string }, resources?: LinuxResources): SavedCgroup {
  const mounts: Record<string, string> = {};
  for (const h of layout.v1) mounts[h.key] = h.mountpoint;
  if (layout.unified) mounts[''] = layout.unified.mountpoint;
  return {
    mode: layout.mode,
    v1: dirs.v1,
    unified: dirs.unified,
    mounts,
    v2Controllers: dirs.unified ? unifiedControllers(layout) : [],
    resources,
  };
}

export class Cgroup {
  constructor(readonly saved: SavedCgroup) {}

  // --- where each controller lives ---------------------------------------

  private v1Key(controller: string): string | undefined {
    return Object.keys(this.saved.v1).find((k) => k === controller || controllersOf({ key: k, mountpoint: '', root: '' }).includes(controller));
  }

  locate(controller: string): ControllerDir | undefined {
    const key = this.v1Key(controller);
    if (key !== undefined) return { version: 1, dir: this.saved.v1[key] };
    if (!this.saved.unified) return undefined;
    if (V2_CORE.includes(controller) || this.saved.v2Controllers.includes(controller)) return { version: 2, dir: this.saved.unified };
    return undefined;
  }

  private target(): Target {
    return {
      version: (c) => this.locate(c)?.version,
      dir: (c) => this.locate(c)?.dir ?? '',
      hasFile: (c, file) => {
        const key = this.v1Key(c);
        const mount = key !== undefined ? this.saved.mounts[key] : this.saved.mounts[''];
        return mount !== undefined && cgHas(mount, file);
      },
      hasUnified: this.saved.unified !== undefined,
    };
  }

  /** Checks resources against the spec and this host; throws with every problem. */
  plan(resources: LinuxResources | undefined): Plan {
    const errors = validateResources(resources);
    if (errors.length > 0) throw new CgroupError(errors.join('\n'));
    const plan = planResources(resources, this.target());
    if (plan.errors.length > 0) throw new CgroupError(plan.errors.join('\n'));
    return plan;
  }

  private allDirs(): string[] {
    return [...Object.values(this.saved.v1), ...(this.saved.unified ? [this.saved.unified] : [])];
  }

  // --- lifecycle -----------------------------------------------------------

  apply(pid: number): void {
    const plan = this.plan(this.saved.resources);
    const created: string[] = [];
    try {
      for (const dir of this.allDirs()) mkdirs(dir, created);
      const cpuset = this.locate('cpuset');
      if (cpuset?.version === 1) fillCpuset(this.saved.mounts[this.v1Key('cpuset')!], cpuset.dir);
      this.enableV2Controllers(plan);
      applyPlan(plan);
      this.join(pid);
    } catch (err) {
      for (const dir of created.reverse()) rmdirQuiet(dir);
      throw err;
    }
  }

  /** Moves one more process (an exec'd one) into every hierarchy. */
  join(pid: number): void {
    for (const dir of this.allDirs()) cgWrite(dir, 'cgroup.procs', String(pid));
  }

  set(resources: LinuxResources): void {
    const plan = this.plan(resources);
    this.checkBeforeUpdate(resources);
    this.enableV2Controllers(plan);
    applyPlan(plan);
    this.saved.resources = mergeResources(this.saved.resources, resources);
  }

  private checkBeforeUpdate(r: LinuxResources): void {
    const m = r.memory;
    if (!m?.checkBeforeUpdate || !m.limit || m.limit < 0) return;
    const mem = this.locate('memory');
    if (!mem || !existsSync(mem.dir)) return;
    const usage = readNumber(mem.dir, mem.version === 1 ? 'memory.usage_in_bytes' : 'memory.current');
    if (usage !== undefined && usage > m.limit) {
      throw new CgroupError(`linux.resources.memory.limit: ${m.limit} is below the current usage ${usage} (checkBeforeUpdate)`);
    }
  }

  /** v2 controllers must be enabled in every ancestor's subtree_control. */
  private enableV2Controllers(plan: Plan): void {
    const unified = this.saved.unified;
    const mount = this.saved.mounts[''];
    if (!unified || !mount) return;
    const wanted = new Set(plan.writes.filter((w) => w.dir === unified && this.saved.v2Controllers.includes(w.controller)).map((w) => w.controller));
    if (this.saved.mode === 'v2') for (const c of this.saved.v2Controllers) wanted.add(c);
    if (wanted.size === 0) return;
    const chain: string[] = [];
    for (let d = dirname(unified); d.startsWith(mount); d = dirname(d)) {
      chain.unshift(d);
      if (d === mount) break;
    }
    for (const d of chain) {
      const enabled = (cgTryRead(d, 'cgroup.subtree_control') ?? '').trim().split(/\s+/);
      const missing = [...wanted].filter((c) => !enabled.includes(c));
      if (missing.length > 0) cgWrite(d, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '));
    }
  }

  // --- freezer, processes, signals ------------------------------------------

  private freezer(): Freezer | undefined {
    const f = this.locate('freezer');
    return f && existsSync(f.dir) ? f : undefined;
  }

  freeze(): void {
    const f = this.freezer();
    if (!f) throw new CgroupError('cannot pause: no freezer (neither the v1 freezer controller nor cgroup v2) for this container');
    freeze(f);
  }

  thaw(): void {
    const f = this.freezer();
    if (!f) throw new CgroupError('cannot resume: no freezer (neither the v1 freezer controller nor cgroup v2) for this container');
    thaw(f);
  }

  isFrozen(): boolean {
    const f = this.freezer();
    return f ? isFrozen(f) : false;
  }

  /** The directory whose cgroup.procs lists the container's processes. */
  private procsDir(): string | undefined {
    const f = this.locate('freezer') ?? this.locate('pids') ?? this.locate('memory');
    return f?.dir ?? this.allDirs()[0];
  }

  pids(): number[] {
    const dir = this.procsDir();
    return dir ? procsBelow(dir) : [];
  }

  signalAll(signal: number): void {
    const unified = this.saved.unified;
    if (signal === SIGKILL && unified && cgHas(unified, 'cgroup.kill')) {
      // Atomic for the whole subtree, forks in flight included.
      cgWrite(unified, 'cgroup.kill', '1');
      if (this.pids().length === 0) return;
    }
    const f = this.freezer();
    const wasFrozen = f ? isFrozen(f) : false;
    if (f && !wasFrozen) freeze(f);
    try {
      for (const pid of this.pids()) {
        try {
          process.kill(pid, signal);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
        }
      }
    } finally {
      // A frozen task only acts on SIGKILL once thawed.
      if (f && (!wasFrozen || signal === SIGKILL)) thaw(f);
    }
  }

  // --- observation -----------------------------------------------------------

  stats(): Record<string, unknown> {
    return collectStats((c) => {
      const d = c === 'unified' ? (this.saved.unified ? { version: 2 as const, dir: this.saved.unified } : undefined) : this.locate(c);
      return d && existsSync(d.dir) ? d : undefined;
    });
  }

  watchOom(onOom: () => void): () => void {
    const m = this.locate('memory');
    if (!m || !existsSync(m.dir)) return () => {};
    return m.version === 1 ? watchOomV1(m.dir, onOom) : watchOomV2(m.dir, onOom);
  }

  exists(): boolean {
    return this.allDirs().some((d) => existsSync(d));
  }

  // --- removal ---------------------------------------------------------------

  destroy(force = false): void {
    if (force && this.exists() && this.pids().length > 0) this.signalAll(SIGKILL);
    const deadline = Date.now() + DRAIN_MS;
    for (const dir of this.allDirs()) {
      for (;;) {
        try {
          removeTree(dir);
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'EBUSY' || Date.now() > deadline) {
            throw new CgroupError(`remove cgroup ${dir}: ${code}${code === 'EBUSY' ? ` (processes still inside: ${procsBelow(dir).join(' ') || 'exiting'})` : ''}`, code);
          }
          if (force) this.signalAll(SIGKILL);
          sleepMs(10);
        }
      }
    }
  }
}

function mkdirs(dir: string, created: string[]): void {
  if (existsSync(dir)) return;
  mkdirs(dirname(dir), created);
  mkdirSync(dir);
  created.push(dir);
}

function rmdirQuiet(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // best effort while unwinding a failed apply
  }
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

/** rmdir, children first; a cgroup directory holds only kernel files. */
function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const child of subdirs(dir)) removeTree(child);
  try {
    rmdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function procsBelow(dir: string): number[] {
  const own = (cgTryRead(dir, 'cgroup.procs') ?? '').split('\n').filter(Boolean).map(Number);
  return [...own, ...subdirs(dir).flatMap(procsBelow)];
}

/** A new v1 cpuset starts with no cpus and no mems; it takes its parent's. */
function fillCpuset(mount: string, dir: string): void {
  const chain: string[] = [];
  for (let d = dir; d !== mount && d.startsWith(mount); d = dirname(d)) chain.unshift(d);
  for (const d of chain) {
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (cgRead(d, file).trim() === '') cgWrite(d, file, cgRead(dirname(d), file).trim());
    }
  }
}

function mergeResources(old: LinuxResources | undefined, next: LinuxResources): LinuxResources {
  const out: Record<string, unknown> = { ...(old ?? {}) };
  for (const [k, v] of Object.entries(next)) {
    const prev = out[k];
    const isObj = (x: unknown) => typeof x === 'object' && x !== null && !Array.isArray(x);
    out[k] = isObj(v) && isObj(prev) ? { ...(prev as object), ...(v as object) } : v;
  }
  return out as LinuxResources;
}

export { hostLayout };
