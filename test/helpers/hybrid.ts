// For the tests that run inside the test VM booted in hybrid cgroup mode
// (test/vm-hybrid/, the second half of `npm run test:vm`): systemd as PID 1
// with its v1 hierarchies under /sys/fs/cgroup/* and its cgroup2 tree at
// /sys/fs/cgroup/unified, as on many kubeadm nodes (Ubuntu 20.04, RHEL 8).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { dirOf, parseMountinfo, parseProcCgroup, type Layout } from '../../src/cgroups/layout';

export const UNIFIED = '/sys/fs/cgroup/unified';

/** Why this is not the host the hybrid tests are written for, or undefined when it is. */
export function notHybridSystemdHost(): string | undefined {
  const layout = hybridLayout();
  if (layout.mode !== 'hybrid') return `the cgroup mode is ${layout.mode}, not hybrid`;
  if (layout.unified?.mountpoint !== UNIFIED) return `no cgroup2 mount at ${UNIFIED}`;
  if (readFileSync('/proc/1/comm', 'utf8').trim() !== 'systemd') return 'PID 1 is not systemd';
  if (!existsSync('/run/systemd/system')) return 'no /run/systemd/system';
  return undefined;
}

/** Fails the whole file (not a skip) when it runs elsewhere than the hybrid VM. */
export function requireHybridSystemdHost(t: Test): boolean {
  const why = notHybridSystemdHost();
  if (why) t.fail(`this file runs inside the test VM booted hybrid (npm run test:vm, TSRUN_VM_CGROUP=hybrid): ${why}`);
  return why === undefined;
}

export function hybridLayout(): Layout {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** Every hierarchy's directory for a cgroup path: v1 key ("cpu,cpuacct", "name=systemd") or "" (cgroup2). */
export function dirsOf(path: string): Map<string, string> {
  const layout = hybridLayout();
  const out = new Map(layout.v1.map((h) => [h.key, dirOf(h, path)]));
  if (layout.unified) out.set('', dirOf(layout.unified, path));
  return out;
}

/** A cgroup path's directories that still exist, in any hierarchy. */
export const dirsLeft = (path: string): string[] => [...dirsOf(path).values()].filter((d) => existsSync(d));

/** The directory of a cgroup path in the v1 hierarchy that holds `controller`. */
export function v1Dir(controller: string, path: string): string {
  const h = hybridLayout().v1.find((x) => x.key.split(',').includes(controller));
  if (!h) throw new Error(`no v1 hierarchy has ${controller}`);
  return dirOf(h, path);
}

/** A v1 controller's file of a cgroup path, trimmed, lines joined by "|", or "<absent>". */
export function v1Value(controller: string, path: string, file: string): string {
  const f = join(v1Dir(controller, path), file);
  return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').join('|') : '<absent>';
}

/** /proc/PID/cgroup: hierarchy key ("" for the cgroup2 line) → path. */
export function procCgroups(pid: number): Map<string, string> {
  return parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
}
