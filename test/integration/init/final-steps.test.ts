// The native last steps (tsrun_finish, via become.ts) in real containers made
// by bin/tsrun: startContainer hooks run natively report what runHooks
// reports (missing, timed out, exit status with the first stderr line,
// signal), get the state on stdin and exactly their args and env, and a
// failed native step names its call, argument and errno.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testEnv, testConfig, uniqueId, type Env } from '../../helpers/harness';
import type { Hook, Spec } from '../../../src/spec/types';

/** create, then start; start's result (the init reports its errors there), the container deleted. */
function createStart(env: Env, c: Spec, id: string): { code: number | null; stderr: string; out: string } {
  const out = join(env.dir, `${id}.out`);
  const created = env.run(['create', '-b', env.bundle(c), id], { output: out });
  if (created.code !== 0) return { code: created.code, stderr: created.stderr, out: readFileSync(out, 'utf8') };
  const r = env.run(['start', id]);
  env.run(['delete', '--force', id]);
  return { code: r.code, stderr: r.stderr, out: readFileSync(out, 'utf8') };
}

function withHook(hook: Hook, args = ['true']): { id: string; c: Spec } {
  const id = uniqueId('final');
  const c = testConfig(id, args);
  c.hooks = { startContainer: [hook] };
  return { id, c };
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('startContainer hook failures are worded as runHooks words them', async (t) => {
    const env = testEnv(t);
    const cases: [Hook, RegExp][] = [
      [{ path: '/nonexistent/hook' }, /startContainer hook 0 \(\/nonexistent\/hook\): does not exist/],
      [{ path: '/etc/passwd' }, /startContainer hook 0 \(\/etc\/passwd\): cannot be run: EACCES/],
      [{ path: '/bin/sh', args: ['sh', '-c', 'exec sleep 30'], timeout: 1 }, /hook 0 .*: timed out after 1s/],
      [
        { path: '/bin/sh', args: ['sh', '-c', 'echo; echo "  it went wrong  " >&2; echo more >&2; exit 3'] },
        /startContainer hook 0 \(\/bin\/sh\): exited with status 3: it went wrong$/m,
      ],
      [{ path: '/bin/sh', args: ['sh', '-c', 'kill -TERM $$'] }, /hook 0 \(\/bin\/sh\): killed by signal SIGTERM/],
    ];
    for (const [hook, want] of cases) {
      const { id, c } = withHook(hook);
      const started = Date.now();
      const r = createStart(env, c, id);
      t.equal(r.code, 1, `start fails: ${r.stderr}`);
      t.match(r.stderr, want);
      if (hook.timeout) t.ok(Date.now() - started < 20000, 'the hook was killed at its timeout');
    }
    env.done();
  });

  t.test('a startContainer hook gets the state on stdin, its args and env, and keeps its output', async (t) => {
    const env = testEnv(t);
    const script = [
      'cat > /dev/shm/state',
      'echo "$0 $1 [$FOO] [$HOME] [${EMPTY-unset}]" > /dev/shm/args',
      'echo to-stdout; echo to-stderr >&2',
    ].join('; ');
    // busybox picks its applet by argv[0]: "sh" given in args, not the path, reaches it.
    const env0 = ['FOO=bar', 'FOO=baz', 'EMPTY='];
    const hook = { path: '/bin/busybox', args: ['sh', '-c', script, 'name0', 'arg1'], env: env0 };
    const show = 'cat /dev/shm/args; wc -c < /dev/shm/state; grep -o \'"status":"[a-z]*"\' /dev/shm/state';
    // More state than a pipe holds by default (the pipe grows), and more than any pipe may hold (a file).
    for (const size of [100_000, 2_000_000]) {
      const { id, c } = withHook(hook, ['sh', '-c', show]);
      c.annotations = { big: 'x'.repeat(size) };
      const out = join(env.dir, `${id}.out`);
      const r = env.run(['run', '-b', env.bundle(c), id], { output: out });
      const text = readFileSync(out, 'utf8');
      t.equal(r.code, 0, text);
      t.match(text, /^name0 arg1 \[baz\] \[\] \[\]$/m, 'argv[0], args and only the env given (the last of a name)');
      const got = Number(/^\s*(\d+)$/m.exec(text)?.[1]);
      t.ok(got > size, `the whole state (${got} bytes)`);
      t.match(text, /"status":"created"/, 'status created, as runc');
      t.notMatch(text, /to-stdout|to-stderr/, "the hook's output does not reach the container's stdio");
    }
    env.done();
  });

  t.test('a failed native step names the call, its argument and errno', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('final');
    const c = testConfig(id, ['true']);
    // A user namespace that maps ids 0-999 only: gid 1000 has no mapping there.
    c.linux!.namespaces!.push({ type: 'user' });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 0, size: 1000 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 0, size: 1000 }];
    c.process!.user = { uid: 1000, gid: 1000 };
    const r = createStart(env, c, id);
    t.equal(r.code, 1, r.stderr);
    t.match(r.stderr, /setresgid\(1000\): EINVAL/);
    env.done();
  });
}
