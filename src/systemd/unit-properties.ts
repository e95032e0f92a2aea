// What a transient unit is told: runc's base properties (slice, delegation,
// accounting, the init's pid) and, for the limits systemd knows, the unit
// property that says the same as the cgroup v2 file the plan writes, so that
// systemd keeps the limit across a daemon-reload instead of resetting it.
// The files are written too (the rest has no property), as runc does.
import { property, type UnitProperty } from './manager';

const MAX_U64 = 0xffffffffffffffffn;
/** systemd rounds CPUQuotaPerSecUSec to 10 ms (runc's addCPUQuota). */
const QUOTA_STEP = 10_000n;

/** Slice, Delegate, accounting, no default dependencies, and the pids it starts with. */
export function scopeProperties(description: string, slice: string, pids: number[]): UnitProperty[] {
  return [
    property('Description', 's', description),
    property('Slice', 's', slice),
    property('Delegate', 'b', true),
    property('PIDs', 'au', pids),
    property('MemoryAccounting', 'b', true),
    property('CPUAccounting', 'b', true),
    property('IOAccounting', 'b', true),
    property('TasksAccounting', 'b', true),
    property('DefaultDependencies', 'b', false),
  ];
}

const u64 = (v: string): bigint => (v === 'max' ? MAX_U64 : BigInt(v));

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

/** cpu.max "QUOTA PERIOD" → CPUQuotaPerSecUSec (+ CPUQuotaPeriodUSec from systemd 242). */
function cpuMax(value: string, version: number): UnitProperty[] {
  const [quota, period = '100000'] = value.trim().split(/\s+/);
  const per = BigInt(period);
  const out = version >= 242 ? [property('CPUQuotaPeriodUSec', 't', per)] : [];
  let perSec = MAX_U64;
  if (quota !== 'max' && BigInt(quota) > 0n) {
    perSec = (BigInt(quota) * 1_000_000n) / per;
    if (perSec % QUOTA_STEP !== 0n) perSec = (perSec / QUOTA_STEP + 1n) * QUOTA_STEP;
  }
  return [...out, property('CPUQuotaPerSecUSec', 't', perSec)];
}

type Convert = (value: string, version: number) => UnitProperty[];

const u64Property =
  (name: string): Convert =>
  (v) => [property(name, 't', u64(v))];

/** cgroup v2 file → the unit property systemd knows for it (runc's unifiedResToSystemdProps). */
const BY_FILE: Record<string, Convert> = {
  'memory.max': u64Property('MemoryMax'),
  'memory.low': u64Property('MemoryLow'),
  'memory.min': u64Property('MemoryMin'),
  'memory.high': u64Property('MemoryHigh'),
  'memory.swap.max': u64Property('MemorySwapMax'),
  'cpu.weight': u64Property('CPUWeight'),
  'io.weight': (v) => (/^\d+$/.test(v.trim()) ? [property('IOWeight', 't', BigInt(v.trim()))] : []),
  // systemd refuses TasksMax=0.
  'pids.max': (v) => [property('TasksMax', 't', v === '0' ? 1n : u64(v))],
  'cpu.max': cpuMax,
  'cpuset.cpus': (v, version) => (version >= 244 ? [property('AllowedCPUs', 'ay', rangeToBits(v))] : []),
  'cpuset.mems': (v, version) => (version >= 244 ? [property('AllowedMemoryNodes', 'ay', rangeToBits(v))] : []),
  // cpu.idle 1 is CPUWeight=0 from systemd 252 (where both are set, idle wins, as in runc).
  'cpu.idle': (v, version) => (v.trim() === '1' && version >= 252 ? [property('CPUWeight', 't', 0n)] : []),
  'memory.oom.group': (v, version) =>
    version >= 253 ? [property('OOMPolicy', 's', v.trim() === '1' ? 'kill' : 'continue')] : [],
};

/** The unit properties for the v2 files a plan writes ({file, value} in write order). */
export function resourceProperties(writes: { file: string; value: string }[], version: number): UnitProperty[] {
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
 * runc then makes systemd deny everything (with a warning); tsrun leaves
 * the unit's policy alone and its own eBPF filter on the cgroup enforces the
 * rules (docs/conformance.md).
 */
export function deviceProperties(state: DeviceRules, version: number): UnitProperty[] {
  if (state.defaultAllow && state.exceptions.length > 0) return [];
  const reset = property('DeviceAllow', 'a(ss)', []);
  if (state.defaultAllow) return [reset, property('DevicePolicy', 's', 'auto')];
  const allow = state.exceptions.map((e) => deviceAllow(e, version)).filter((a) => a !== undefined);
  return [reset, property('DevicePolicy', 's', 'strict'), property('DeviceAllow', 'a(ss)', allow)];
}
