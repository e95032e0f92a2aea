// A non-root user with a systemd user session inside the test VM, for the
// rootless VM tests: made and started by hack/vm/user-session.sh (what
// `hack/vm/run.sh --user` does too), and each command run as the user through
// it, as a transient service of the user's manager (its cgroup is below the
// delegated user@UID.service).
import { spawnSync, execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spec } from '../../src/spec/types';
import { REPO, runCaptured, sharedRootfs, type Result, type TestLike } from './harness';

const SESSION = join(REPO, 'hack', 'vm', 'user-session.sh');

export interface SessionUser {
  name: string;
  uid: number;
  gid: number;
  /** A scratch dir the user owns. */
  dir: string;
  /** The user's manager's delegated cgroup, user.slice/user-UID.slice/user@UID.service. */
  manager: string;
  /**
   * cmd as the user, in dir, in a fresh transient service. `output`: a file
   * for stdout and stderr instead of pipes (a detached container keeps its
   * stdio open, see harness tsrun()).
   */
  run(cmd: string, args: string[], opts?: { timeout?: number; output?: string; input?: string }): Result;
}

/** The user NAME with its session started; the session is stopped at teardown (and with it what the user left). */
export function sessionUser(t: TestLike, name: string): SessionUser {
  execFileSync(SESSION, [name], { stdio: 'pipe' });
  const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  const [uid, gid] = [id('-u'), id('-g')];
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-vm-user-'));
  chownSync(dir, uid, gid);
  t.teardown(() => {
    spawnSync('systemctl', ['stop', `user@${uid}.service`], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    name,
    uid,
    gid,
    dir,
    manager: `/user.slice/user-${uid}.slice/user@${uid}.service`,
    run: (cmd, args, opts = {}) =>
      runCaptured(SESSION, [name, cmd, ...args], { ...opts, cwd: dir, timeout: opts.timeout ?? 120000 }),
  };
}

/**
 * `tsrun spec --rootless` run as the user in a bundle dir NAME it owns, with
 * the shared rootfs, no terminal, `args` and the test's changes (`edit`); the bundle's path.
 */
export function rootlessBundle(user: SessionUser, name: string, args: string[], edit?: (c: Spec) => void): string {
  const b = join(user.dir, name);
  mkdirSync(b);
  chownSync(b, user.uid, user.gid);
  const r = user.run(join(REPO, 'dist', 'tsrun'), ['spec', '--rootless', '--bundle', b]);
  if (r.code !== 0) throw new Error(`tsrun spec --rootless: ${r.stderr}`);
  const c = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8')) as Spec;
  c.root = { path: sharedRootfs(), readonly: true };
  c.process!.terminal = false;
  c.process!.args = args;
  edit?.(c);
  writeFileSync(join(b, 'config.json'), JSON.stringify(c, null, 2));
  return b;
}
