// For the tests that run inside the systemd + cgroup v2 VM (test/vm/,
// `npm run test:vm`): what such a host looks like, and where a process sits.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';

export const CGROUP_ROOT = '/sys/fs/cgroup';

/** Why this is not the host the VM tests are written for, or undefined when it is. */
export function notV2Host(): string | undefined {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  if (!existsSync(join(CGROUP_ROOT, 'cgroup.controllers'))) return `${CGROUP_ROOT} is not a cgroup2 mount`;
  if (/ - cgroup /.test(mounts)) return 'a cgroup v1 hierarchy is mounted';
  if (readFileSync('/proc/1/comm', 'utf8').trim() !== 'systemd') return 'PID 1 is not systemd';
  return undefined;
}

/** Fails the whole file (not a skip) when it runs elsewhere than the VM. */
export function requireV2Host(t: Test): boolean {
  const why = notV2Host();
  if (why) t.fail(`this file runs inside the test VM (npm run test:vm): ${why}`);
  return why === undefined;
}

/** The v2 cgroup of a process, as /proc/PID/cgroup says ("/system.slice/x.service"). */
export function cgroupOf(pid: number | 'self'): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('0::'));
  if (line === undefined) throw new Error(`/proc/${pid}/cgroup has no v2 line`);
  return line.slice(3);
}

/** A process's AppArmor profile as its attr/current says ("docker-default (enforce)", "unconfined"). */
export function apparmorOf(pid: number): string {
  return readFileSync(`/proc/${pid}/attr/current`, 'utf8').trim();
}

/** The directory of a v2 cgroup path. */
export function cgroupDir(path: string): string {
  return join(CGROUP_ROOT, path);
}

/** A file of the v2 cgroup directory, trimmed. */
export function cgroupFile(path: string, file: string): string {
  return readFileSync(join(cgroupDir(path), file), 'utf8').trim();
}

// --- linux.resources checks (test/vm/resources.test.ts) ---

/** A file of the v2 cgroup, lines joined by "|", or "<absent>": one string to compare. */
export function cgroupValue(path: string, file: string): string {
  const f = join(cgroupDir(path), file);
  return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').join('|') : '<absent>';
}

/** "MAJ:MIN" of a block device of this host (/sys/block/NAME/dev): the VM's disk is vda. */
export function blockDevice(name = 'vda'): { major: number; minor: number } {
  const [major, minor] = readFileSync(`/sys/block/${name}/dev`, 'utf8').trim().split(':').map(Number);
  return { major, minor };
}
