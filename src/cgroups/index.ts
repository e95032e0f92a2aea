// The cgroups library's full entry point: a container's cgroup created,
// loaded for update, stats and events (manager.ts with its planner, device
// filter and OOM watcher), and the host's features. The commands that only
// find, freeze, signal, join or remove a cgroup (state, kill, delete, exec)
// import handle.ts instead, which loads none of that.
import type { LinuxResources } from '../spec/types';
import { hostLayout } from './layout';
import { resolveDirs } from './paths';
import { Cgroup, savedFromLayout, type SavedCgroup } from './manager';
import { CgroupError } from './files';
import type { CloneTarget } from './handle';
import { withDefaultDeviceRules } from './default-devices';

export { validateResources } from './validate';
export { cgroupFeatures, type CgroupFeatures } from './features';
export { statsToJson } from './stats';
export { cgroupOwner } from './owner';
export { CgroupError } from './files';
export { hostLayout, type Layout, type CgroupMode } from './layout';
export type { SavedCgroup } from './manager';
export type { CloneTarget } from './handle';

export interface CgroupConfig {
  id: string;
  cgroupsPath?: string;
  systemd: boolean;
  resources?: LinuxResources;
  /** linux.devices paths (cleaned): a default node they replace loses its default rule, as in runc. */
  devicePaths?: readonly string[];
  /** Rootless (--rootless): cgroups the caller cannot write are left out when no limit needs them. */
  rootless?: boolean;
  /** The host uid to delegate the v2 cgroup to (cgroupOwner), when the spec's ownership rules say so. */
  owner?: number;
  /** config.json's annotations (org.systemd.property.* under the systemd driver). */
  annotations?: Record<string, string | undefined>;
}

export interface CgroupManager {
  /** JSON-serializable; keep it in state.json (again after set(): it tracks the resources). */
  readonly saved: SavedCgroup;
  /** What create should warn about (a non-empty cgroup). */
  warnings: string[];
  /**
   * Creates the cgroup in every hierarchy, applies the resources, moves pid in (none: for a process cloned
   * into it; not rootless). Undoes itself on failure.
   * With deferDevices the device rules wait for applyDeviceRules(): like runc, which sets them once the
   * init has made the rootfs' device nodes, so a node whose mknod the rules deny is still made.
   */
  apply(pid: number | undefined, opts?: { deferDevices?: boolean }): void;
  /** Where a new process can be cloned straight into, or why not (handle.ts). */
  cloneTarget(tasks: number): CloneTarget;
  /** Applies the device rules of the resources given at creation (after apply with deferDevices). */
  applyDeviceRules(): void;
  /** Moves another process (e.g. an exec'd one) into every hierarchy. */
  join(pid: number): void;
  /** Applies new resources; a rejected update leaves the previous values in place. */
  set(resources: LinuxResources): void;
  freeze(): void;
  thaw(): void;
  isFrozen(): boolean;
  /** Every pid in the container's cgroup and below. */
  pids(): number[];
  /** Signals every process; freezes around it so forks cannot escape. */
  signalAll(signal: number): void;
  /** runc's `events --stats` "data" object; may hold BigInt: serialize with statsToJson. */
  stats(): Record<string, unknown>;
  /** Calls onOom on every OOM in the container; returns stop(). */
  watchOom(onOom: () => void): () => void;
  /** Removes the cgroup everywhere (idempotent); force kills what is still inside. */
  destroy(force?: boolean): void;
  exists(): boolean;
}

/**
 * Validates the config against the spec and this host and computes the paths; creates nothing. Device rules get
 * runc's defaults appended.
 */
export function createCgroup(cfg: CgroupConfig): CgroupManager {
  const layout = hostLayout();
  const dirs = resolveDirs(layout, cfg.cgroupsPath, cfg.id, {
    systemd: cfg.systemd,
    rootless: !!cfg.rootless,
    annotations: cfg.annotations,
  });
  if (Object.keys(dirs.v1).length === 0 && !dirs.unified)
    throw new CgroupError('cgroups: no cgroup hierarchy is mounted on this host');
  const canFilterDevices = layout.v1.some((h) => h.key.split(',').includes('devices')) || layout.unified !== undefined;
  const resources = canFilterDevices ? withDefaultDeviceRules(cfg.resources, cfg.devicePaths) : cfg.resources;
  const cg = new Cgroup(savedFromLayout(layout, dirs, resources));
  cg.rootless = cfg.rootless ?? false;
  cg.owner = cfg.owner;
  cg.plan(resources);
  cg.warnings = cg.preflight();
  return cg;
}

export function loadCgroup(saved: SavedCgroup): CgroupManager {
  return new Cgroup(saved);
}
