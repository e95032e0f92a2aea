// The systemd driver (D-Bus and its codec) is loaded only by a command that
// uses it: create and run with --systemd-cgroup, delete and update of a
// container in a systemd scope. They load it before their synchronous work;
// the cgroup code then reaches it here.
import type * as Driver from '../systemd/driver';

let driver: typeof Driver | undefined;

export async function loadSystemdDriver(): Promise<void> {
  driver ??= await import('../systemd/driver');
}

/** Loads the driver when a saved cgroup is in a systemd unit. */
export async function loadSystemdDriverFor(saved: { cgroup?: { systemd?: unknown } } | undefined): Promise<void> {
  if (saved?.cgroup?.systemd) await loadSystemdDriver();
}

export function systemdDriver(): typeof Driver {
  if (!driver) throw new Error('internal error: the systemd cgroup driver was not loaded');
  return driver;
}
