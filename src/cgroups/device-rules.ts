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

/** Letters other than r, w, m are ignored, as runc does (a warning names them). */
export function accessBits(access: string | undefined): number {
  let bits = 0;
  for (const ch of access ?? 'rwm') bits |= ACCESS[ch as keyof typeof ACCESS] ?? 0;
  return bits;
}

export function accessString(bits: number): string {
  return (bits & ACCESS.r ? 'r' : '') + (bits & ACCESS.w ? 'w' : '') + (bits & ACCESS.m ? 'm' : '');
}

const wild = (n: number | undefined | null) => (n === undefined || n === null || n < 0 ? -1 : n);

/**
 * Reduces the rules in order. A rule that would take access away from part
 * of an earlier wildcard exception (deny "c 10:229" after allow "c 10:*") is
 * reported through `refuse` and skipped: the v1 controller silently ignores
 * such a write, so the device would keep the wildcard's access; runc refuses
 * the config for the same reason. `label(i)` names rule i in that message.
 */
export function reduceDeviceRules(
  rules: LinuxDeviceCgroup[],
  refuse: (msg: string) => void = () => {},
  label: (i: number) => string = (i) => `rule ${i}`,
): DeviceState {
  const state: DeviceState = { defaultAllow: false, exceptions: [] };
  rules.forEach((rule, i) => {
    const type = rule.type ?? 'a';
    // "a" flips the default and forgets every exception whatever its
    // numbers: the kernel reads only the type letter of such a line, and
    // runc does the same.
    if (type === 'a') {
      state.defaultAllow = rule.allow;
      state.exceptions = [];
      return;
    }
    const e = { type, major: wild(rule.major), minor: wild(rule.minor), access: accessBits(rule.access) };
    const hole = rule.allow === state.defaultAllow ? wildcardCovering(state, e) : undefined;
    if (hole)
      refuse(
        `${label(i)} (${ruleText(rule.allow, e)}) would take access away from part of the wildcard rule ` +
          `"${v1Line(hole)}" before it: the v1 devices controller would silently ignore it (runc refuses it too)`,
      );
    else applyException(state, rule.allow, e);
  });
  return state;
}

const ruleText = (allow: boolean, e: DeviceException) => `${allow ? 'allow' : 'deny'} "${v1Line(e)}"`;

/** An exception with a wildcard where `e` has a number, sharing access bits with it. */
function wildcardCovering(state: DeviceState, e: DeviceException): DeviceException | undefined {
  return state.exceptions.find(
    (x) =>
      x.type === e.type &&
      (x.major !== e.major || x.minor !== e.minor) &&
      (x.major === -1 || x.major === e.major) &&
      (x.minor === -1 || x.minor === e.minor) &&
      (x.access & e.access) !== 0,
  );
}

function applyException(state: DeviceState, allow: boolean, e: DeviceException): void {
  const same = state.exceptions.find((x) => x.type === e.type && x.major === e.major && x.minor === e.minor);
  if (allow === state.defaultAllow) {
    // Agrees with the default: narrows an existing exception.
    if (same) {
      same.access &= ~e.access;
      if (same.access === 0) state.exceptions = state.exceptions.filter((x) => x !== same);
    }
  } else if (same) {
    same.access |= e.access;
  } else if (e.access !== 0) {
    state.exceptions.push(e);
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
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length === 1 && /^a \*:\* rwm$/.test(lines[0])) return { defaultAllow: true, exceptions: [] };
  const exceptions = lines.map((l) => {
    const [type, nums, acc] = l.split(' ');
    const [ma, mi] = nums.split(':');
    return {
      type: type as DevType,
      major: ma === '*' ? -1 : Number(ma),
      minor: mi === '*' ? -1 : Number(mi),
      access: accessBits(acc),
    };
  });
  return { defaultAllow: false, exceptions };
}

export function sameState(a: DeviceState, b: DeviceState): boolean {
  const key = (s: DeviceState) => JSON.stringify([s.defaultAllow, s.exceptions.map(v1Line).sort()]);
  return key(a) === key(b);
}
