// Capability names ↔ numbers, and the masks the process's capability sets
// are built from.
import { readFileSync } from 'node:fs';
import type { LinuxCapabilities } from '../spec/types';
import { CAPABILITY_NAMES } from '../spec/capabilities';

export const CAPS: Record<string, number> = Object.fromEntries(CAPABILITY_NAMES.map((name, n) => [name, n]));

const HIGHEST_KNOWN = CAPABILITY_NAMES.length - 1;

// Read when this module loads, i.e. before the init pivots into a rootfs
// that may have no /proc.
function readLastCap(): number {
  try {
    const n = parseInt(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'), 10);
    if (Number.isInteger(n) && n >= 0) return n;
  } catch {
    // Kernels before 3.2 lack the file; fall through to the names we know.
  }
  return HIGHEST_KNOWN;
}
const LAST_CAP = readLastCap();

/** The highest capability number this kernel knows. */
export function lastCap(): number {
  return LAST_CAP;
}

/** Every capability this kernel supports, as a mask. */
export function supportedMask(): bigint {
  return (1n << BigInt(LAST_CAP + 1)) - 1n;
}

/**
 * The mask for a list of names. A name tsrun does not know is left out and a
 * known one this kernel lacks is in: the config check warned about both
 * (spec/capabilities.ts capabilityWarnings), as runc ignores them.
 */
export function capMask(names: string[] | undefined): bigint {
  let mask = 0n;
  for (const name of names ?? []) {
    const n = Object.hasOwn(CAPS, name) ? CAPS[name] : undefined;
    if (n !== undefined) mask |= 1n << BigInt(n);
  }
  return mask;
}

/** Names of the capabilities in a mask, lowest first (for messages and tests). */
export function capNames(mask: bigint): string[] {
  return Object.entries(CAPS)
    .filter(([, n]) => (mask >> BigInt(n)) & 1n)
    .map(([name]) => name);
}

/** The bounding set this process runs with: no process it starts can ever hold more. */
export function ownBoundingMask(): bigint {
  const hex = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return hex === undefined ? supportedMask() : BigInt(`0x${hex}`);
}

/**
 * Capabilities a config asks for that this process's bounding set lacks
 * (runc fails create with "unable to apply caps"): one message per set. The
 * bounding list itself only limits, so a cap missing there asks for nothing.
 */
export function unattainableCaps(caps: LinuxCapabilities | undefined): string[] {
  const bounding = ownBoundingMask();
  const missing = supportedMask() & ~bounding;
  const out: string[] = [];
  for (const set of ['effective', 'permitted', 'inheritable', 'ambient'] as const) {
    const lacking = capMask(caps?.[set]) & missing;
    if (lacking)
      out.push(
        `/process/capabilities/${set}: ${capNames(lacking).join(', ')} not in the capability bounding set ` +
          `tsrun runs with (CapBnd ${bounding.toString(16)}): ` +
          `no process it starts can have ${lacking & (lacking - 1n) ? 'them' : 'it'}`,
      );
  }
  return out;
}
