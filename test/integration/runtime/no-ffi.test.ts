// The commands that spawn nothing (state, list, ps, pause, resume, start,
// kill, delete) load no native code: neither koffi's addon nor the helper
// (both are dlopen'ed from a memfd) nor anything else. glibc's own LD_DEBUG
// shows every dlopen; `create`, which loads both, is the control that shows
// the check sees them.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  isRoot,
  ROOT_REASON,
  testEnv,
  testConfig,
  uniqueId,
  cleanEnv,
  waitStatus,
  TSRUN,
  type Env,
} from '../../helpers/harness';

/** Runs one command with LD_DEBUG=files; returns its exit code and what glibc loaded at run time. */
function traced(env: Env, name: string, args: string[]): { code: number | null; stderr: string; loaded: string[] } {
  const prefix = `ld-${name}`;
  // A file, not a pipe: create's container keeps its stdio.
  const out = openSync(join(env.dir, `${name}.out`), 'w');
  const r = spawnSync(TSRUN, ['--root', env.root, ...args], {
    env: cleanEnv({ LD_DEBUG: 'files', LD_DEBUG_OUTPUT: join(env.dir, prefix) }),
    stdio: ['ignore', out, out],
    timeout: 30000,
  });
  closeSync(out);
  const loaded = readdirSync(env.dir)
    .filter((f) => f.startsWith(`${prefix}.`))
    .flatMap((f) => readFileSync(join(env.dir, f), 'utf8').split('\n'))
    .filter((l) => /dynamically loaded by/.test(l))
    .map((l) => l.trim());
  return { code: r.status, stderr: readFileSync(join(env.dir, `${name}.out`), 'utf8'), loaded };
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('no dlopen in the commands that spawn nothing', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('noffi');
    const created = traced(env, 'create', ['create', '-b', env.bundle(testConfig(id, ['sleep', '100'])), id]);
    t.equal(created.code, 0, `create: ${created.stderr}`);
    t.ok(
      created.loaded.some((l) => l.includes('/proc/self/fd/')),
      'the control: create loads koffi and the helper from memfds, and LD_DEBUG shows it',
    );
    const steps: [string, string[]][] = [
      ['state', ['state', id]],
      ['list', ['list']],
      ['ps', ['ps', '--format', 'json', id]],
      ['pause', ['pause', id]],
      ['resume', ['resume', id]],
      ['start', ['start', id]],
      ['state-running', ['state', id]],
      ['kill', ['kill', id, 'KILL']],
    ];
    for (const [name, args] of steps) {
      const r = traced(env, name, args);
      t.equal(r.code, 0, `${name}: ${r.stderr}`);
      t.same(r.loaded, [], `${name} loads no native code`);
    }
    waitStatus(env, id, 'stopped');
    const del = traced(env, 'delete', ['delete', id]);
    t.equal(del.code, 0, `delete: ${del.stderr}`);
    t.same(del.loaded, [], 'delete loads no native code');

    // delete --force of a created container: SIGKILL, wait for the init, remove its cgroup.
    const id2 = uniqueId('noffi');
    const made = traced(env, 'create2', ['create', '-b', env.bundle(testConfig(id2, ['sleep', '100'])), id2]);
    t.equal(made.code, 0, `create: ${made.stderr}`);
    const forced = traced(env, 'delete-force', ['delete', '--force', id2]);
    t.equal(forced.code, 0, `delete --force: ${forced.stderr}`);
    t.same(forced.loaded, [], 'delete --force loads no native code');
    env.done();
  });
}
