// systemd's Manager over D-Bus, the calls runc's systemd cgroup driver makes:
// a transient scope started with the init's pid and its job awaited, its
// properties set, the unit stopped and its failure state reset.
import { existsSync } from 'node:fs';
import type { SignalMessage } from 'd-bus-message-protocol';
import { parseTypes } from 'd-bus-type-system';
import { DBusConnection, DBusError, type Call } from './dbus';

const SYSTEMD = { destination: 'org.freedesktop.systemd1', path: '/org/freedesktop/systemd1' };
const MANAGER = 'org.freedesktop.systemd1.Manager';
/** runc waits 30 s for a unit's job. */
const JOB_TIMEOUT_MS = 30_000;
/**
 * runc waits for a reply without limit; systemd answers nothing while it
 * reloads (seen for over 25 s under emulation): a generous bound, not none.
 */
const CALL_TIMEOUT_MS = 90_000;

/** A unit property as D-Bus carries it: name and variant (type and value). */
export type UnitProperty = [name: string, value: [type: unknown, value: unknown]];

/** A property of D-Bus type `signature` ("s", "b", "t", "au", "ay", "a(ss)"). */
export function property(name: string, signature: string, value: unknown): UnitProperty {
  return [name, [parseTypes(signature)[0], value]];
}

export class SystemdError extends Error {}

/** The system's instance, or the calling user's (a rootless caller, as runc). */
export type SystemdInstance = 'system' | 'user';

/**
 * An instance's own socket: no bus daemon in between, every signal sent
 * unasked. The user's is found through XDG_RUNTIME_DIR, which a login
 * session (and podman, for its runtime) sets: inside a user namespace the
 * uid would not name it.
 */
function privateSocket(instance: SystemdInstance): string {
  if (instance === 'system') return '/run/systemd/private';
  const dir = process.env.XDG_RUNTIME_DIR;
  if (!dir) throw new SystemdError("XDG_RUNTIME_DIR is not set: the user's systemd instance is found through it");
  return `${dir}/systemd/private`;
}

export class Systemd {
  private constructor(private bus: DBusConnection) {}

  /** Connects to the instance's private socket; says what is missing when systemd is not there. */
  static connect(instance: SystemdInstance): Systemd {
    if (!existsSync('/run/systemd/system'))
      throw new SystemdError('systemd is not the init system of this host (no /run/systemd/system)');
    const socket = privateSocket(instance);
    const who = instance === 'user' ? "the user's systemd instance" : 'systemd';
    try {
      return new Systemd(DBusConnection.open(socket, CALL_TIMEOUT_MS));
    } catch (err) {
      throw new SystemdError(`cannot reach ${who} at ${socket}: ${(err as Error).message}`);
    }
  }

  close(): void {
    this.bus.close();
  }

  private call(member: string, signature?: string, args?: unknown[]): unknown[] {
    const c: Call = { ...SYSTEMD, interface: MANAGER, member, signature, args };
    return this.bus.call(c, CALL_TIMEOUT_MS);
  }

  /** A property of the Manager ("Version", "ControlGroup"). */
  managerProperty(name: string): unknown {
    const [variant] = this.bus.call(
      {
        ...SYSTEMD,
        interface: 'org.freedesktop.DBus.Properties',
        member: 'Get',
        signature: 'ss',
        args: [MANAGER, name],
      },
      CALL_TIMEOUT_MS,
    );
    return (variant as [unknown, unknown])[1];
  }

  /** The major version ("252.19-1~deb12u1" → 252). */
  version(): number {
    return parseInt(String(this.managerProperty('Version')).replace(/^v/, ''), 10) || 0;
  }

  /**
   * StartTransientUnit, then its job's end. A unit of that name left failed
   * is reset and the start tried once more, as runc does.
   */
  startTransientUnit(name: string, properties: UnitProperty[]): void {
    let job: string;
    try {
      job = this.startJob(name, properties);
    } catch (err) {
      if (!(err instanceof DBusError) || err.errorName !== 'org.freedesktop.systemd1.UnitExists') throw err;
      this.resetFailedUnit(name);
      job = this.startJob(name, properties);
    }
    const result = this.jobResult(job, `StartTransientUnit(${name})`);
    if (result !== 'done') {
      this.resetFailedUnit(name);
      throw new SystemdError(`systemd could not start ${name}: the job ended "${result}"`);
    }
  }

  private startJob(name: string, properties: UnitProperty[]): string {
    return String(this.call('StartTransientUnit', 'ssa(sv)a(sa(sv))', [name, 'replace', properties, []])[0]);
  }

  /** StopUnit and its job's end; a unit systemd does not know is already stopped. */
  stopUnit(name: string): void {
    try {
      const [job] = this.call('StopUnit', 'ss', [name, 'replace']);
      this.jobResult(String(job), `StopUnit(${name})`);
    } catch (err) {
      if (!(err instanceof DBusError) || err.errorName !== 'org.freedesktop.systemd1.NoSuchUnit') throw err;
    }
    this.resetFailedUnit(name);
  }

  /** Runtime properties of a running unit (update). */
  setUnitProperties(name: string, properties: UnitProperty[]): void {
    if (properties.length > 0) this.call('SetUnitProperties', 'sba(sv)', [name, true, properties]);
  }

  /** Forgets a failed unit of that name; nothing to forget is not an error. */
  resetFailedUnit(name: string): void {
    try {
      this.call('ResetFailedUnit', 's', [name]);
    } catch (err) {
      if (!(err instanceof DBusError)) throw err;
    }
  }

  /** JobRemoved's result for the job ("done", "failed", "timeout"…). */
  private jobResult(job: string, what: string): string {
    const isJob = (s: SignalMessage) =>
      s.interfaceName === MANAGER && s.memberName === 'JobRemoved' && s.args?.[1] === job;
    return String(this.bus.waitSignal(isJob, JOB_TIMEOUT_MS, `the job of ${what}`).args?.[3]);
  }
}
