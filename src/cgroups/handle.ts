// One container's cgroup across every hierarchy, for the commands that only
// find, freeze, signal or remove it (state, kill, delete, pause, resume, ps).
// It loads nothing that creating a cgroup needs (planner, device filter,
// OOM watcher): those are the full manager's (manager.ts).
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LinuxResources } from '../spec/types';
import { CgroupError, cgHas, cgTryRead, cgWrite, readNumber } from './files';
import { sleepMs } from '../sys/sleep';
import { debug } from '../log';
import { errnoText } from '../sys/errno';
import { type CgroupMode, controllersOf } from './layout';
import { freeze, isEffectivelyFrozen, isFrozen, thaw, type Freezer } from './freezer';
import type { ControllerDir } from './stats';
import type { ScopeRecord } from '../systemd/driver';
import { systemdDriver } from './systemd-link';

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
  /**
   * The container's directories that did not exist before create: only these
   * are removed. A cgroup the caller made and named as cgroupsPath stays
   * (absent in state written by older versions: every directory is ours).
   */
  created?: string[];
  /** The systemd unit the cgroup belongs to (--systemd-cgroup): systemd made it and removes it. */
  systemd?: ScopeRecord;
}

/** A sub-cgroup of the container's (exec --cgroup): relative, for every hierarchy or some controllers'. */
export interface SubPath {
  controller?: string;
  path: string;
}

export type CloneTarget = { dir: string } | { why: string };

const V2_CORE = ['devices', 'freezer', 'unified'];
const SIGKILL = 9;
const DRAIN_MS = 2000;
/** How long tasks killed through cgroup.kill get to exit before they are signalled one by one. */
const KILL_DRAIN_MS = 1000;

export class CgroupHandle {
  constructor(readonly saved: SavedCgroup) {}

  // --- where each controller lives ---------------------------------------

  protected v1Key(controller: string): string | undefined {
    return Object.keys(this.saved.v1).find(
      (k) => k === controller || controllersOf({ key: k, mountpoint: '', root: '' }).includes(controller),
    );
  }

  locate(controller: string): ControllerDir | undefined {
    const key = this.v1Key(controller);
    if (key !== undefined) return { version: 1, dir: this.saved.v1[key] };
    if (!this.saved.unified) return undefined;
    if (V2_CORE.includes(controller) || this.saved.v2Controllers.includes(controller))
      return { version: 2, dir: this.saved.unified };
    return undefined;
  }

  protected allDirs(): string[] {
    return [...Object.values(this.saved.v1), ...(this.saved.unified ? [this.saved.unified] : [])];
  }

  /** Moves one more process (an exec'd one) into every hierarchy. */
  join(pid: number): void {
    for (const dir of this.allDirs()) addProc(dir, pid);
  }

  /**
   * join() into existing sub-cgroups of the container's (runc's exec
   * --cgroup): a path for every hierarchy, or for some controllers'
   * ("cpu,cpuacct"); paths are relative ("." the container's own) and
   * already checked not to climb out.
   */
  joinSub(pid: number, subs: SubPath[]): void {
    for (const dir of this.subTargets(subs).values()) addProc(dir, pid);
  }

  /** Each hierarchy's directory → the one a process goes to with these sub-cgroups. */
  private subTargets(subs: SubPath[]): Map<string, string> {
    const target = new Map(this.allDirs().map((d) => [d, d]));
    for (const s of subs) {
      const dirs = s.controller === undefined ? this.allDirs() : s.controller.split(',').map((c) => this.dirOf(c));
      for (const d of dirs) target.set(d, join(d, s.path));
    }
    return target;
  }

  /**
   * Where a new process can be cloned straight into (clone3's
   * CLONE_INTO_CGROUP), with `tasks` the tasks the clone makes before one
   * exits; otherwise why it joins through cgroup.procs after the clone.
   * Only on a v2-only host, as runc: on hybrid the v1 hierarchies, where
   * the controllers are, need cgroup.procs anyway. Not into a frozen cgroup
   * (a copy of the CLI would freeze there), nor where pids.max has no room
   * for those tasks: a migration may exceed pids.max, a fork may not.
   */
  cloneTarget(tasks: number, subs: SubPath[] = []): CloneTarget {
    const unified = this.saved.unified;
    if (this.saved.mode !== 'v2' || !unified) return { why: `a ${this.saved.mode} host` };
    const dir = this.subTargets(subs).get(unified)!;
    if (isEffectivelyFrozen({ version: 2, dir })) return { why: 'the cgroup is frozen' };
    const max = readNumber(dir, 'pids.max');
    if (max !== undefined && (readNumber(dir, 'pids.current') ?? 0) + tasks > max)
      return { why: `pids.max ${max} has no room for ${tasks} more task(s)` };
    return { dir };
  }

  /** A controller's directory; runc's words first for one the container has not. */
  private dirOf(controller: string): string {
    const dir = this.locate(controller)?.dir;
    if (dir !== undefined) return dir;
    const known = [...Object.keys(this.saved.v1).flatMap((k) => k.split(',')), ...this.saved.v2Controllers];
    throw new CgroupError(
      `unknown controller ${controller}: the container's cgroup has no such controller (it has ${known.join(', ')})`,
    );
  }

  // --- freezer, processes, signals ------------------------------------------

  protected freezer(): Freezer | undefined {
    const f = this.locate('freezer');
    return f && existsSync(f.dir) ? f : undefined;
  }

  freeze(): void {
    const f = this.freezer();
    if (!f)
      throw new CgroupError(
        'cannot pause: no freezer (neither the v1 freezer controller nor cgroup v2) for this container',
      );
    freeze(f);
  }

  thaw(): void {
    const f = this.freezer();
    if (!f)
      throw new CgroupError(
        'cannot resume: no freezer (neither the v1 freezer controller nor cgroup v2) for this container',
      );
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
      // Atomic for the whole subtree, forks in flight included (runc 1.2+ does the same).
      debug(`kill: SIGKILL through ${unified}/cgroup.kill`);
      cgWrite(unified, 'cgroup.kill', '1');
      // A task frozen by the v1 freezer only dies once thawed; killed, it cannot fork any more.
      const f = this.freezer();
      if (f && isFrozen(f)) thaw(f);
      if (this.drained(KILL_DRAIN_MS)) return;
      debug(`kill: processes still in the cgroup after cgroup.kill: ${this.pids().join(' ')}`);
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

  /** Waits up to `ms` for the killed tasks to leave cgroup.procs (they do as they exit). */
  private drained(ms: number): boolean {
    const deadline = Date.now() + ms;
    while (this.pids().length > 0) {
      if (Date.now() > deadline) return false;
      sleepMs(5);
    }
    return true;
  }

  exists(): boolean {
    return this.allDirs().some((d) => existsSync(d));
  }

  // --- removal ---------------------------------------------------------------

  /**
   * Whether create made the cgroup the container's processes are in. One the
   * caller made and named may hold the caller's own processes (its service,
   * its shell): those are not ours to kill.
   */
  isOwn(): boolean {
    return this.saved.created?.includes(this.procsDir() ?? '') ?? true;
  }

  destroy(force = false): void {
    force &&= this.isOwn();
    if (force && this.exists() && this.pids().length > 0) this.signalAll(SIGKILL);
    // systemd stops the scope (and removes its cgroup) once its processes are gone; stopping it says so at once.
    if (this.saved.systemd) systemdDriver().stopScope(this.saved.systemd);
    const deadline = Date.now() + DRAIN_MS;
    const ours = this.saved.created;
    for (const dir of this.allDirs().filter((d) => !ours || ours.includes(d))) {
      for (;;) {
        try {
          removeTree(dir);
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'EBUSY' || Date.now() > deadline) {
            const busy = code === 'EBUSY';
            const inside = busy ? ` (processes still inside: ${procsBelow(dir).join(' ') || 'exiting'})` : '';
            throw new CgroupError(`remove cgroup ${dir}: ${code}${inside}`, code);
          }
          if (force) this.signalAll(SIGKILL);
          sleepMs(10);
        }
      }
    }
  }
}

/** cgroup.procs gets `pid`; a failure starts with runc's words ("error adding pid N to cgroups"), then the errno. */
function addProc(dir: string, pid: number): void {
  try {
    cgWrite(dir, 'cgroup.procs', String(pid));
  } catch (err) {
    if (!(err instanceof CgroupError) || !err.code) throw err;
    const text = errnoText(err.code);
    const why = text ? `${text} (${err.code})` : err.code;
    throw new CgroupError(`error adding pid ${pid} to cgroups: write ${join(dir, 'cgroup.procs')}: ${why}`, err.code);
  }
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(dir, e.name));
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
