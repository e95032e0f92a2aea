// Static checks of linux.resources, before anything is created. Every
// message starts with the JSON path of the offending value.
import type { LinuxResources } from '../spec/types';

type LinuxThrottleDevice = { major: number; minor: number; rate: number };
import { unifiedKeyProblem } from './unified-keys';

const MAX_INT64 = 2n ** 63n - 1n;

type Errors = string[];

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function int(errs: Errors, where: string, v: unknown, min: number, max?: number): void {
  if (v === undefined) return;
  if (!isInt(v)) {
    errs.push(`${where}: ${JSON.stringify(v)} is not an integer`);
  } else if (v < min) {
    errs.push(`${where}: ${v} is below the minimum ${min}`);
  } else if (max !== undefined && v > max) {
    errs.push(`${where}: ${v} is above the maximum ${max}`);
  } else if (BigInt(v) > MAX_INT64) {
    errs.push(`${where}: ${v} is out of range`);
  }
}

/** A byte count: -1 (unlimited) or a positive number. */
function bytes(errs: Errors, where: string, v: unknown): void {
  if (v === undefined) return;
  int(errs, where, v, -1);
  if (v === 0) return; // 0 means "leave as is", as in runc
}

/** A cpuset list: "0-3,5,7-8", ascending ranges. */
export function isCpuList(s: string): boolean {
  if (s === '') return true;
  return s.split(',').every((part) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    return m !== null && (m[2] === undefined || Number(m[1]) <= Number(m[2]));
  });
}

/** "2MB", "1GB", "64KB" — the hugetlb size names the kernel uses in file names. */
export const PAGE_SIZE_RE = /^[1-9]\d*(KB|MB|GB|TB|PB)$/;

export function validateResources(resources: LinuxResources | undefined, where = 'linux.resources'): string[] {
  const errs: Errors = [];
  if (resources === undefined || resources === null) return errs;
  if (typeof resources !== 'object') return [`${where}: not an object`];
  const r = resources;
  if (r.memory) validateMemory(errs, r.memory, `${where}.memory`);
  if (r.cpu) validateCpu(errs, r.cpu, `${where}.cpu`);
  if (r.pids) int(errs, `${where}.pids.limit`, r.pids.limit, -1);
  if (r.blockIO) validateBlockIO(errs, r.blockIO, `${where}.blockIO`);
  validateHugepages(errs, r.hugepageLimits ?? [], where);
  if (r.network) validateNetwork(errs, r.network, `${where}.network`);
  validateRdma(errs, r.rdma ?? {}, where);
  validateUnified(errs, r.unified ?? {}, where);
  validateDevices(errs, r.devices ?? [], where);
  return errs;
}

type Resources = NonNullable<LinuxResources>;

function validateMemory(errs: Errors, m: NonNullable<Resources['memory']>, w: string): void {
  bytes(errs, `${w}.limit`, m.limit);
  bytes(errs, `${w}.reservation`, m.reservation);
  bytes(errs, `${w}.swap`, m.swap);
  bytes(errs, `${w}.kernel`, m.kernel);
  bytes(errs, `${w}.kernelTCP`, m.kernelTCP);
  int(errs, `${w}.swappiness`, m.swappiness, 0, 100);
  if (isInt(m.swap) && m.swap > 0) {
    if (!isInt(m.limit) || m.limit <= 0) {
      errs.push(`${w}.swap: a memory+swap limit (${m.swap}) needs a memory limit (${w}.limit)`);
    } else if (m.swap < m.limit) {
      errs.push(
        `${w}.swap: ${m.swap} is below ${w}.limit ${m.limit} ` +
          '(swap is the memory+swap limit, so it must be at least the memory limit)',
      );
    }
  }
  if (isInt(m.reservation) && m.reservation > 0 && isInt(m.limit) && m.limit > 0 && m.reservation > m.limit) {
    errs.push(`${w}.reservation: ${m.reservation} is above ${w}.limit ${m.limit}`);
  }
  for (const k of ['disableOOMKiller', 'useHierarchy', 'checkBeforeUpdate'] as const) {
    if (m[k] !== undefined && typeof m[k] !== 'boolean') errs.push(`${w}.${k}: not a boolean`);
  }
}

function validateCpu(errs: Errors, c: NonNullable<Resources['cpu']>, w: string): void {
  int(errs, `${w}.shares`, c.shares, 0, 262144);
  if (isInt(c.shares) && c.shares === 1) errs.push(`${w}.shares: 1 is below the minimum 2`);
  int(errs, `${w}.quota`, c.quota, -1);
  if (isInt(c.quota) && c.quota > 0 && c.quota < 1000)
    errs.push(`${w}.quota: ${c.quota} is below the kernel's minimum 1000 (µs)`);
  int(errs, `${w}.period`, c.period, 0, 1000000);
  if (isInt(c.period) && c.period > 0 && c.period < 1000)
    errs.push(`${w}.period: ${c.period} is below the kernel's minimum 1000 (µs)`);
  int(errs, `${w}.burst`, c.burst, 0);
  if (isInt(c.burst) && c.burst > 0 && isInt(c.quota) && c.quota > 0 && c.burst > c.quota) {
    errs.push(`${w}.burst: ${c.burst} is above ${w}.quota ${c.quota}`);
  }
  int(errs, `${w}.realtimeRuntime`, c.realtimeRuntime, -1);
  int(errs, `${w}.realtimePeriod`, c.realtimePeriod, 0);
  if (
    isInt(c.realtimeRuntime) &&
    isInt(c.realtimePeriod) &&
    c.realtimePeriod > 0 &&
    c.realtimeRuntime > c.realtimePeriod
  ) {
    errs.push(`${w}.realtimeRuntime: ${c.realtimeRuntime} is above ${w}.realtimePeriod ${c.realtimePeriod}`);
  }
  for (const k of ['cpus', 'mems'] as const) {
    const v = c[k];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !isCpuList(v)) errs.push(`${w}.${k}: ${JSON.stringify(v)} is not a list like "0-3,5"`);
  }
  int(errs, `${w}.idle`, c.idle, 0, 1);
}

function validateBlockIO(errs: Errors, b: NonNullable<Resources['blockIO']>, w: string): void {
  const weight = (p: string, v: unknown) => {
    int(errs, p, v, 0, 1000);
    if (isInt(v) && v > 0 && v < 10) errs.push(`${p}: ${v} is below the minimum 10`);
  };
  weight(`${w}.weight`, b.weight);
  weight(`${w}.leafWeight`, b.leafWeight);
  const device = (p: string, d: { major: number; minor: number }) => {
    int(errs, `${p}.major`, d.major, 0);
    int(errs, `${p}.minor`, d.minor, 0);
  };
  (b.weightDevice ?? []).forEach((d, i) => {
    const p = `${w}.weightDevice[${i}]`;
    device(p, d);
    weight(`${p}.weight`, d.weight);
    weight(`${p}.leafWeight`, d.leafWeight);
  });
  for (const k of [
    'throttleReadBpsDevice',
    'throttleWriteBpsDevice',
    'throttleReadIOPSDevice',
    'throttleWriteIOPSDevice',
  ] as const) {
    ((b[k] ?? []) as LinuxThrottleDevice[]).forEach((d, i) => {
      const p = `${w}.${k}[${i}]`;
      device(p, d);
      int(errs, `${p}.rate`, d.rate, 0);
    });
  }
}

function validateHugepages(errs: Errors, limits: NonNullable<Resources['hugepageLimits']>, where: string): void {
  limits.forEach((h, i) => {
    const p = `${where}.hugepageLimits[${i}]`;
    if (typeof h.pageSize !== 'string' || !PAGE_SIZE_RE.test(h.pageSize)) {
      errs.push(`${p}.pageSize: ${JSON.stringify(h.pageSize)} is not a size like "2MB" or "1GB"`);
    }
    int(errs, `${p}.limit`, h.limit, 0);
  });
}

function validateNetwork(errs: Errors, n: NonNullable<Resources['network']>, w: string): void {
  int(errs, `${w}.classID`, n.classID, 0, 0xffffffff);
  (n.priorities ?? []).forEach((p, i) => {
    const at = `${w}.priorities[${i}]`;
    if (typeof p.name !== 'string' || !/^[^\s/]{1,15}$/.test(p.name))
      errs.push(`${at}.name: ${JSON.stringify(p.name)} is not an interface name`);
    int(errs, `${at}.priority`, p.priority, 0, 0xffffffff);
  });
}

function validateRdma(errs: Errors, rdma: NonNullable<Resources['rdma']>, where: string): void {
  for (const [dev, v] of Object.entries(rdma)) {
    const w = `${where}.rdma[${JSON.stringify(dev)}]`;
    if (!/^[^\s]+$/.test(dev)) errs.push(`${w}: not a device name`);
    if (!v) continue;
    int(errs, `${w}.hcaHandles`, v.hcaHandles, 0, 0xffffffff);
    int(errs, `${w}.hcaObjects`, v.hcaObjects, 0, 0xffffffff);
  }
}

function validateUnified(errs: Errors, unified: NonNullable<Resources['unified']>, where: string): void {
  for (const [key, v] of Object.entries(unified)) {
    const w = `${where}.unified[${JSON.stringify(key)}]`;
    const problem = unifiedKeyProblem(key);
    if (problem) errs.push(`${w}: ${problem}`);
    else if (typeof v !== 'string') errs.push(`${w}: the value must be a string`);
    else if (/[\n\0]/.test(v) && !key.endsWith('.max') && !key.startsWith('io.'))
      errs.push(`${w}: the value has a newline or NUL`);
  }
}

function validateDevices(errs: Errors, devices: NonNullable<Resources['devices']>, where: string): void {
  devices.forEach((d, i) => {
    const w = `${where}.devices[${i}]`;
    if (typeof d.allow !== 'boolean') errs.push(`${w}.allow: must be true or false`);
    if (d.type !== undefined && !['a', 'b', 'c'].includes(d.type))
      errs.push(`${w}.type: ${JSON.stringify(d.type)} is not one of "a", "b", "c"`);
    for (const k of ['major', 'minor'] as const) {
      const v = d[k];
      if (v === undefined || v === null || v === -1) continue;
      int(errs, `${w}.${k}`, v, 0, 0xfffff);
    }
    // Letters other than r, w, m are ignored with a warning (spec/semantics.ts), as runc ignores them.
    if (d.access !== undefined && typeof d.access !== 'string') errs.push(`${w}.access: must be a string`);
  });
}
