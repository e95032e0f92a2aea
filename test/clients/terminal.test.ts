// process.terminal on real containers: tsrun's own pty proxy for a
// foreground run (driven from a pty like a user's shell), and the console
// socket through which containerd's shim and conmon receive the master.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { drive } from '../helpers/pty';
import { isRoot, ROOT_REASON, TSRUN, testEnv, testConfig, uniqueId, cleanEnv } from '../helpers/harness';
import { runWithConsoleSocket } from '../helpers/console';

function terminalConfig(id: string, args: string[]) {
  const c = testConfig(id, args);
  c.process!.terminal = true;
  return c;
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('foreground run with a terminal and no console socket proxies the pty', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('tty');
    const bundle = env.bundle(terminalConfig(id, ['sh']));
    const r = drive(
      [TSRUN, '--root', env.root, 'run', '--bundle', bundle, id],
      [
        { expect: '# ' },
        { send: 'stty size; tty; echo hi-$((6*7))\r' },
        { expect: 'hi-42' },
        { resize: [40, 120] },
        { sleep: 0.3 },
        { send: 'stty size\r' },
        { expect: '40 120' },
        // ^C goes through the raw terminal to the container's line discipline.
        { send: 'sleep 100\r' },
        { sleep: 0.3 },
        { send: '\x03' },
        { send: 'echo after-$((1+1))\r' },
        { expect: 'after-2' },
        { send: 'exit 3\r' },
      ],
      { rows: 30, cols: 100 },
    );
    t.equal(r.failedStep, null, `every expected output arrived: ${JSON.stringify(r.output)}`);
    t.equal(r.timedOut, false, 'tsrun run ended by itself');
    t.equal(r.code, 3, "tsrun exits with the container's status");
    t.match(r.output, /30 100\r\n/, "the container's terminal starts with the caller's size");
    t.match(r.output, /\/dev\/pts\/0\r\n/, "the container's stdio is its own devpts' first pty");
    t.match(r.output, /40 120\r\n/, 'SIGWINCH becomes a window-size change');
    t.equal(r.termiosRestored, true, "the caller's terminal settings are restored");
    env.done();
  });

  t.test('foreground run with a terminal and piped stdin', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('ttypipe');
    const bundle = env.bundle(terminalConfig(id, ['sh', '-c', 'read line; [ -t 0 ] && echo "tty:$line"; exit 5']));
    const r = spawnSync(TSRUN, ['--root', env.root, 'run', '--bundle', bundle, id], {
      input: 'hello\n',
      encoding: 'utf8',
      env: cleanEnv(),
      timeout: 30000,
    });
    t.equal(r.status, 5, `exit status passes through: ${r.stderr}`);
    t.match(r.stdout, /tty:hello\r\n/, 'input reached the program through the pty');
    env.done();
  });

  t.test('detached containers with a terminal need a console socket (runc)', async (t) => {
    const env = testEnv(t);
    for (const cmd of [['create'], ['run', '--detach']]) {
      const id = uniqueId('ttyd');
      const bundle = env.bundle(terminalConfig(id, ['true']));
      const r = env.run([...cmd, '--bundle', bundle, id], { output: join(env.dir, `out-${id}`) });
      t.equal(r.code, 1, `${cmd.join(' ')} fails`);
      t.match(r.stderr, /cannot allocate tty if tsrun will detach without setting console socket/);
    }
    const id = uniqueId('ttyn');
    const noTty = env.bundle(testConfig(id, ['true']));
    const r = env.run(['create', '--console-socket', join(env.dir, 'none.sock'), '--bundle', noTty, id], {
      output: join(env.dir, 'out-n'),
    });
    t.equal(r.code, 1, 'a console socket without a terminal is refused');
    t.match(r.stderr, /cannot use console socket if tsrun will not detach or allocate tty/);
    env.done();
  });

  t.test('create --console-socket hands the master to the listener', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('csock');
    const script =
      'tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo stdio-is-tty; [ -c /dev/console ] && echo console-is-char; stat -c console=%t:%T /dev/console; exit 7';
    const r = runWithConsoleSocket(env, env.bundle(terminalConfig(id, ['sh', '-c', script])), id);
    t.equal(r.create.code, 0, `create succeeds: ${r.create.stderr}`);
    t.equal(r.fdCount, 1, 'exactly one descriptor arrives');
    t.equal(r.payload, '/dev/ptmx', "the payload is the master's name, like runc");
    t.equal(r.createOutput, '', "create's own stdio got nothing: the program's stdio is the pty");
    t.match(r.output, /^\/dev\/pts\/0\r\n/, 'the program sees its pty as its terminal');
    t.match(r.output, /stdio-is-tty\r\n/, 'stdin, stdout and stderr are the terminal');
    t.match(r.output, /console-is-char\r\nconsole=88:0\r\n/, '/dev/console is the same pty (char 136:0)');
    env.done();
  });
}
