// Shared by the integration tests: drive the built bin/tsrun as a user would,
// on real bundles, and check that nothing is left behind afterwards.
import { spawnSync, execFileSync } from 'node:child_process';
import {
  mkdtempSync,
  rmSync,
  writeFileSync,
  readFileSync,
  readdirSync,
  existsSync,
  openSync,
  closeSync,
  chmodSync,
  rmdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Test } from 'tap';
import type { Spec } from '../../src/spec/types';
import { defaultSpec } from '../../src/spec/default';
import { REPO, TSRUN } from './paths';
import { waitForSync } from './wait';

export { REPO, TSRUN, FIXTURES } from './paths';
export { isRoot, ROOT_REASON } from './root';

/** The environment of measured and tested commands: no extra CA bundle to load (37 ms per node start). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Run bin/tsrun. Commands that hand their stdio to a container (create, run)
 * get files instead of pipes (`output`): a pipe would stay open as long as
 * the container runs. Their combined output is then read from that file.
 */
export function tsrun(
  root: string,
  args: string[],
  opts: { input?: string; timeout?: number; output?: string } = {},
): Result {
  return runRuntime(TSRUN, root, args, opts);
}

/** tsrun() for any runc-compatible runtime (`runc` beside tsrun, for comparisons). */
export function runRuntime(
  binary: string,
  root: string,
  args: string[],
  opts: { input?: string; timeout?: number; output?: string } = {},
): Result {
  return runCaptured(binary, ['--root', root, ...args], opts);
}

/** Any command with tsrun()'s stdio: pipes, or the file `output` for both stdout and stderr. */
export function runCaptured(
  cmd: string,
  args: string[],
  opts: { input?: string; timeout?: number; output?: string; cwd?: string } = {},
): Result {
  const outFd = opts.output ? openSync(opts.output, 'a') : undefined;
  try {
    const r = spawnSync(cmd, args, {
      cwd: opts.cwd,
      input: outFd === undefined ? (opts.input ?? '') : undefined,
      stdio: outFd === undefined ? 'pipe' : ['ignore', outFd, outFd],
      timeout: opts.timeout ?? 60000,
      encoding: 'utf8',
      env: cleanEnv(),
    });
    const text = opts.output ? readFileSync(opts.output, 'utf8') : '';
    return { code: r.status, signal: r.signal, stdout: r.stdout ?? text, stderr: r.stderr ?? text };
  } finally {
    if (outFd !== undefined) closeSync(outFd);
  }
}

/**
 * The relative cgroupsPath of a test container: below our own cgroup in each
 * hierarchy, under a parent of this test process's own, removed at exit.
 */
const CGROUP_PARENT = `tsrun-test-${process.pid}`;
export function testCgroupPath(id: string): string {
  return `${CGROUP_PARENT}/${id}`;
}
process.on('exit', () => {
  for (const dir of cgroupDirsOf(CGROUP_PARENT)) {
    try {
      rmdirSync(dir);
    } catch {
      // a container of this process is still there: its test reports it
    }
  }
});

let rootfsDir: string | undefined;

/**
 * One busybox rootfs per test process, shared read-only by its bundles; or
 * the one named by TSRUN_TEST_ROOTFS (hack/vm/test.sh makes it once: in the
 * VM, mkrootfs.sh's fork per applet takes ~40 s).
 */
export function sharedRootfs(): string {
  if (!rootfsDir && process.env.TSRUN_TEST_ROOTFS) rootfsDir = process.env.TSRUN_TEST_ROOTFS;
  if (!rootfsDir) {
    rootfsDir = mkdtempSync(join(tmpdir(), 'tsrun-rootfs-'));
    chmodSync(rootfsDir, 0o755); // the container's / must be searchable by non-root users
    execFileSync(join(REPO, 'hack', 'mkrootfs.sh'), [rootfsDir], { stdio: 'ignore' });
    process.on('exit', () => rmSync(rootfsDir!, { recursive: true, force: true }));
  }
  return rootfsDir;
}

/** A config for tests: runc's default, no terminal, a relative cgroup path under our own cgroup. */
export function testConfig(id: string, args: string[]): Spec {
  const c = defaultSpec();
  c.process!.terminal = false;
  c.process!.args = args;
  c.root = { path: sharedRootfs(), readonly: true };
  c.linux!.cgroupsPath = testCgroupPath(id);
  return c;
}

export interface Env {
  root: string;
  dir: string;
  /** Make a bundle dir with this config; returns its path. */
  bundle(config: Spec, name?: string): string;
  run(args: string[], opts?: { input?: string; timeout?: number; output?: string }): Result;
  /** Assert that nothing the test made is left: call at the end of the test. */
  done(): void;
}

let counter = 0;
export function uniqueId(prefix = 'c'): string {
  return `${prefix}-${process.pid}-${++counter}`;
}

/**
 * Host mount points at or below any of `prefixes`. Tests check their own
 * directories rather than counting the whole table, which other tests and
 * daemons running at the same time may change.
 */
export function mountsUnder(prefixes: string[]): string[] {
  const unescape = (p: string) => p.replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => unescape(line.split(' ')[4]))
    .filter((mp) => prefixes.some((p) => mp === p || mp.startsWith(p.endsWith('/') ? p : p + '/')));
}

/** A fresh --root and scratch dir for one test; removed at teardown whatever happened. */
/** The part of tap's Test the harness uses. */
export type TestLike = Pick<Test, 'same' | 'equal' | 'teardown'>;

export function testEnv(t: TestLike): Env {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-test-'));
  const root = join(dir, 'state');
  const leftovers = () => (existsSync(root) ? readdirSync(root) : []);
  const env: Env = {
    root,
    dir,
    bundle(config, name = `b${++counter}`) {
      const b = join(dir, name);
      execFileSync('mkdir', ['-p', b]);
      writeFileSync(join(b, 'config.json'), JSON.stringify(config, null, 2));
      return b;
    },
    run: (args, opts) => tsrun(root, args, opts),
    done() {
      t.same(leftovers(), [], 'no container state left in --root');
      t.same(mountsUnder([dir, sharedRootfs()]), [], 'no mount left in the host mount namespace');
    },
  };
  t.teardown(() => {
    for (const id of leftovers()) tsrun(root, ['delete', '--force', id]);
    rmSync(dir, { recursive: true, force: true });
  });
  return env;
}

export function parseState(r: Result): Record<string, unknown> {
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** Poll `state` until the container reaches `want` (or time runs out); the last state seen. */
export function waitStatus(env: Env, id: string, want: string, timeoutMs = 10000): Record<string, unknown> {
  return waitForSync(() => parseState(env.run(['state', id])), { timeoutMs, done: (st) => st.status === want });
}

/**
 * Where a relative cgroupsPath lands in each hierarchy, made or not: below
 * our own cgroup on this hybrid host; on a v2-only host (the test VM) below
 * its parent, as runc's fs2 driver does.
 */
export function cgroupPathsOf(relative: string): string[] {
  const v2Only = existsSync('/sys/fs/cgroup/cgroup.controllers');
  return readFileSync('/proc/self/cgroup', 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [, controllers, path] = line.split(':');
      if (v2Only) return join('/sys/fs/cgroup', dirname(path), relative);
      const mountDir = controllers === '' ? 'unified' : controllers.replace(/^name=/, '');
      return join('/sys/fs/cgroup', mountDir, path, relative);
    });
}

/** Where a relative cgroupsPath lands in each hierarchy (below our own cgroup); only those that exist. */
export function cgroupDirsOf(relative: string): string[] {
  return cgroupPathsOf(relative).filter((d) => existsSync(d));
}
