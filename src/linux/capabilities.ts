// Capability names ↔ numbers, and the masks the process's capability sets
// are built from.
import { readFileSync } from 'node:fs';
import type { LinuxCapabilities } from '../spec/types';

export const CAPS: Record<string, number> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
};

const HIGHEST_KNOWN = 40;

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
 * The mask for a list of names. An unknown name is a configuration error
 * reported at `where` (its JSON path); a known name this kernel lacks is in
 * the mask and left for the caller to report (runc ignores those with a warning).
 */
export function capMask(names: string[] | undefined, where: string): bigint {
  let mask = 0n;
  (names ?? []).forEach((name, i) => {
    const n = CAPS[name];
    if (n === undefined) throw new Error(`${where}[${i}]: unknown capability "${name}"`);
    mask |= 1n << BigInt(n);
  });
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
    const lacking = capMask(caps?.[set], `/process/capabilities/${set}`) & missing;
    if (lacking)
      out.push(
        `/process/capabilities/${set}: ${capNames(lacking).join(', ')} not in the capability bounding set ` +
          `tsrun runs with (CapBnd ${bounding.toString(16)}): ` +
          `no process it starts can have ${lacking & (lacking - 1n) ? 'them' : 'it'}`,
      );
  }
  return out;
}
