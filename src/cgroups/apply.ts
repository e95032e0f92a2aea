// Carrying out a plan: the writes, in two passes (a value the kernel
// rejects only because of ordering — memsw below the new memory limit, a
// quota above the new period — succeeds once the others are in), then the
// device rules. If anything still fails, every restorable file is put back
// as it was, so a rejected update leaves the previous limits in place.
import { debug } from '../log';
import { CgroupError, cgRead, cgTryRead, cgWrite } from './files';
import type { Plan, Write } from './plan';
import { parseDevicesList, sameState, v1Line, type DeviceState } from './device-rules';
import { attachDeviceFilter } from './device-filter';

const SKIPPABLE = new Set(['ENOENT', 'EOPNOTSUPP', 'ENOTSUP', 'EINVAL']);

interface Failure {
  write: Write;
  err: CgroupError;
}

function writeAll(writes: Write[]): Failure[] {
  let pending = writes;
  let failed: Failure[] = [];
  for (let pass = 0; pass < 2 && pending.length > 0; pass++) {
    failed = [];
    for (const w of pending) {
      try {
        cgWrite(w.dir, w.file, w.value, w.where);
      } catch (err) {
        const e = err as CgroupError;
        if (w.optional && SKIPPABLE.has(e.code ?? '')) {
          debug(`${w.where}: ignored, ${w.optional} (${e.message})`);
          continue;
        }
        failed.push({ write: w, err: e });
      }
    }
    pending = failed.map((f) => f.write);
  }
  return failed;
}

/** The kernel's refusal in the plan's words when it has some for that errno (which device is missing…). */
function explained({ write, err }: Failure): CgroupError {
  const why = err.code ? write.why?.[err.code] : undefined;
  if (!why) return err;
  const detail = err.message.startsWith(`${write.where}: `) ? err.message.slice(write.where.length + 2) : err.message;
  return new CgroupError(`${write.where}: ${why} (${detail})`, err.code);
}

/** Every write of the plan; the device rules too unless `devices` is false (see CgroupManager.apply). */
export function applyPlan(plan: Plan, devices = true): void {
  for (const line of plan.ignored) debug(line);
  const snapshot: Write[] = [];
  const seen = new Set<string>();
  for (const w of plan.writes) {
    const key = `${w.dir}/${w.file}`;
    if (!w.restorable || seen.has(key)) continue;
    seen.add(key);
    const value = cgTryRead(w.dir, w.file)?.trim();
    if (value !== undefined && !value.includes('\n')) snapshot.push({ ...w, value, optional: 'restoring' });
  }
  const failed = writeAll(plan.writes);
  if (failed.length > 0) {
    writeAll(snapshot.reverse());
    throw explained(failed[0]);
  }
  if (devices && plan.devices) applyDevices(plan.devices.version, plan.devices.dir, plan.devices.state);
}

export function applyDevices(version: 1 | 2, dir: string, state: DeviceState): void {
  if (version === 2) {
    attachDeviceFilter(dir, state);
    return;
  }
  // Rewriting an identical list would open a moment of "deny all" for nothing.
  if (sameState(parseDevicesList(cgRead(dir, 'devices.list')), state)) return;
  const where = 'linux.resources.devices';
  cgWrite(dir, state.defaultAllow ? 'devices.allow' : 'devices.deny', 'a', where);
  const file = state.defaultAllow ? 'devices.deny' : 'devices.allow';
  for (const e of state.exceptions) cgWrite(dir, file, v1Line(e), where);
}
