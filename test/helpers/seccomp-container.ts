// Helpers for the seccomp container tests (test/integration/seccomp/container*.test.ts):
// run a bundle with bin/tsrun and, when runc is installed, the same bundle
// with runc, so each test compares the two; build the libc-free probe
// program (test/fixtures/seccomp/sysprobe.c) for x86_64 and i386.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, uniqueId, type Env, testCgroupPath, cgroupDirsOf, FIXTURES } from './harness';
import type { Spec } from '../../src/spec/types';

export interface Outcome {
  code: number | null;
  out: string;
}

/** Run `args` in a container made from `config` with `tsrun run`; output is stdout and stderr together. */
export function runTsrun(env: Env, config: Spec, args: string[]): Outcome {
  const id = uniqueId('sc');
  config.process!.args = args;
  config.linux!.cgroupsPath = testCgroupPath(id);
  const out = join(env.dir, `${id}.out`);
  const r = env.run(['run', '-b', env.bundle(config), id], { output: out });
  return { code: r.code, out: readFileSync(out, 'utf8') };
}

export const hasRunc = spawnSync('runc', ['--version'], { stdio: 'ignore' }).status === 0;

/** Where runc keeps its containers for this test process, and the cgroup parent it gets. */
const RUNC_CGROUP_PARENT = `tsrun-seccomp-runc-${process.pid}`;

/**
 * The same with runc, or undefined without runc. runc's state and the
 * cgroups it leaves (the parent of its leaf) are removed by cleanupRunc.
 */
export function runRunc(env: Env, config: Spec, args: string[]): Outcome | undefined {
  if (!hasRunc) return undefined;
  const id = uniqueId('runc');
  const c: Spec = JSON.parse(JSON.stringify(config));
  c.process!.args = args;
  c.linux!.cgroupsPath = `${RUNC_CGROUP_PARENT}/${id}`;
  const bundle = env.bundle(c);
  const out = join(env.dir, `${id}.out`);
  const fd = openSync(out, 'a');
  try {
    const r = spawnSync('runc', ['--root', join(env.dir, 'runc'), 'run', '-b', bundle, id], {
      stdio: ['ignore', fd, fd],
      env: cleanEnv(),
      timeout: 60000,
    });
    return { code: r.status ?? (r.signal ? 128 : null), out: readFileSync(out, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

/** Remove whatever runc left: containers in its --root, and our cgroup parent in every hierarchy. */
export function cleanupRunc(env: Env): void {
  if (!hasRunc) return;
  const root = join(env.dir, 'runc');
  if (existsSync(root)) {
    for (const id of readdirSync(root))
      spawnSync('runc', ['--root', root, 'delete', '--force', id], { stdio: 'ignore' });
  }
  for (const dir of cgroupDirsOf(RUNC_CGROUP_PARENT)) {
    for (const leaf of readdirSync(dir, { withFileTypes: true }))
      if (leaf.isDirectory()) rmdirSync(join(dir, leaf.name));
    rmdirSync(dir);
  }
}

/** Existing directories `rel` below this process's own cgroup, in every hierarchy. */
export interface Probes {
  /** Directory holding probe64 and, when it could be built, probe32. */
  dir: string;
  probe64?: string;
  probe32?: string;
  /** Why a probe is missing. */
  why64?: string;
  why32?: string;
}

const SOURCE = join(FIXTURES, 'seccomp', 'sysprobe.c');

function build(dir: string, bits: 32 | 64): { path?: string; why?: string } {
  const path = join(dir, `probe${bits}`);
  const flags = [
    '-O1',
    '-static',
    '-nostdlib',
    '-ffreestanding',
    '-fno-pie',
    '-no-pie',
    '-fno-stack-protector',
    '-fno-builtin',
  ];
  const r = spawnSync('cc', [`-m${bits}`, ...flags, '-o', path, SOURCE], { encoding: 'utf8' });
  if (r.error) return { why: `no C compiler (cc): ${r.error.message}` };
  if (r.status !== 0)
    return {
      why: `cc -m${bits} cannot build a static ${bits}-bit program here: ${r.stderr.trim().split('\n').slice(-1)[0]}`,
    };
  return { path };
}

/** Build the probes into `dir` (bind-mounted into containers at /probe). */
export function buildProbes(dir: string): Probes {
  mkdirSync(dir, { recursive: true });
  const p64 = build(dir, 64);
  const p32 = build(dir, 32);
  return { dir, probe64: p64.path, why64: p64.why, probe32: p32.path, why32: p32.why };
}

/** Add a read-only bind of the probes directory at /probe. */
export function withProbes(config: Spec, probes: Probes): Spec {
  config.mounts!.push({ destination: '/probe', type: 'bind', source: probes.dir, options: ['rbind', 'ro'] });
  return config;
}

/** The return value a probe printed ("ret=-30" → -30). */
export function probeRet(out: string): number | undefined {
  const m = /^ret=(-?\d+)$/m.exec(out);
  return m ? Number(m[1]) : undefined;
}
