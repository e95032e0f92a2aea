// One container's cgroup across every hierarchy of the host, in full:
// creation, limits, stats and OOM events on top of the handle (handle.ts).
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LinuxResources } from '../spec/types';
import { CgroupError, cgHasBelow, cgRead, cgTryRead, cgWrite, readNumber } from './files';
import { hostLayout, type Layout, unifiedControllers } from './layout';
import { planResources, type Plan, type Target } from './plan';
import { debug, warn } from '../log';
import { applyDevices, applyPlan } from './apply';
import { accessString } from './device-rules';
import { validateResources } from './validate';
import { collectStats } from './stats';
import { watchOomV1, watchOomV2 } from './oom';
import { CgroupHandle, type SavedCgroup } from './handle';
import { isEffectivelyFrozen } from './freezer';
import { enableControllers } from './enable';
import { delegateCgroup } from './owner';
import type { CgroupDirs } from './paths';
import { systemdDriver } from './systemd-link';

export type { SavedCgroup } from './handle';

export function savedFromLayout(layout: Layout, dirs: CgroupDirs, resources?: LinuxResources): SavedCgroup {
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
    systemd: dirs.systemd,
  };
}

/** The full manager: what create, update and events need on top of the handle. */
export class Cgroup extends CgroupHandle {
  warnings: string[] = [];
  /** Set by createCgroup for a rootless caller (see keepReachable). */
  rootless = false;
  /** The host uid the v2 cgroup is delegated to (cgroupOwner in owner.ts), if any. */
  owner?: number;
  private target(): Target {
    return {
      version: (c) => this.locate(c)?.version,
      dir: (c) => this.locate(c)?.dir ?? '',
      hasFile: (c, file) => {
        const key = this.v1Key(c);
        const mount = key !== undefined ? this.saved.mounts[key] : this.saved.mounts[''];
        return mount !== undefined && cgHasBelow(mount, this.locate(c)?.dir ?? mount, file);
      },
      hasUnified: this.saved.unified !== undefined,
    };
  }

  /**
   * Before anything is made: which directories will be ours, whether the
   * cgroup already holds processes (runc 1.1's warning, returned for the
   * caller to log) and whether it is frozen (an init put there would hang).
   */
  preflight(): string[] {
    // A systemd scope is made by systemd, but it is the container's alone.
    this.saved.created = this.saved.systemd ? this.allDirs() : this.allDirs().filter((d) => !existsSync(d));
    const f = this.locate('freezer');
    const near = f && nearestExisting(f.dir);
    if (f && near && isEffectivelyFrozen({ version: f.version, dir: near }))
      throw new CgroupError("container's cgroup unexpectedly frozen", 'EFROZEN');
    const busy = this.exists() ? this.pids().length : 0;
    return busy > 0
      ? [
          `container's cgroup is not empty: ${busy} process(es) found`,
          'DEPRECATED: running a container in a non-empty cgroup will be refused (as runc 1.2 does)',
        ]
      : [];
  }

  /** Checks resources against the spec and this host; throws with every problem. */
  plan(resources: LinuxResources | undefined): Plan {
    const errors = validateResources(resources);
    if (errors.length > 0) throw new CgroupError(errors.join('\n'));
    const plan = planResources(resources, this.target());
    if (plan.errors.length > 0) throw new CgroupError(plan.errors.join('\n'));
    return plan;
  }

  // --- lifecycle -----------------------------------------------------------

  /**
   * Without a pid: everything but moving a process in, for one cloned
   * straight into it (CLONE_INTO_CGROUP). Not rootless: which hierarchies a
   * rootless caller may use is found by moving the process in.
   */
  apply(pid: number | undefined, opts: { deferDevices?: boolean } = {}): void {
    const plan = this.plan(this.saved.resources);
    const created: string[] = [];
    try {
      if (this.saved.systemd) {
        if (pid === undefined) throw new Error('cgroups: a systemd scope is made with its first process');
        this.startScope(pid, plan);
        // On v1 systemd makes the scope only in the hierarchies it manages; the rest (cpuset, freezer,
        // net_cls…) are made here and joined below, as runc's legacy driver does. On v2 this finds it made.
        for (const dir of this.allDirs()) mkdirs(dir, created);
      } else if (this.rootless) {
        if (pid === undefined) throw new Error('cgroups: a rootless cgroup is made with its first process');
        this.keepReachable(pid, plan, created);
      } else {
        for (const dir of this.allDirs()) mkdirs(dir, created);
      }
      const cpuset = this.locate('cpuset');
      if (cpuset?.version === 1) fillCpuset(this.saved.mounts[this.v1Key('cpuset')!], cpuset.dir);
      this.enableV2Controllers(plan);
      // Which optional v2 files exist (hugetlb.*.rsvd.max…) shows only once the controllers are enabled. Not
      // rootless: there the hierarchies left out as unwritable (keepReachable) would now fail the plan.
      const written = this.rootless ? plan : this.plan(this.saved.resources);
      applyPlan(written, !opts.deferDevices && !this.rootless);
      if (this.saved.mode === 'v2') this.settleCgroupType(written);
      // Only a v2-only host: delegation is not safe on v1 (the spec's word), and hybrid's v2 tree has no controllers.
      if (this.owner !== undefined && !this.rootless && this.saved.mode === 'v2' && this.saved.unified)
        delegateCgroup(this.saved.unified, this.owner);
      if (pid !== undefined) this.join(pid);
    } catch (err) {
      for (const dir of created.reverse()) rmdirQuiet(dir);
      throw err;
    }
  }

  /**
   * Rootless (runc's rules): a hierarchy whose cgroup the caller cannot make
   * or enter is left out, with a warning, unless the resources ask for a
   * limit there, which then fails naming its field. Device rules are not
   * applied: writing them needs CAP_SYS_ADMIN on the host even in a
   * delegated cgroup (runc ignores their errors).
   */
  private keepReachable(pid: number, plan: Plan, created: string[]): void {
    const why = new Map<string, string>();
    for (const dir of this.allDirs()) {
      const mine: string[] = [];
      try {
        mkdirs(dir, mine);
        created.push(...mine);
        cgWrite(dir, 'cgroup.procs', String(pid));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (!DENIED.has(code)) throw err;
        for (const d of mine.reverse()) rmdirQuiet(d);
        why.set(
          dir,
          err instanceof CgroupError ? err.message : `mkdir ${(err as NodeJS.ErrnoException).path ?? dir}: ${code}`,
        );
      }
    }
    if (why.size === 0) return;
    const blocked = plan.writes.filter((w) => why.has(w.dir));
    if (blocked.length > 0) {
      throw new CgroupError(
        blocked
          .map(
            (w) =>
              `${w.where}: cannot be applied rootless: no cgroup the caller may write (${why.get(w.dir)}); ` +
              'delegate a writable cgroup to the user or drop the limit',
          )
          .join('\n'),
      );
    }
    const left: string[] = [];
    for (const [key, dir] of Object.entries(this.saved.v1)) {
      if (why.has(dir)) {
        delete this.saved.v1[key];
        left.push(key);
      }
    }
    if (this.saved.unified && why.has(this.saved.unified)) {
      this.saved.unified = undefined;
      left.push('unified');
    }
    this.saved.created = this.saved.created?.filter((d) => !why.has(d));
    warn(`rootless: no writable cgroup, the container runs outside ${left.join(', ')} (${[...why.values()][0]})`);
  }

  applyDeviceRules(): void {
    if (this.rootless) return;
    const devices = this.plan(this.saved.resources).devices;
    if (!devices) return;
    if (this.saved.systemd) {
      const { defaultAllow, exceptions } = devices.state;
      const rules = { defaultAllow, exceptions: exceptions.map((e) => ({ ...e, access: accessString(e.access) })) };
      systemdDriver().setScopeDevices(this.saved.systemd, rules);
    }
    applyDevices(devices.version, devices.dir, devices.state);
  }

  set(resources: LinuxResources): void {
    const plan = this.plan(resources);
    this.checkBeforeUpdate(resources);
    if (this.saved.systemd) systemdDriver().updateScope(this.saved.systemd, this.unitWrites(plan));
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
      throw new CgroupError(
        `linux.resources.memory.limit: ${m.limit} is below the current usage ${usage} (checkBeforeUpdate)`,
      );
    }
  }

  /**
   * A scope systemd refused (one of that name already runs, a property it
   * rejects) is not ours: forgotten, so that undoing the create neither
   * stops it nor kills what is in it.
   */
  private startScope(pid: number, plan: Plan): void {
    try {
      systemdDriver().startScope(this.saved.systemd!, pid, this.unitWrites(plan));
    } catch (err) {
      this.saved.systemd = undefined;
      this.saved.created = [];
      throw err;
    }
  }

  /**
   * The plan's writes to the container's own directories (v2's, or v1's on a
   * v1 or hybrid host): what systemd is told as unit properties.
   */
  private unitWrites(plan: Plan): { file: string; value: string }[] {
    const own = this.saved.mode === 'v2' ? [this.saved.unified] : Object.values(this.saved.v1);
    return plan.writes.filter((w) => own.includes(w.dir));
  }

  /** v2 controllers must be enabled in every ancestor's subtree_control (enable.ts). */
  private enableV2Controllers(plan: Plan): void {
    const unified = this.saved.unified;
    const mount = this.saved.mounts[''];
    if (!unified || !mount) return;
    const needed = new Map<string, string[]>();
    for (const w of plan.writes) {
      if (w.dir !== unified || !this.saved.v2Controllers.includes(w.controller)) continue;
      needed.set(w.controller, [...new Set([...(needed.get(w.controller) ?? []), w.where])]);
    }
    const wanted = new Set(this.saved.mode === 'v2' ? this.saved.v2Controllers : needed.keys());
    if (wanted.size > 0) enableControllers(mount, unified, wanted, needed);
  }

  /**
   * A cgroup made below one that holds processes is "domain invalid" (the
   * no-internal-processes rule): no process can join it. As runc, it is made
   * threaded when no limit of a domain controller is asked for; with one,
   * enabling that controller has already failed naming the limit.
   */
  private settleCgroupType(plan: Plan): void {
    const dir = this.saved.unified;
    if (!dir || cgTryRead(dir, 'cgroup.type')?.trim() !== 'domain invalid') return;
    const domain = plan.writes.find((w) => w.dir === dir && DOMAIN_CONTROLLERS.has(w.controller));
    if (domain)
      throw new CgroupError(`${domain.where}: ${dir} is "domain invalid" (its parent holds processes)`, 'ENOTSUP');
    debug(`cgroup: ${dir} is "domain invalid" (its parent holds processes): made threaded, as runc does`);
    cgWrite(dir, 'cgroup.type', 'threaded');
  }

  // --- observation -----------------------------------------------------------

  stats(): Record<string, unknown> {
    return collectStats((c) => {
      const d =
        c === 'unified'
          ? this.saved.unified
            ? { version: 2 as const, dir: this.saved.unified }
            : undefined
          : this.locate(c);
      return d && existsSync(d.dir) ? d : undefined;
    });
  }

  watchOom(onOom: () => void): () => void {
    const m = this.locate('memory');
    if (!m || !existsSync(m.dir)) return () => {};
    return m.version === 1 ? watchOomV1(m.dir, onOom) : watchOomV2(m.dir, onOom);
  }
}

/** runc's containsDomainController: limits that a threaded cgroup cannot take. */
const DOMAIN_CONTROLLERS = new Set(['memory', 'io', 'blkio', 'cpu', 'hugetlb']);

/** dir or its nearest existing ancestor (a v1 child of a frozen parent is made frozen). */
function nearestExisting(dir: string): string | undefined {
  for (let d = dir; d !== '/'; d = dirname(d)) if (existsSync(d)) return d;
  return undefined;
}

/** The errors that mean "not this caller's cgroup" rather than a broken host. */
const DENIED = new Set(['EACCES', 'EPERM', 'EROFS']);

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
