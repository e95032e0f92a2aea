// SCMP_ACT_NOTIFY in real containers: an agent (test/fixtures/seccomp/notify-agent.py)
// listens at listenerPath, receives the container's state and the listener
// fd, and answers the container's mkdir; the container sees the answer.
// The same bundles run under runc when it is installed.
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  isRoot,
  ROOT_REASON,
  testEnv,
  testConfig,
  uniqueId,
  type Env,
  testCgroupPath,
  FIXTURES,
} from '../../helpers/harness';
import type { Spec } from '../../../src/spec/types';
import { runTsrun, runRunc, cleanupRunc, hasRunc, type Outcome } from '../../helpers/seccomp-container';
import { waitFor } from '../../helpers/wait';

const AGENT = join(FIXTURES, 'seccomp', 'notify-agent.py');
const MKDIR_X86_64 = 83;

interface Seen {
  state: {
    ociVersion: string;
    fds: string[];
    pid: number;
    metadata?: string;
    state: { ociVersion: string; id: string; pid: number; status: string; bundle: string };
  };
  nfds: number;
  nr: number;
  pid: number;
  ppid: number;
  path: string;
}

interface Agent {
  sock: string;
  proc: ChildProcess;
  /** What the agent printed, one object per notification, once it has exited. */
  seen(): Promise<Seen[]>;
}

async function startAgent(env: Env, mode: string): Promise<Agent> {
  return startAgentAt(env, join(env.dir, `${uniqueId('agent')}.sock`), mode);
}

async function startAgentAt(env: Env, sock: string, mode: string): Promise<Agent> {
  const outFile = join(env.dir, `${uniqueId('agent')}.out`);
  const out = openSync(outFile, 'a');
  const proc = spawn('python3', [AGENT, sock, mode], { stdio: ['ignore', out, 'inherit'] });
  closeSync(out);
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  await waitFor(() => existsSync(sock) || proc.exitCode !== null, { timeoutMs: 5000, intervalMs: 25 });
  if (!existsSync(sock)) throw new Error(`the agent did not start: ${readFileSync(outFile, 'utf8')}`);
  return {
    sock,
    proc,
    async seen() {
      await Promise.race([exited, sleep(10000).then(() => proc.kill())]);
      return readFileSync(outFile, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Seen);
    },
  };
}

function notifyConfig(sock: string, nnp = true): Spec {
  const c = testConfig('x', []);
  c.process!.noNewPrivileges = nnp;
  c.linux!.seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    listenerPath: sock,
    listenerMetadata: 'from the test',
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
  };
  return c;
}

const SCRIPT = ['sh', '-c', 'mkdir /dev/shm/n; echo rc=$?; ls /dev/shm'];

/** One container under one runtime with a fresh agent. */
async function withAgent(
  env: Env,
  mode: string,
  run: (c: Spec) => Outcome | undefined,
  nnp = true,
): Promise<{ r?: Outcome; seen: Seen[] }> {
  const agent = await startAgent(env, mode);
  try {
    const r = run(notifyConfig(agent.sock, nnp));
    if (!r) agent.proc.kill();
    return { r, seen: await agent.seen() };
  } finally {
    agent.proc.kill();
  }
}

const sortedLines = (o: Outcome) => ({ code: o.code, lines: o.out.split('\n').filter(Boolean).sort() });

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else if (spawnSync('python3', ['-c', 'import socket; socket.recv_fds'], { stdio: 'ignore' }).status !== 0) {
  t.plan(0, 'python3 3.9+ (socket.recv_fds) is needed for the test agent and is not installed');
} else {
  for (const [mode, expect] of [
    [
      'errno:30',
      { rc: 1, made: false, msg: /^mkdir: can't create directory '\/dev\/shm\/n': Read-only file system$/m },
    ],
    ['fake', { rc: 0, made: false }],
    ['continue', { rc: 0, made: true }],
  ] as const) {
    t.test(`the agent answers mkdir (${mode}) and the container sees it`, async (t) => {
      const env = testEnv(t);
      t.teardown(() => cleanupRunc(env));
      for (const nnp of mode === 'errno:30' ? [true, false] : [true]) {
        const { r, seen } = await withAgent(env, mode, (c) => runTsrun(env, c, [...SCRIPT]), nnp);
        t.equal(r!.code, 0, `noNewPrivileges ${nnp}: ${r!.out}`);
        t.match(
          r!.out,
          new RegExp(`^rc=${expect.rc}$`, 'm'),
          `mkdir's result is the agent's answer (noNewPrivileges ${nnp})`,
        );
        if ('msg' in expect) t.match(r!.out, expect.msg);
        t.equal(
          /^n$/m.test(r!.out),
          expect.made,
          expect.made ? 'the directory was made by the kernel' : 'no directory was made',
        );

        t.equal(seen.length, 1, 'one notification');
        const s = seen[0];
        if (!s) continue;
        t.equal(s.nr, MKDIR_X86_64, 'for mkdir');
        t.equal(s.path, '/dev/shm/n', "the agent reads the program's argument");
        t.equal(s.nfds, 1, 'one fd passed');
        t.same(s.state.fds, ['seccompFd'], 'fds names the listener');
        t.equal(s.state.metadata, 'from the test', 'listenerMetadata passed');
        t.match(s.state.ociVersion, /^1\.\d+\.\d+$/);
        t.equal(s.state.ociVersion, s.state.state.ociVersion, "ociVersion: the container state's");
        t.match(s.state.state.id, /^sc-/, "the container's state");
        t.equal(s.state.pid, s.state.state.pid, 'pid: the container process');
        // busybox sh forks for mkdir, as more commands follow.
        t.ok(s.pid === s.state.pid || s.ppid === s.state.pid, 'the notification comes from that process or its child');
        t.comment(`state status when the listener is handed over: ${s.state.state.status}`);
      }

      if (!hasRunc) {
        t.comment('runc is not installed: no comparison');
      } else {
        const mine = await withAgent(env, mode, (c) => runTsrun(env, c, [...SCRIPT]));
        const theirs = await withAgent(env, mode, (c) => runRunc(env, c, [...SCRIPT]));
        t.same(sortedLines(theirs.r!), sortedLines(mine.r!), 'runc: same output');
        t.same(
          theirs.seen.map((s) => [s.nr, s.path, s.nfds, s.state.fds, s.state.metadata]),
          mine.seen.map((s) => [s.nr, s.path, s.nfds, s.state.fds, s.state.metadata]),
          'runc: the agent sees the same',
        );
        t.comment(
          `runc hands over with status ${theirs.seen[0]?.state.state.status}, ` +
            `tsrun with ${mine.seen[0]?.state.state.status}`,
        );
      }
      env.done();
    });
  }

  t.test('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV with a listener', async (t) => {
    const env = testEnv(t);
    const agent = await startAgent(env, 'errno:30');
    try {
      const c = notifyConfig(agent.sock);
      c.linux!.seccomp!.flags = ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'];
      const r = runTsrun(env, c, [...SCRIPT]);
      t.equal(r.code, 0, r.out);
      t.match(r.out, /^rc=1$/m, "mkdir gets the agent's answer");
      t.equal((await agent.seen()).length, 1, 'one notification');
    } finally {
      agent.proc.kill();
    }
    env.done();
  });

  t.test("exec: the exec'd process hands its own listener to the agent", async (t) => {
    const env = testEnv(t);
    const first = await startAgent(env, 'errno:30');
    const c = notifyConfig(first.sock);
    c.process!.args = ['sleep', '300'];
    const id = uniqueId('nexec');
    c.linux!.cgroupsPath = testCgroupPath(id);
    try {
      const r = env.run(['run', '-d', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
      t.equal(r.code, 0, readFileSync(join(env.dir, `${id}.out`), 'utf8'));
    } finally {
      first.proc.kill();
    }
    // A fresh agent at the same path takes the exec'd process's listener.
    await first.seen();
    rmSync(first.sock, { force: true });
    const second = await startAgentAt(env, first.sock, 'errno:30');
    try {
      const ex = env.run(['exec', id, ...SCRIPT]);
      t.equal(ex.code, 0, ex.stderr);
      t.match(ex.stdout, /^rc=1$/m, "the exec'd mkdir gets the agent's answer");
      t.equal(env.run(['delete', '--force', id]).code, 0);
      const seen = await second.seen();
      t.equal(seen.length, 1, 'one notification');
      t.equal(seen[0]?.path, '/dev/shm/n', "from the exec'd process");
      t.equal(seen[0]?.state.state.status, 'running', 'with the container running');
    } finally {
      second.proc.kill();
    }
    env.done();
  });

  t.test('no agent at listenerPath: create fails and leaves nothing', async (t) => {
    const env = testEnv(t);
    const c = notifyConfig(join(env.dir, 'nobody.sock'));
    c.process!.args = ['true'];
    const id = uniqueId('noagent');
    c.linux!.cgroupsPath = testCgroupPath(id);
    const out = join(env.dir, 'noagent.out');
    const r = env.run(['create', '-b', env.bundle(c), id], { output: out });
    const text = readFileSync(out, 'utf8');
    t.equal(r.code, 1, text);
    t.match(text, /nobody\.sock/, 'the error names the listener path');
    t.match(text, /failed to connect with seccomp agent: connect\(.*nobody\.sock\): ENOENT/, "runc's words first");
    const theirs = runRunc(env, c, ['true']);
    if (theirs) {
      t.not(theirs.code, 0, `runc fails too: ${theirs.out}`);
      t.match(theirs.out, /failed to connect with seccomp agent/, 'runc: the same words');
    }
    cleanupRunc(env);
    env.done();
  });

  t.test("SCMP_ACT_NOTIFY on write is refused in runc's words", async (t) => {
    const env = testEnv(t);
    const c = notifyConfig(join(env.dir, 'nobody.sock'));
    c.linux!.seccomp!.syscalls = [{ names: ['write'], action: 'SCMP_ACT_NOTIFY' }];
    const mine = runTsrun(env, c, ['true']);
    t.equal(mine.code, 1, mine.out);
    t.match(mine.out, /syscalls\[0\]\.names: SCMP_ACT_NOTIFY cannot be used for the write syscall: /);
    const theirs = runRunc(env, c, ['true']);
    if (theirs) {
      t.not(theirs.code, 0, `runc refuses too: ${theirs.out}`);
      t.match(theirs.out, /SCMP_ACT_NOTIFY cannot be used for the write syscall/, 'runc: the same words');
    }
    cleanupRunc(env);
    env.done();
  });
}
