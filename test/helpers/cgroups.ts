// Shared by the cgroup tests (not a test file itself): child processes to
// put into cgroups, unique cgroup names below the test's own cgroups, and
// a check that nothing is left behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { CgroupManager } from '../../src/cgroups/index';

/** How long the cgroup tests wait for their processes to get somewhere (start, freeze, die). */
export const SETTLE_MS = 3000;

export function testName(tag: string): string {
  return `tsrun-test-${tag}-${randomBytes(4).toString('hex')}`;
}

/** A shell that waits for a line on stdin before running `script`, so it can be moved into a cgroup first. */
export function gatedShell(script: string): {
  child: ChildProcess;
  go: () => void;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn('/bin/sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, sig) => resolve(sig ? -1 : code)));
  return { child, go: () => child.stdin!.write('\n'), output: () => out, exited };
}

export function procStatus(pid: number, field: string): string | undefined {
  try {
    const m = new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1];
  } catch {
    return undefined;
  }
}

export function dirsOf(cg: CgroupManager): string[] {
  return [...Object.values(cg.saved.v1), ...(cg.saved.unified ? [cg.saved.unified] : [])];
}

export function leftovers(cg: CgroupManager): string[] {
  return dirsOf(cg).filter((d) => existsSync(d));
}

export function mb(n: number): number {
  return n * 1024 * 1024;
}
