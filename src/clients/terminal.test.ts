// process.terminal on real containers: tsrun's own pty proxy for a
// foreground run (driven from a pty like a user's shell), and the console
// socket through which containerd's shim and conmon receive the master.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { drive } from './pty';
import { isRoot, ROOT_REASON, TSRUN, testEnv, testConfig, uniqueId, cleanEnv, waitStatus } from '../testing/harness';
import { listenUnix, acceptUnix, recvFds } from '../sys/socket';
import { poll, POLL } from '../sys/poll';
import { closeQuiet } from '../sys/fs';

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
    const r = env.run(['create', '--console-socket', join(env.dir, 'none.sock'), '--bundle', noTty, id], { output: join(env.dir, 'out-n') });
    t.equal(r.code, 1, 'a console socket without a terminal is refused');
    t.match(r.stderr, /cannot use console socket if tsrun will not detach or allocate tty/);
    env.done();
  });

  t.test('create --console-socket hands the master to the listener', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('csock');
    const script = 'tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo stdio-is-tty; [ -c /dev/console ] && echo console-is-char; stat -c console=%t:%T /dev/console; exit 7';
    const bundle = env.bundle(terminalConfig(id, ['sh', '-c', script]));
    const sockPath = join(env.dir, 'console.sock');
    const listener = listenUnix(sockPath);
    t.teardown(() => closeQuiet(listener));

    const c = env.run(['create', '--console-socket', sockPath, '--bundle', bundle, id], { output: join(env.dir, 'out') });
    t.equal(c.code, 0, `create succeeds: ${c.stderr}`);
    const conn = acceptUnix(listener);
    const { data, fds } = recvFds(conn, 4096, 4);
    closeQuiet(conn);
    t.equal(fds.length, 1, 'exactly one descriptor arrives');
    t.equal(data.toString(), '/dev/ptmx', "the payload is the master's name, like runc");
    const master = fds[0];
    t.teardown(() => closeQuiet(master));
    t.equal(readFileSync(join(env.dir, 'out'), 'utf8'), '', "create's own stdio got nothing: the program's stdio is the pty");

    t.equal(env.run(['start', id]).code, 0, 'start');
    let output = '';
    const buf = Buffer.alloc(4096);
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      const [rev] = poll([{ fd: master, events: POLL.IN }], 200);
      if (!rev) continue;
      let n = 0;
      try {
        n = readSync(master, buf, 0, buf.length, null);
      } catch {
        break; // EIO: the last slave fd is closed
      }
      if (n === 0) break;
      output += buf.toString('utf8', 0, n);
    }
    t.match(output, /^\/dev\/pts\/0\r\n/, 'the program sees its pty as its terminal');
    t.match(output, /stdio-is-tty\r\n/, 'stdin, stdout and stderr are the terminal');
    t.match(output, /console-is-char\r\nconsole=88:0\r\n/, '/dev/console is the same pty (char 136:0)');
    t.equal(waitStatus(env, id, 'stopped').status, 'stopped');
    t.equal(env.run(['delete', id]).code, 0, 'delete');
    env.done();
  });
}
