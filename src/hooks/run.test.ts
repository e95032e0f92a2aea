import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runHooks } from './run';
import { skipBecause } from '../../test/helpers/skip';

const state = { ociVersion: '1.2.1', id: 'c1', status: 'created', pid: 1234, bundle: '/b', annotations: { a: 'b' } };

/**
 * Runs runHooks in a fresh node with a known environment. The test process
 * itself will not do: tap patches child_process to inject NODE_OPTIONS and
 * its own variables into every child (env -i drops them again), which would
 * hide a leak from tsrun among tap's.
 */
function runHooksInChild(hooks: unknown, opts: unknown = {}): void {
  const code =
    `require(${JSON.stringify(require.resolve('./run'))})` +
    `.runHooks('prestart', ${JSON.stringify(hooks)}, ${JSON.stringify(state)}, ${JSON.stringify(opts)})`;
  execFileSync(
    '/usr/bin/env',
    [
      '-i',
      `PATH=${process.env.PATH}`,
      'TSRUN_LEAK_CANARY=leaked',
      process.execPath,
      '--require',
      require.resolve('tsx/cjs'),
      '-e',
      code,
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
}

t.test('the hook gets the state on stdin, its args and exactly its env', async (t) => {
  const dir = t.testdir({});
  const out = join(dir, 'rec');
  // sh -c: argv as the kernel saw it is in /proc/$$/cmdline, NUL-separated.
  const script =
    `cat > ${out}.stdin; tr '\\0' '\\n' < /proc/$$/cmdline > ${out}.args; ` +
    `/usr/bin/env > ${out}.env; pwd > ${out}.cwd`;
  runHooksInChild([{ path: '/bin/sh', args: ['my-hook', '-c', script, 'two words'], env: ['FOO=bar', 'EMPTY='] }], {
    cwd: dir,
  });
  t.same(JSON.parse(readFileSync(`${out}.stdin`, 'utf8')), state);
  t.equal(readFileSync(`${out}.args`, 'utf8'), `my-hook\n-c\n${script}\ntwo words\n`, 'args[0] is argv[0]');
  // sh itself adds PWD (and some shells SHLVL, _); anything else came from tsrun.
  const env = readFileSync(`${out}.env`, 'utf8')
    .split('\n')
    .filter((e) => e && !/^(PWD|SHLVL|_|OLDPWD)=/.test(e));
  t.same(env.sort(), ['EMPTY=', 'FOO=bar']);
  t.equal(readFileSync(`${out}.cwd`, 'utf8'), `${dir}\n`);
});

/**
 * A real executable that writes its argv and environ to `out`. A shell script
 * cannot show argv[0]: for #! scripts the kernel replaces it with the path.
 */
function argvDumper(dir: string): { path: string; out: string } | undefined {
  const out = join(dir, 'dump.out');
  const src = join(dir, 'dump.c');
  writeFileSync(
    src,
    `#include <stdio.h>
extern char **environ;
int main(int argc, char **argv) {
  FILE *f = fopen(${JSON.stringify(out)}, "w");
  for (int i = 0; i < argc; i++) fprintf(f, "argv %s\\n", argv[i]);
  for (char **e = environ; *e; e++) fprintf(f, "env %s\\n", *e);
  return fclose(f);
}
`,
  );
  try {
    execFileSync(process.env.CC || 'cc', ['-o', join(dir, 'dump'), src], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return { path: join(dir, 'dump'), out };
}

t.test('without args or env, argv[0] is the path and the environment is empty', async (t) => {
  const dir = t.testdir({});
  const dumper = argvDumper(dir);
  if (!dumper) return skipBecause(t, 'no C compiler to build the argv dumper (apt-get install gcc)');
  runHooksInChild([{ path: dumper.path }]);
  t.equal(readFileSync(dumper.out, 'utf8'), `argv ${dumper.path}\n`);
  runHooksInChild([{ path: dumper.path, args: ['custom-name', 'x'], env: ['A=1'] }]);
  t.equal(readFileSync(dumper.out, 'utf8'), 'argv custom-name\nargv x\nenv A=1\n');
});

t.test('hooks run in order and stop at the first failure', async (t) => {
  const dir = t.testdir({});
  const log = join(dir, 'log');
  const hook = (n: number, status = 0) => ({
    path: '/bin/sh',
    args: ['sh', '-c', `echo ${n} >> ${log}; exit ${status}`],
  });
  t.throws(() => runHooks('createRuntime', [hook(1), hook(2, 1), hook(3)], state), {
    message: 'error running hook: createRuntime hook 1 (/bin/sh): exited with status 1',
  });
  t.equal(readFileSync(log, 'utf8'), '1\n2\n');
});

t.test('a failing hook is named with the first line of its stderr', async (t) => {
  t.throws(
    () =>
      runHooks(
        'prestart',
        [{ path: '/bin/sh', args: ['sh', '-c', 'echo noise; echo "first problem" >&2; echo second >&2; exit 2'] }],
        state,
      ),
    { message: 'error running hook: prestart hook 0 (/bin/sh): exited with status 2: first problem' },
  );
  t.throws(() => runHooks('prestart', [{ path: '/bin/sh', args: ['sh', '-c', 'kill -SEGV $$'] }], state), {
    message: 'error running hook: prestart hook 0 (/bin/sh): killed by signal SIGSEGV (segmentation fault)',
  });
});

t.test('a hook that does not exist', async (t) => {
  t.throws(() => runHooks('poststart', [{ path: '/nonexistent/hook' }], state), {
    message: 'error running hook: poststart hook 0 (/nonexistent/hook): does not exist',
  });
});

t.test('a hook is killed at its timeout', async (t) => {
  const dir = t.testdir({});
  const pidFile = join(dir, 'pid');
  const start = Date.now();
  t.throws(
    () =>
      runHooks(
        'createContainer',
        [{ path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`], timeout: 1 }],
        state,
      ),
    {
      message: 'error running hook: createContainer hook 0 (/bin/sh): timed out after 1s',
    },
  );
  const elapsed = Date.now() - start;
  t.ok(elapsed >= 1000 && elapsed < 5000, `returned after ${elapsed} ms`);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the hook process is gone');
});

t.test('a hook that leaves a background process behind does not block tsrun', async (t) => {
  const dir = t.testdir({});
  const pidFile = join(dir, 'pid');
  const start = Date.now();
  runHooks(
    'poststart',
    [{ path: '/bin/sh', args: ['sh', '-c', `sleep 20 & echo $! > ${pidFile}; echo started`] }],
    state,
  );
  t.ok(Date.now() - start < 5000, 'returned without waiting for the background process');
  const pid = Number(readFileSync(pidFile, 'utf8'));
  process.kill(pid, 'SIGKILL');
});

t.test('continueOnError runs every hook', async (t) => {
  const dir = t.testdir({});
  const log = join(dir, 'log');
  runHooks('poststop', [{ path: '/bin/false' }, { path: '/bin/sh', args: ['sh', '-c', `echo ran > ${log}`] }], state, {
    continueOnError: true,
  });
  t.equal(readFileSync(log, 'utf8'), 'ran\n');
});

t.test('no hooks is a no-op', async (t) => {
  t.doesNotThrow(() => runHooks('prestart', undefined, state));
  t.doesNotThrow(() => runHooks('prestart', [], state));
});

t.test('a hook need not read the state from stdin', async (t) => {
  const big = { ...state, annotations: { pad: 'x'.repeat(1 << 20) } };
  for (let i = 0; i < 5; i++) t.doesNotThrow(() => runHooks('prestart', [{ path: '/bin/true' }], big), `run ${i}`);
});
