// The device-cgroup rule list reduced to what the kernel's v1 devices
// controller would hold after applying it in order: a default (allow or deny
// everything) plus exceptions. Both backends are driven from this one state:
// v1 writes it to devices.allow/deny, v2 compiles it into an eBPF program.
// Rules apply on top of "deny everything", as runc does.
import type { LinuxDeviceCgroup } from '../spec/types';

export const ACCESS = { m: 1, r: 2, w: 4 } as const; // BPF_DEVCG_ACC_* values
export const ALL_ACCESS = 7;

export type DevType = 'b' | 'c';

export interface DeviceException {
  type: DevType;
  major: number; // -1: any
  minor: number; // -1: any
  access: number; // ACCESS bits
}

export interface DeviceState {
  defaultAllow: boolean;
  exceptions: DeviceException[];
}

export function accessBits(access: string | undefined): number {
  let bits = 0;
  for (const ch of access ?? 'rwm') bits |= ACCESS[ch as keyof typeof ACCESS] ?? 0;
  return bits;
}

export function accessString(bits: number): string {
  return (bits & ACCESS.r ? 'r' : '') + (bits & ACCESS.w ? 'w' : '') + (bits & ACCESS.m ? 'm' : '');
}

const wild = (n: number | undefined | null) => (n === undefined || n === null || n < 0 ? -1 : n);

export function reduceDeviceRules(rules: LinuxDeviceCgroup[]): DeviceState {
  const state: DeviceState = { defaultAllow: false, exceptions: [] };
  for (const rule of rules) {
    const type = rule.type ?? 'a';
    const bits = accessBits(rule.access);
    const major = wild(rule.major);
    const minor = wild(rule.minor);
    // "a" with wildcards flips the default and forgets every exception, like
    // writing "a" to devices.allow/deny. "a" with a number is "any type".
    if (type === 'a' && major === -1 && minor === -1) {
      state.defaultAllow = rule.allow;
      state.exceptions = [];
      continue;
    }
    // "a" with a number means both block and char devices.
    for (const t of type === 'a' ? (['c', 'b'] as const) : [type]) applyException(state, rule.allow, t, major, minor, bits);
  }
  return state;
}

function applyException(state: DeviceState, allow: boolean, type: DevType, major: number, minor: number, bits: number): void {
  const same = state.exceptions.find((e) => e.type === type && e.major === major && e.minor === minor);
  if (allow === state.defaultAllow) {
    // Agrees with the default: narrows an existing exception.
    if (same) {
      same.access &= ~bits;
      if (same.access === 0) state.exceptions = state.exceptions.filter((e) => e !== same);
    }
  } else if (same) {
    same.access |= bits;
  } else if (bits !== 0) {
    state.exceptions.push({ type, major, minor, access: bits });
  }
}

/** A v1 devices.allow/devices.deny line: "c 1:3 rwm", "b *:* m". */
export function v1Line(e: DeviceException): string {
  const n = (x: number) => (x < 0 ? '*' : String(x));
  return `${e.type} ${n(e.major)}:${n(e.minor)} ${accessString(e.access)}`;
}

/** Would the kernel let `access` on (type, major, minor) through? (for tests and checks) */
export function permits(state: DeviceState, type: DevType, major: number, minor: number, access: number): boolean {
  const hits = state.exceptions.filter(
    (e) => e.type === type && (e.major < 0 || e.major === major) && (e.minor < 0 || e.minor === minor),
  );
  if (state.defaultAllow) return !hits.some((e) => (e.access & access) !== 0);
  return hits.some((e) => (access & ~e.access) === 0);
}

/** Parses devices.list (what a v1 cgroup currently holds). */
export function parseDevicesList(text: string): DeviceState {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length === 1 && /^a \*:\* rwm$/.test(lines[0])) return { defaultAllow: true, exceptions: [] };
  const exceptions = lines.map((l) => {
    const [type, nums, acc] = l.split(' ');
    const [ma, mi] = nums.split(':');
    return { type: type as DevType, major: ma === '*' ? -1 : Number(ma), minor: mi === '*' ? -1 : Number(mi), access: accessBits(acc) };
  });
  return { defaultAllow: false, exceptions };
}

export function sameState(a: DeviceState, b: DeviceState): boolean {
  const key = (s: DeviceState) => JSON.stringify([s.defaultAllow, s.exceptions.map(v1Line).sort()]);
  return key(a) === key(b);
}
