// A throw-away unprivileged user for rootless tests: its own home,
// XDG_RUNTIME_DIR (no logind here to make one) and /etc/subuid, /etc/subgid
// ranges; commands run as it through setpriv. remove() takes away the user,
// its files and its subordinate-id lines, whatever the test left.
import { spawnSync, execFileSync } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  chownSync,
  closeSync,
  constants,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TSRUN, type Result } from './harness';

export interface RootlessUser {
  name: string;
  uid: number;
  gid: number;
  /** XDG_RUNTIME_DIR of the user (0700, its own). */
  runtimeDir: string;
  /** A scratch dir the user owns (bundles go here). */
  dir: string;
  /** tsrun's executable, reachable by the user. */
  tsrun: string;
  /** The first /etc/subuid (= /etc/subgid) range given to the user. */
  subStart: number;
  subCount: number;
  run(cmd: string, args: string[], opts?: { env?: Record<string, string>; cwd?: string; timeout?: number }): Result;
  /** The argv that runs cmd as the user with its environment (for a caller that spawns it itself, e.g. on a pty). */
  argv(cmd: string, args: string[], env?: Record<string, string>): string[];
  remove(): void;
}

/** The user's ranges in /etc/subuid or /etc/subgid, as usermod wants them ("first-last"). */
function rangesOf(file: string, name: string): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith(`${name}:`))
      .map((l) => {
        const [, start, count] = l.split(':').map(Number);
        return `${start}-${start + count - 1}`;
      });
  } catch {
    return []; // no such file
  }
}

/**
 * Through usermod, which takes the shadow files' lock: test files running in
 * parallel each make a user, and rewriting /etc/subuid by hand lost lines.
 */
function setSubIds(name: string, add: string | undefined): void {
  const del = [
    ...rangesOf('/etc/subuid', name).flatMap((r) => ['--del-subuids', r]),
    ...rangesOf('/etc/subgid', name).flatMap((r) => ['--del-subgids', r]),
  ];
  if (del.length) execFileSync('usermod', [...del, name], { stdio: 'ignore' });
  if (add) execFileSync('usermod', ['--add-subuids', add, '--add-subgids', add, name], { stdio: 'ignore' });
}

/** Whether `path` is executable by uid (run as that user: access() honours every directory above). */
function reachable(uid: number, gid: number, path: string): boolean {
  return spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', 'test', '-x', path]).status === 0;
}

export function makeRootlessUser(subCount = 65536): RootlessUser {
  const name = `tsrl-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', name], { stdio: 'ignore' });
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-rootless-'));
  const runtimeDir = join(dir, 'xdg');
  mkdirSync(runtimeDir, { mode: 0o700 });
  chmodSync(dir, 0o755);
  chownSync(dir, uid, gid);
  chownSync(runtimeDir, uid, gid);
  // A range away from useradd's own allocations (which start at 100000), one per user.
  const subStart = 1_000_000 + (uid % 1000) * subCount;
  setSubIds(name, `${subStart}-${subStart + subCount - 1}`);

  let tsrun = TSRUN.replace(/bin\/tsrun$/, 'dist/tsrun');
  if (!reachable(uid, gid, tsrun)) {
    tsrun = join(dir, 'tsrun');
    copyFileSync(TSRUN.replace(/bin\/tsrun$/, 'dist/tsrun'), tsrun);
    chmodSync(tsrun, 0o755);
  }
  accessSync(tsrun, constants.X_OK);
  const user: RootlessUser = {
    name,
    uid,
    gid,
    runtimeDir,
    dir,
    tsrun,
    subStart,
    subCount,
    argv(cmd, args, extra = {}) {
      const env = {
        PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
        HOME: `/home/${name}`,
        USER: name,
        XDG_RUNTIME_DIR: runtimeDir,
        ...extra,
      };
      return [
        'setpriv',
        `--reuid=${uid}`,
        `--regid=${gid}`,
        '--init-groups',
        '--reset-env',
        'env',
        ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
        cmd,
        ...args,
      ];
    },
    run(cmd, args, opts = {}) {
      // Files, not pipes: a created container holds its stdio open (see harness tsrun()).
      const out = [join(dir, `.out-${process.pid}`), join(dir, `.err-${process.pid}`)];
      const fds = out.map((f) => openSync(f, 'w'));
      try {
        const [setpriv, ...rest] = user.argv(cmd, args, opts.env);
        const r = spawnSync(setpriv, rest, {
          cwd: opts.cwd ?? dir,
          stdio: ['ignore', fds[0], fds[1]],
          timeout: opts.timeout ?? 60000,
        });
        const [stdout, stderr] = out.map((f) => readFileSync(f, 'utf8'));
        return { code: r.status, signal: r.signal, stdout, stderr };
      } finally {
        fds.forEach((fd) => closeSync(fd));
        out.forEach((f) => rmSync(f, { force: true }));
      }
    },
    remove() {
      setSubIds(name, undefined);
      spawnSync('userdel', ['--force', '--remove', name], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return user;
}
