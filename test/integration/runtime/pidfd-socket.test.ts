// --pidfd-socket (runc 1.2, issue 18 item 14) through bin/tsrun: create,
// run -d and exec -d send a pidfd of the container's process (the init, the
// exec'd process) over the given AF_UNIX stream socket, with runc's wire
// format: one message whose data is "standard" (init) or "setns" (exec) and
// whose SCM_RIGHTS carries the pidfd, before the pid file is written (shown
// by a pid file that cannot be written: the pidfd has gone out already). A
// receiver (test/fixtures/linux/pidfd-receiver.py) checks what arrived.
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  isRoot,
  ROOT_REASON,
  testEnv,
  testConfig,
  uniqueId,
  parseState,
  cgroupDirsOf,
  testCgroupPath,
  FIXTURES,
  type Env,
} from '../../helpers/harness';
import { waitFor, sleep } from '../../helpers/wait';
import { createContainer } from '../../../src/api/index';

const RECEIVER = join(FIXTURES, 'linux', 'pidfd-receiver.py');

interface Received {
  data: string;
  nfds: number;
  type: number;
  link?: string;
  pid?: number;
  more: string;
}

/** Starts a receiver on a fresh socket path; `received()` is what it printed once the runtime sent. */
async function receiver(env: Env): Promise<{ sock: string; received: () => Promise<Received> }> {
  const sock = join(env.dir, `${uniqueId('pfd')}.sock`);
  const outFile = `${sock}.out`;
  const out = openSync(outFile, 'a');
  const proc = spawn('python3', [RECEIVER, sock], { stdio: ['ignore', out, out] });
  closeSync(out);
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  await waitFor(() => existsSync(sock) || proc.exitCode !== null, { timeoutMs: 10000, intervalMs: 25 });
  if (!existsSync(sock)) throw new Error(`the receiver did not start: ${readFileSync(outFile, 'utf8')}`);
  return {
    sock,
    async received() {
      await Promise.race([exited, sleep(10000).then(() => proc.kill())]);
      const text = readFileSync(outFile, 'utf8');
      try {
        return JSON.parse(text) as Received;
      } catch {
        throw new Error(`receiver: ${text}`);
      }
    },
  };
}

function checkReceived(t: Pick<Test, 'equal'>, got: Received, kind: string, pid: number): void {
  t.equal(got.type, 1, 'a SOCK_STREAM connection');
  t.equal(got.data, kind, `data ${JSON.stringify(kind)}, as runc`);
  t.equal(got.nfds, 1, 'one descriptor');
  t.equal(got.link, 'anon_inode:[pidfd]', 'a pidfd');
  t.equal(got.pid, pid, `of the process (${pid}), by its fdinfo`);
  t.equal(got.more, '', 'then the connection is closed');
}

/** The test containers' cgroups left under this test's parent (there should be none after delete). */
const cgroupsOf = (id: string) => cgroupDirsOf(testCgroupPath(id)).filter((d) => existsSync(d));

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else if (spawnSync('python3', ['-c', 'import socket; socket.recv_fds'], { stdio: 'ignore' }).status !== 0) {
  t.plan(0, 'python3 3.9+ (socket.recv_fds) is needed for the receiver and is not installed');
} else {
  t.test('--pidfd-socket is in the help of create, run and exec, with runc words', async (t) => {
    const env = testEnv(t);
    for (const [cmd, what] of [
      ['create', 'init'],
      ['run', 'init'],
      ['exec', 'exec'],
    ]) {
      const help = env.run([cmd, '--help']).stdout.replace(/\s+/g, ' ');
      t.match(
        help,
        `--pidfd-socket path to an AF_UNIX socket which will receive a file descriptor referencing the ${what} process`,
        `${cmd} --help`,
      );
    }
    env.done();
  });

  for (const cmd of [['create'], ['run', '-d']]) {
    t.test(`${cmd.join(' ')} --pidfd-socket: a pidfd of the init, "standard"`, async (t) => {
      const env = testEnv(t);
      const id = uniqueId('pfd');
      const pidFile = join(env.dir, 'init.pid');
      const rx = await receiver(env);
      const b = env.bundle(testConfig(id, ['sleep', '300']));
      const args = [...cmd, '--pid-file', pidFile, '--pidfd-socket', rx.sock, '-b', b, id];
      const r = env.run(args, { output: join(env.dir, 'out') });
      t.equal(r.code, 0, r.stderr);
      const pid = parseState(env.run(['state', id])).pid as number;
      t.equal(Number(readFileSync(pidFile, 'utf8')), pid, 'the pid file names the same process');
      checkReceived(t, await rx.received(), 'standard', pid);
      t.equal(env.run(['delete', '--force', id]).code, 0);
      env.done();
    });
  }

  t.test('exec -d --pidfd-socket: a pidfd of the exec\'d process, "setns"', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('pfd');
    const b = env.bundle(testConfig(id, ['sleep', '300']));
    t.equal(env.run(['run', '-d', '-b', b, id], { output: join(env.dir, 'out') }).code, 0);
    const pidFile = join(env.dir, 'exec.pid');
    const rx = await receiver(env);
    const r = env.run(['exec', '-d', '--pid-file', pidFile, '--pidfd-socket', rx.sock, id, 'sleep', '300'], {
      output: join(env.dir, 'exec.out'),
    });
    t.equal(r.code, 0, r.stderr);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    t.not(pid, parseState(env.run(['state', id])).pid, 'not the init');
    checkReceived(t, await rx.received(), 'setns', pid);
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });

  t.test('the library: createContainer and exec take pidfdSocket', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('pfdapi');
    const rx = await receiver(env);
    const c = await createContainer({
      id,
      root: env.root,
      bundle: env.bundle(testConfig(id, ['sleep', '300'])),
      pidfdSocket: rx.sock,
    });
    checkReceived(t, await rx.received(), 'standard', (await c.state()).pid!);
    const rx2 = await receiver(env);
    const pidFile = join(env.dir, 'api-exec.pid');
    const proc = { args: ['sleep', '300'], cwd: '/' };
    t.equal(await c.exec(proc, { detach: true, pidFile, pidfdSocket: rx2.sock }), 0);
    checkReceived(t, await rx2.received(), 'setns', Number(readFileSync(pidFile, 'utf8')));
    await c.delete({ force: true });
    env.done();
  });

  t.test(
    'the pidfd goes out before the pid file is written (as runc): an unwritable pid file fails after it',
    async (t) => {
      const env = testEnv(t);
      const id = uniqueId('pfdorder');
      const pidFile = join(env.dir, 'no-such-dir', 'init.pid');
      const rx = await receiver(env);
      const b = env.bundle(testConfig(id, ['sleep', '300']));
      const r = env.run(['create', '--pid-file', pidFile, '--pidfd-socket', rx.sock, '-b', b, id], {
        output: join(env.dir, 'out'),
      });
      t.equal(r.code, 1, `create fails on the pid file: ${r.stderr.trim()}`);
      const got = await rx.received();
      t.equal(got.data, 'standard', "yet the receiver got the init's pidfd first");
      t.equal(got.link, 'anon_inode:[pidfd]');
      t.same(readdirSync(env.root), [], 'and create left nothing');
      t.same(cgroupsOf(id), [], 'no cgroup');
      env.done();
    },
  );

  t.test('a --pidfd-socket nobody listens on: a clear error naming the flag, nothing left', async (t) => {
    const env = testEnv(t);
    const missing = join(env.dir, 'nobody.sock');
    for (const cmd of [['create'], ['run', '-d']]) {
      const id = uniqueId('pfdbad');
      const b = env.bundle(testConfig(id, ['sleep', '300']));
      const r = env.run([...cmd, '--pidfd-socket', missing, '-b', b, id], { output: join(env.dir, `${id}.out`) });
      t.equal(r.code, 1, `${cmd[0]}: exit 1`);
      t.match(r.stderr, `--pidfd-socket ${missing}: connect: ENOENT`, `${cmd[0]}: ${r.stderr.trim()}`);
      t.same(readdirSync(env.root), [], `${cmd[0]}: no container state`);
      t.same(cgroupsOf(id), [], `${cmd[0]}: no cgroup`);
    }
    const id = uniqueId('pfd');
    t.equal(
      env.run(['run', '-d', '-b', env.bundle(testConfig(id, ['sleep', '300'])), id], { output: join(env.dir, 'o') })
        .code,
      0,
    );
    const r = env.run(['exec', '-d', '--pidfd-socket', missing, id, 'sleep', '300']);
    t.equal(r.code, 255, 'exec: exit 255');
    t.match(r.stderr, `--pidfd-socket ${missing}: connect: ENOENT`, `exec: ${r.stderr.trim()}`);
    t.equal((JSON.parse(env.run(['ps', '--format', 'json', id]).stdout) as number[]).length, 1, 'exec: only the init');
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });
}
