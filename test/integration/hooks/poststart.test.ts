// A failing poststart hook (issue 18, item 4), through bin/tsrun: runtime.md
// v1.3 lifecycle step 9, "If any poststart hook fails, the runtime MUST
// generate an error, stop the container, and continue the lifecycle at step
// 12." start and run fail with runc's "error running hook"; the container is
// killed, the hooks after the failing one do not run, and delete (run's own
// cleanup) destroys it and runs the poststop hooks. runc 1.1.5 runs poststart
// hooks at the end of create: on the same bundle its run fails the same way
// (exit 1, "error running hook", nothing left) and its create fails.
import t, { type Test } from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testEnv, testConfig, uniqueId, parseState, type Env } from '../../helpers/harness';
import { isSameLiveProcess } from '../../../src/state/proc';
import { hasRunc, runRunc, cleanupRunc } from '../../helpers/seccomp-container';
import type { Spec } from '../../../src/spec/types';

const MESSAGE = new RegExp(
  'error running hook: poststart hook 0 \\(/bin/sh\\): exited with status 3: poststart-says-no; ' +
    'the container was stopped',
);

/** A bundle whose first poststart hook fails; the second and the poststop hook leave a file in `dir`. */
function failingPoststart(id: string, dir: string): Spec {
  const c = testConfig(id, ['sleep', '100']);
  const mark = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `echo ${name} > ${join(dir, name)}`] });
  c.hooks = {
    poststart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo poststart-says-no >&2; exit 3'] }, mark('second')],
    poststop: [mark('poststop')],
  };
  return c;
}

function nothingLeft(t: Test, env: Env): void {
  t.notOk(existsSync(join(env.dir, 'second')), 'the hooks after the failing one did not run');
  t.ok(existsSync(join(env.dir, 'poststop')), 'the container was destroyed: the poststop hook ran');
  t.same(readdirSync(env.root), [], 'nothing left in --root');
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('start fails, the container is stopped, delete destroys it', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('poststart');
    const bundle = env.bundle(failingPoststart(id, env.dir));
    t.equal(env.run(['create', '-b', bundle, id], { output: join(env.dir, 'out') }).code, 0, 'create');
    const { pid } = parseState(env.run(['state', id])) as { pid: number };
    const log = join(env.dir, 'log');
    const r = env.run(['--log', log, 'start', id]);
    t.equal(r.code, 1, 'start fails');
    t.match(r.stderr, MESSAGE, 'with "error running hook" and which hook failed how');
    t.match(readFileSync(log, 'utf8'), /level=error msg="error running hook: poststart hook 0 \(\/bin\/sh\)/, '--log');
    t.equal(parseState(env.run(['state', id])).status, 'stopped', 'the container is stopped');
    t.notOk(isSameLiveProcess(pid, undefined), 'its init is gone');
    t.notOk(existsSync(join(env.dir, 'poststop')), 'not destroyed before delete');
    t.equal(env.run(['delete', id]).code, 0, 'delete without --force');
    nothingLeft(t, env);
    env.done();
  });

  for (const detach of [false, true]) {
    t.test(`run${detach ? ' -d' : ''} fails and leaves nothing, as runc's run`, async (t) => {
      const env = testEnv(t);
      const id = uniqueId('poststart');
      const config = failingPoststart(id, env.dir);
      const args = ['run', ...(detach ? ['-d'] : []), '-b', env.bundle(config), id];
      const r = env.run(args, { output: join(env.dir, 'out') });
      t.equal(r.code, 1, 'run fails');
      t.match(r.stderr, MESSAGE);
      nothingLeft(t, env);
      env.done();
    });
  }

  const runc = { skip: !hasRunc && 'runc is not installed' };
  t.test('runc 1.1.5 on the same bundle: run fails with "error running hook", nothing left', runc, async (t) => {
    const env = testEnv(t);
    t.teardown(() => cleanupRunc(env));
    const config = failingPoststart(uniqueId('poststart'), env.dir);
    const r = runRunc(env, config, ['sleep', '100'])!;
    t.equal(r.code, 1, 'runc run fails');
    t.match(r.out, /error running hook.*exit status 3.*poststart-says-no/);
    t.notOk(existsSync(join(env.dir, 'second')), 'the hooks after the failing one did not run');
    t.same(readdirSync(join(env.dir, 'runc')), [], 'nothing left in its --root');
  });
}
