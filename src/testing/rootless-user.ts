// A throw-away unprivileged user for rootless tests: its own home,
// XDG_RUNTIME_DIR (no logind here to make one) and /etc/subuid, /etc/subgid
// ranges; commands run as it through setpriv. remove() takes away the user,
// its files and its subordinate-id lines, whatever the test left.
import { spawnSync, execFileSync } from 'node:child_process';
import { accessSync, chmodSync, chownSync, closeSync, constants, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  remove(): void;
}

function dropLines(file: string, name: string): void {
  try {
    const kept = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith(`${name}:`));
    writeFileSync(file, kept.map((l) => `${l}\n`).join(''));
  } catch {
    // no such file
  }
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
  for (const file of ['/etc/subuid', '/etc/subgid']) {
    dropLines(file, name);
    writeFileSync(file, `${name}:${subStart}:${subCount}\n`, { flag: 'a' });
  }
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
    run(cmd, args, opts = {}) {
      const env = { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', HOME: `/home/${name}`, USER: name, XDG_RUNTIME_DIR: runtimeDir, ...opts.env };
      // Files, not pipes: a created container holds its stdio open (see harness tsrun()).
      const out = [join(dir, `.out-${process.pid}`), join(dir, `.err-${process.pid}`)];
      const fds = out.map((f) => openSync(f, 'w'));
      try {
        const r = spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--reset-env', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...args], {
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
      spawnSync('userdel', ['--force', '--remove', name], { stdio: 'ignore' });
      for (const file of ['/etc/subuid', '/etc/subgid']) dropLines(file, name);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return user;
}
