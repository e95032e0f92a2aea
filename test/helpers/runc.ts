// runc 1.1.5 beside tsrun: the same command line on the same bundle, so a
// test shows both runtimes doing the same (runc's behaviour is the default
// answer). Without runc on PATH only tsrun runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRuntime, uniqueId, type Env, type Result, type TestLike } from './harness';

export const hasRunc = spawnSync('runc', ['--version'], { stdio: 'ignore' }).status === 0;

export interface Runtime {
  name: 'tsrun' | 'runc';
  /** Its --root (state directory), for a command spawned without run(). */
  root: string;
  run: Env['run'];
}

/** tsrun, and runc when installed (its own --root: what it leaves is deleted at teardown, whatever the order). */
export function runtimes(t: TestLike, env: Env): Runtime[] {
  const list: Runtime[] = [{ name: 'tsrun', root: env.root, run: env.run }];
  if (!hasRunc) return list;
  const root = join(mkdtempSync(join(tmpdir(), 'tsrun-runc-')), 'state');
  list.push({ name: 'runc', root, run: (args, opts): Result => runRuntime('runc', root, args, opts) });
  t.teardown(() => {
    if (existsSync(root)) for (const id of readdirSync(root)) runRuntime('runc', root, ['delete', '--force', id]);
    rmSync(join(root, '..'), { recursive: true, force: true });
  });
  return list;
}

/**
 * create, run -d and exec -d through either runtime: the container's stdio
 * goes to a file (a pipe would hold the caller until the harness's 60 s
 * timeout while the container runs). The runtime's debug log is added to
 * stderr when the command did not end with 0: what it was waiting for.
 */
export function launch(env: Env, run: Runtime['run'], args: string[]): Result {
  const log = join(env.dir, `${uniqueId('debug')}.log`);
  const r = run(['--debug', '--log', log, ...args], { output: join(env.dir, `${uniqueId('out')}.log`) });
  if (r.code !== 0 && existsSync(log))
    r.stderr += `\n--- debug log (${r.signal ?? r.code}):\n${readFileSync(log, 'utf8')}`;
  return r;
}
