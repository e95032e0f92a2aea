// The systemd cgroup driver's calls, one connection each: what the cgroup
// manager asks of systemd for a container's transient scope. Loaded only by
// the commands that meet such a container (cgroups/systemd-link.ts).
import { property, Systemd, type SystemdInstance, type UnitProperty } from './manager';
import type { AnnotationProperty } from './annotation-properties';
import { deviceProperties, resourceProperties, scopeProperties, type DeviceRules } from './unit-properties';

/** What state.json keeps of a container's unit. */
export interface ScopeRecord {
  unit: string;
  slice: string;
  /** The user's instance (rootless) rather than the system's. */
  user?: boolean;
  /** The name part of cgroupsPath (the container id by default): the unit's description says it. */
  name: string;
  /** From the org.systemd.property.* annotations, given to the unit after runc's own. */
  properties?: AnnotationProperty[];
}

/** A v2 file write of the plan (cgroups/plan.ts): the ones systemd has a property for become one. */
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
      ...scopeProperties(`libcontainer container ${s.name}`, s.slice, [pid]),
      ...(s.properties ?? []).map(fromAnnotation),
      ...resourceProperties(writes, sd.version()),
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
  withSystemd(instanceOf(s), (sd) => sd.setUnitProperties(s.unit, resourceProperties(writes, sd.version())));
}

/** The device rules as the unit's policy, once the init has made its device nodes (as the cgroup filter). */
export function setScopeDevices(s: ScopeRecord, state: DeviceRules): void {
  withSystemd(instanceOf(s), (sd) => sd.setUnitProperties(s.unit, deviceProperties(state, sd.version())));
}

/** The cgroup of the user's systemd instance (user@UID.service): a rootless caller's slices are below it. */
export function userManagerCgroup(): string {
  return withSystemd('user', (sd) => String(sd.managerProperty('ControlGroup')));
}
