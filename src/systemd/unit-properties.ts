// What a transient unit is told: runc's base properties (slice, delegation,
// accounting, the init's pid) and, for the limits systemd knows, the unit
// property that says the same as the cgroup file the plan writes, so that
// systemd keeps the limit across a daemon-reload instead of resetting it.
// The files are written too (the rest has no property), as runc does. On a
// v1 or hybrid host ("legacy") the names are v1's, as in runc's legacy driver
// (genV1ResourcesProperties): MemoryLimit, CPUShares, BlockIOWeight.
import { property, type UnitProperty } from './manager';

const MAX_U64 = 0xffffffffffffffffn;
/** systemd rounds CPUQuotaPerSecUSec to 10 ms (runc's addCPUQuota). */
const QUOTA_STEP = 10_000n;

/** Slice, Delegate, accounting, no default dependencies, and the pids it starts with. */
export function scopeProperties(description: string, slice: string, pids: number[], legacy = false): UnitProperty[] {
  return [
    property('Description', 's', description),
    property('Slice', 's', slice),
    property('Delegate', 'b', true),
    property('PIDs', 'au', pids),
    property('MemoryAccounting', 'b', true),
    property('CPUAccounting', 'b', true),
    property(legacy ? 'BlockIOAccounting' : 'IOAccounting', 'b', true),
    property('TasksAccounting', 'b', true),
    property('DefaultDependencies', 'b', false),
  ];
}

/** "max" (v2) and "-1" (v1) are no limit: systemd's infinity. */
const u64 = (v: string): bigint => (v.trim() === 'max' || v.trim() === '-1' ? MAX_U64 : BigInt(v.trim()));

/** "0-2,4" → systemd's CPU/node bitmask, byte by byte, lowest cpu first. */
export function rangeToBits(list: string): number[] {
  const bytes: number[] = [];
  for (const part of list.split(',').filter((p) => p.trim() !== '')) {
    const [lo, hi = lo] = part.split('-').map((n) => Number(n.trim()));
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo > hi) throw new Error(`bad cpu list "${list}"`);
    for (let i = lo; i <= hi; i++) {
      while (bytes.length <= i >> 3) bytes.push(0);
      bytes[i >> 3] |= 1 << (i & 7);
    }
  }
  return bytes;
}

/**
 * A quota and a period (µs; quota "max" or -1: none; period absent: the
 * kernel's 100 ms) → CPUQuotaPerSecUSec, rounded up to systemd's 10 ms, and
 * the period as CPUQuotaPeriodUSec from systemd 242 when there is one.
 */
function cpuQuota(quota: string | undefined, period: string | undefined, version: number): UnitProperty[] {
  const per = BigInt(period ?? '100000');
  const out = version >= 242 && period !== undefined ? [property('CPUQuotaPeriodUSec', 't', per)] : [];
  let perSec = MAX_U64;
  if (quota !== undefined && u64(quota) !== MAX_U64 && BigInt(quota) > 0n) {
    perSec = (BigInt(quota) * 1_000_000n) / per;
    if (perSec % QUOTA_STEP !== 0n) perSec = (perSec / QUOTA_STEP + 1n) * QUOTA_STEP;
  }
  return [...out, property('CPUQuotaPerSecUSec', 't', perSec)];
}

/** cpu.max "QUOTA PERIOD" (the kernel always shows both). */
function cpuMax(value: string, version: number): UnitProperty[] {
  const [quota, period = '100000'] = value.trim().split(/\s+/);
  return cpuQuota(quota, period, version);
}

type Convert = (value: string, version: number) => UnitProperty[];

const u64Property =
  (name: string): Convert =>
  (v) => [property(name, 't', u64(v))];

const plainWeight =
  (name: string): Convert =>
  (v) =>
    /^\d+$/.test(v.trim()) ? [property(name, 't', BigInt(v.trim()))] : [];

const tasksMax: Convert = (v) => [property('TasksMax', 't', v.trim() === '0' ? 1n : u64(v))];
const allowed =
  (name: string): Convert =>
  (v, version) =>
    version >= 244 ? [property(name, 'ay', rangeToBits(v))] : [];

/** cgroup v2 file → the unit property systemd knows for it (runc's unifiedResToSystemdProps). */
const BY_FILE: Record<string, Convert> = {
  'memory.max': u64Property('MemoryMax'),
  'memory.low': u64Property('MemoryLow'),
  'memory.min': u64Property('MemoryMin'),
  'memory.high': u64Property('MemoryHigh'),
  'memory.swap.max': u64Property('MemorySwapMax'),
  'cpu.weight': u64Property('CPUWeight'),
  'io.weight': plainWeight('IOWeight'),
  // systemd refuses TasksMax=0.
  'pids.max': tasksMax,
  'cpu.max': cpuMax,
  'cpuset.cpus': allowed('AllowedCPUs'),
  'cpuset.mems': allowed('AllowedMemoryNodes'),
  // cpu.idle 1 is CPUWeight=0 from systemd 252 (where both are set, idle wins, as in runc).
  'cpu.idle': (v, version) => (v.trim() === '1' && version >= 252 ? [property('CPUWeight', 't', 0n)] : []),
  'memory.oom.group': (v, version) =>
    version >= 253 ? [property('OOMPolicy', 's', v.trim() === '1' ? 'kill' : 'continue')] : [],
};

/**
 * cgroup v1 file → the unit property systemd knows for it (runc's
 * genV1ResourcesProperties); the cpu quota and period are one pair
 * (legacyResourceProperties). systemd has AllowedCPUs only for v2's cpuset:
 * on v1 it keeps the value and the file carries the limit, as with runc.
 */
const BY_V1_FILE: Record<string, Convert> = {
  'memory.limit_in_bytes': u64Property('MemoryLimit'),
  'cpu.shares': u64Property('CPUShares'),
  'blkio.weight': plainWeight('BlockIOWeight'),
  'blkio.bfq.weight': plainWeight('BlockIOWeight'),
  'pids.max': tasksMax,
  'cpuset.cpus': allowed('AllowedCPUs'),
  'cpuset.mems': allowed('AllowedMemoryNodes'),
};

type FileWrites = { file: string; value: string }[];

function legacyResourceProperties(writes: FileWrites, version: number): UnitProperty[] {
  const byName = new Map<string, UnitProperty>();
  for (const w of writes) for (const p of BY_V1_FILE[w.file]?.(w.value, version) ?? []) byName.set(p[0], p);
  const last = (file: string) => writes.filter((w) => w.file === file).at(-1)?.value;
  const [quota, period] = [last('cpu.cfs_quota_us'), last('cpu.cfs_period_us')];
  if (quota !== undefined || period !== undefined)
    for (const p of cpuQuota(quota, period, version)) byName.set(p[0], p);
  return [...byName.values()];
}

/**
 * The unit properties for the files a plan writes ({file, value} in write
 * order): v2's, or v1's on a legacy (v1 or hybrid) host.
 */
export function resourceProperties(writes: FileWrites, version: number, legacy = false): UnitProperty[] {
  if (legacy) return legacyResourceProperties(writes, version);
  const byName = new Map<string, UnitProperty>();
  const idle = writes.some((w) => w.file === 'cpu.idle' && w.value.trim() === '1') && version >= 252;
  for (const w of writes) {
    if (idle && w.file === 'cpu.weight') continue;
    for (const p of BY_FILE[w.file]?.(w.value, version) ?? []) byName.set(p[0], p);
  }
  return [...byName.values()];
}

/** The device rules reduced to a default and its exceptions (cgroups/device-rules.ts), access as "rwm". */
export interface DeviceRules {
  defaultAllow: boolean;
  exceptions: { type: 'b' | 'c'; major: number; minor: number; access: string }[];
}

/** A DeviceAllow entry for one allowed exception, or undefined where systemd has no way to say it. */
function deviceAllow(e: DeviceRules['exceptions'][number], version: number): [string, string] | undefined {
  const group = e.type === 'c' ? 'char-' : 'block-';
  let path: string;
  if (e.major < 0) {
    if (e.minor >= 0) return undefined; // "*:N" (runc warns and leaves it to the cgroup's own filter)
    path = `${group}*`;
  } else if (e.minor < 0) {
    if (version < 240) return undefined; // "char-MAJOR" needs systemd 240
    path = `${group}${e.major}`;
  } else path = `/dev/${e.type === 'c' ? 'char' : 'block'}/${e.major}:${e.minor}`;
  return [path, e.access];
}

/**
 * The device rules as DevicePolicy and DeviceAllow (runc's systemd device
 * properties), the list reset first. An allow-list becomes "strict" with
 * its entries; allow-everything is "auto". A deny-list has no systemd form:
 * runc then makes systemd deny everything (with a warning). On v2 tsrun
 * leaves the unit's policy alone, its own eBPF filter on the cgroup enforcing
 * the rules (docs/conformance.md); on v1 the unit and tsrun share one
 * devices.list, where "auto" would be systemd writing "allow all" over the
 * rules at its next reload: there tsrun does as runc.
 */
export function deviceProperties(state: DeviceRules, version: number, legacy = false): UnitProperty[] {
  const reset = property('DeviceAllow', 'a(ss)', []);
  if (state.defaultAllow && state.exceptions.length > 0)
    return legacy ? [reset, property('DevicePolicy', 's', 'strict')] : [];
  if (state.defaultAllow) return [reset, property('DevicePolicy', 's', 'auto')];
  const allow = state.exceptions.map((e) => deviceAllow(e, version)).filter((a) => a !== undefined);
  return [reset, property('DevicePolicy', 's', 'strict'), property('DeviceAllow', 'a(ss)', allow)];
}
