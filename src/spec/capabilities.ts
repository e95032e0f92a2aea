// Linux capability names, indexed by their number (linux/capability.h), and
// which names of a config can be granted on this kernel.
import { readFileSync } from 'node:fs';
import type { LinuxCapabilities } from './types';

export const CAPABILITY_NAMES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

const readCapLastCap = () => readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8');

/** Capabilities the running kernel knows (up to /proc/sys/kernel/cap_last_cap): `tsrun features` lists these. */
export function kernelCapabilities(readLastCap: () => string = readCapLastCap): string[] {
  let last = Number.NaN;
  try {
    last = Number.parseInt(readLastCap(), 10);
  } catch {
    // Kernels before 3.2 lack the file: every name tsrun knows.
  }
  if (!Number.isInteger(last)) return [...CAPABILITY_NAMES];
  return CAPABILITY_NAMES.slice(0, last + 1);
}

const CAPABILITY_SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;

/**
 * The names of `caps` that cannot be granted here, one warning each at its
 * JSON pointer below `base`. config.md (since v1.1): "Any value which cannot
 * be mapped to a relevant kernel interface, or cannot be granted otherwise
 * MUST be logged as a warning by the runtime. Runtimes SHOULD NOT fail if the
 * container configuration requests capabilities that cannot be granted".
 * runc ignores them with "ignoring unknown or unavailable capabilities", and
 * engines send lists made for newer kernels; the rest are granted.
 */
export function capabilityWarnings(
  caps: LinuxCapabilities | undefined,
  base: string,
  available: readonly string[] = kernelCapabilities(),
): { path: string; message: string }[] {
  const usable = new Set(available);
  return CAPABILITY_SETS.flatMap((set) =>
    (caps?.[set] ?? []).flatMap((name, i) =>
      usable.has(name)
        ? []
        : [
            {
              path: `${base}/${set}/${i}`,
              message: `ignoring unknown or unavailable capabilities: ${why(name, available)}`,
            },
          ],
    ),
  );
}

function why(name: string, available: readonly string[]): string {
  if (CAPABILITY_NAMES.includes(name))
    return `${name} is not available on this kernel (its last capability is ${available.at(-1) ?? 'none'})`;
  // What runc also ignores: a lower-case name, or one without the prefix.
  const upper = name.toUpperCase();
  const meant = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  const hint = CAPABILITY_NAMES.includes(meant) ? ` (names are upper case and start with CAP_: ${meant})` : '';
  return `${JSON.stringify(name)} is not a capability name tsrun knows${hint}`;
}
