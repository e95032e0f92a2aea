// The systemd cgroup driver's calls, one connection each: what the cgroup
// manager asks of systemd for a container's transient scope. Loaded only by
// the commands that meet such a container (cgroups/systemd-link.ts).
import { property, Systemd, type SystemdInstance, type UnitProperty } from './manager';
import type { AnnotationProperty } from './annotation-properties';
import { warn } from '../log';
import { deviceProperties, resourceProperties, scopeProperties, type DeviceRules } from './unit-properties';

/** What state.json keeps of a container's unit. */
export interface ScopeRecord {
  unit: string;
  slice: string;
  /** The user's instance (rootless) rather than the system's. */
  user?: boolean;
  /**
   * A cgroup v1 or hybrid host, where the controllers are v1's: the unit is
   * told its limits by their v1 names (MemoryLimit, CPUShares, BlockIO…), as
   * runc's legacy driver does.
   */
  legacy?: boolean;
  /** The name part of cgroupsPath (the container id by default): the unit's description says it. */
  name: string;
  /** From the org.systemd.property.* annotations, given to the unit after runc's own. */
  properties?: AnnotationProperty[];
}

/** A file write of the plan (cgroups/plan.ts): the ones systemd has a property for become one. */
export interface FileWrite {
  file: string;
  value: string;
}

function withSystemd<T>(instance: SystemdInstance, fn: (sd: Systemd) => T): T {
  const sd = Systemd.connect(instance);
  try {
    return fn(sd);
  } finally {
    sd.close();
  }
}

const instanceOf = (s: ScopeRecord): SystemdInstance => (s.user ? 'user' : 'system');

function fromAnnotation(p: AnnotationProperty): UnitProperty {
  return property(
    p.name,
    p.signature,
    p.signature === 't' || p.signature === 'x' ? BigInt(p.value as string) : p.value,
  );
}

/** The scope, started with the init in it and the limits systemd knows as its properties. */
export function startScope(s: ScopeRecord, pid: number, writes: FileWrite[]): void {
  withSystemd(instanceOf(s), (sd) => {
    const props = [
      ...scopeProperties(`libcontainer container ${s.name}`, s.slice, [pid], s.legacy),
      ...(s.properties ?? []).map(fromAnnotation),
      ...resourceProperties(writes, sd.version(), s.legacy),
    ];
    sd.startTransientUnit(s.unit, props);
  });
}

/** Stops the scope (systemd removes its cgroup); one already gone is fine. */
export function stopScope(s: ScopeRecord): void {
  withSystemd(instanceOf(s), (sd) => sd.stopUnit(s.unit));
}

/** update: the new limits as the unit's properties too. */
export function updateScope(s: ScopeRecord, writes: FileWrite[]): void {
  withSystemd(instanceOf(s), (sd) => sd.setUnitProperties(s.unit, resourceProperties(writes, sd.version(), s.legacy)));
}

/** The device rules as the unit's policy, once the init has made its device nodes (as the cgroup filter). */
export function setScopeDevices(s: ScopeRecord, state: DeviceRules): void {
  if (s.legacy && state.defaultAllow && state.exceptions.length > 0)
    warn(
      'linux.resources.devices: systemd has no form for a deny-list: its unit denies every device (as runc) and ' +
        "tsrun's devices.deny lines carry the rules; a systemctl daemon-reload leaves the container no device",
    );
  withSystemd(instanceOf(s), (sd) => sd.setUnitProperties(s.unit, deviceProperties(state, sd.version(), s.legacy)));
}

/** The cgroup of the user's systemd instance (user@UID.service): a rootless caller's slices are below it. */
export function userManagerCgroup(): string {
  return withSystemd('user', (sd) => String(sd.managerProperty('ControlGroup')));
}
