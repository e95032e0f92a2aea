// The device rules every container gets after its own, as runc does
// (specconv.AllowedDevices): mknod of anything, the standard character
// devices, ptys and tun. Without them a container on the deny-all default
// could not even open /dev/null.
import type { LinuxDeviceCgroup, LinuxResources } from '../spec/types';

const allow = (type: 'c' | 'b', major: number | undefined, minor: number | undefined, access: string): LinuxDeviceCgroup => ({
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

/** The container's rules (on top of "deny all"), then the defaults. */
export function withDefaultDeviceRules(resources: LinuxResources | undefined): LinuxResources {
  const r = { ...(resources ?? {}) };
  r.devices = [...(Array.isArray(r.devices) ? r.devices : []), ...DEFAULT_DEVICE_RULES];
  return r;
}
