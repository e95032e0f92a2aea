// The device rules every container gets after its own, as runc does
// (specconv.AllowedDevices): mknod of anything, the standard character
// devices, ptys and tun. Without them a container on the deny-all default
// could not even open /dev/null. The list is the same in runc 1.1.5 and in
// 1.2.4 through 1.4: runc 1.2.0-1.2.3 left tun out, and 1.2.4 put it back
// because containers that mknod it themselves broke (docs/conformance.md).
import type { LinuxDeviceCgroup, LinuxResources } from '../spec/types';

const allow = (
  type: 'c' | 'b',
  major: number | undefined,
  minor: number | undefined,
  access: string,
): LinuxDeviceCgroup => ({
  allow: true,
  type,
  ...(major === undefined ? {} : { major }),
  ...(minor === undefined ? {} : { minor }),
  access,
});

export const DEFAULT_DEVICE_RULES: readonly LinuxDeviceCgroup[] = [
  allow('c', undefined, undefined, 'm'),
  allow('b', undefined, undefined, 'm'),
  allow('c', 1, 3, 'rwm'), // /dev/null
  allow('c', 1, 8, 'rwm'), // /dev/random
  allow('c', 1, 7, 'rwm'), // /dev/full
  allow('c', 5, 0, 'rwm'), // /dev/tty
  allow('c', 1, 5, 'rwm'), // /dev/zero
  allow('c', 1, 9, 'rwm'), // /dev/urandom
  allow('c', 136, undefined, 'rwm'), // /dev/pts/*
  allow('c', 5, 2, 'rwm'), // /dev/ptmx
  allow('c', 10, 200, 'rwm'), // /dev/net/tun
];

/** The default rules that belong to a node of runc's default set, by its path. */
const RULE_OF_DEFAULT_NODE: Record<string, LinuxDeviceCgroup> = {
  '/dev/null': DEFAULT_DEVICE_RULES[2],
  '/dev/random': DEFAULT_DEVICE_RULES[3],
  '/dev/full': DEFAULT_DEVICE_RULES[4],
  '/dev/tty': DEFAULT_DEVICE_RULES[5],
  '/dev/zero': DEFAULT_DEVICE_RULES[6],
  '/dev/urandom': DEFAULT_DEVICE_RULES[7],
};

/** Is this one of the appended defaults (the same object, not an equal rule)? For messages. */
export function isDefaultDeviceRule(rule: LinuxDeviceCgroup | undefined): boolean {
  return rule !== undefined && DEFAULT_DEVICE_RULES.includes(rule);
}

/**
 * The container's rules (on top of "deny all"), then the defaults. Like
 * runc, a default node that linux.devices replaces (same path) loses its
 * default rule too: the config's own rules decide whether it can be opened.
 */
export function withDefaultDeviceRules(
  resources: LinuxResources | undefined,
  devicePaths: readonly string[] = [],
): LinuxResources {
  const r = { ...(resources ?? {}) };
  const replaced = new Set(devicePaths.map((p) => RULE_OF_DEFAULT_NODE[p]).filter(Boolean));
  r.devices = [...(Array.isArray(r.devices) ? r.devices : []), ...DEFAULT_DEVICE_RULES.filter((d) => !replaced.has(d))];
  return r;
}
