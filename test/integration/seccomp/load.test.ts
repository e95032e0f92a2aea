// Real kernel: a child node process loads the compiled filter on its main
// thread and makes the calls on that same thread (no TSYNC; node's other
// threads stay unfiltered, which is fine since they make no such calls).
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LinuxSeccomp } from '../../../src/spec/types';
import { compileSeccomp, compiledToJSON } from '../../../src/seccomp/compile';
import { FIXTURES } from '../../helpers/paths';
import { skipBecause } from '../../helpers/skip';

const child = join(FIXTURES, 'seccomp', 'load-child.ts');
const agent = join(FIXTURES, 'seccomp', 'notify-agent.py');

function runChild(profile: LinuxSeccomp, calls: [string, string | number][], state?: object) {
  const compiled = JSON.stringify(compiledToJSON(compileSeccomp(profile)));
  const args = ['--import', 'tsx', child, compiled, JSON.stringify(calls), ...(state ? [JSON.stringify(state)] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: childEnv(), timeout: 60_000 });
  return { ...r, results: r.status === 0 ? (JSON.parse(r.stdout.trim().split('\n').pop()!) as string[]) : undefined };
}

// A bare environment: tap's hooks (NODE_OPTIONS and friends) would themselves make filtered calls at exit.
function childEnv() {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin' };
}

const dir = mkdtempSync(join(tmpdir(), 'tsrun-seccomp-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('mkdir returns EPERM, personality(0) allowed, personality(8) denied', (t) => {
  const r = runChild(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' },
        {
          names: ['personality'],
          action: 'SCMP_ACT_ERRNO',
          errnoRet: 22,
          args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 8 }],
        },
      ],
    },
    [
      ['mkdir', join(dir, 'denied')],
      ['personality', 0xffffffff],
      ['personality', 8],
      ['personality', 0],
    ],
  );
  t.equal(r.status, 0, 'child exits 0', { stderr: r.stderr });
  t.same(r.results, ['EPERM', `ok 0`, 'EINVAL', 'ok 0'], 'verdicts as the profile says');
  t.notOk(existsSync(join(dir, 'denied')), 'the directory was not made');
  t.end();
});

t.test('SCMP_ACT_KILL_PROCESS kills with SIGSYS', (t) => {
  const r = runChild(
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL_PROCESS' }] },
    [['mkdir', join(dir, 'killed')]],
  );
  t.equal(r.signal, 'SIGSYS', `killed by SIGSYS (status ${r.status}, stderr ${r.stderr})`);
  t.notOk(existsSync(join(dir, 'killed')), 'the directory was not made');
  t.end();
});

t.test('calls the profile does not name are untouched', (t) => {
  const r = runChild(
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }] },
    [
      ['mkdir', join(dir, 'made')],
      ['personality', 0],
    ],
  );
  t.same(r.results, ['ok 0', 'ENOSYS'], `mkdir allowed, personality ENOSYS (stderr ${r.stderr})`);
  t.ok(existsSync(join(dir, 'made')));
  t.end();
});

t.test('SCMP_ACT_NOTIFY hands the listener to the agent at listenerPath', async (t) => {
  if (spawnSync('python3', ['-c', 'import socket; socket.recv_fds'], { stdio: 'ignore' }).status !== 0) {
    skipBecause(t, 'python3 (3.9+) is needed for the test agent and is not installed');
    return;
  }
  const sock = join(dir, 'agent.sock');
  const ag = spawn('python3', [agent, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void ag.kill());
  let out = '';
  await new Promise<void>((resolve, reject) => {
    ag.stdout.on('data', (d) => {
      out += d;
      if (out.startsWith('ready\n')) resolve();
    });
    ag.on('exit', () => reject(new Error(`agent exited: ${out}`)));
  });
  const state = { ociVersion: '1.2.0', id: 'seccomp-test', status: 'creating', pid: process.pid, bundle: dir };
  const running = new Promise<{ results?: string[]; stderr: string }>((resolve) => {
    const compiled = JSON.stringify(
      compiledToJSON(
        compileSeccomp({
          defaultAction: 'SCMP_ACT_ALLOW',
          listenerPath: sock,
          listenerMetadata: 'hello agent',
          syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
        }),
      ),
    );
    const env = childEnv();
    const c = spawn(
      process.execPath,
      ['--import', 'tsx', child, compiled, JSON.stringify([['mkdir', join(dir, 'notified')]]), JSON.stringify(state)],
      { env },
    );
    let so = '';
    let se = '';
    c.stdout.on('data', (d) => (so += d));
    c.stderr.on('data', (d) => (se += d));
    c.on('exit', () => resolve({ results: so ? JSON.parse(so.trim()) : undefined, stderr: se }));
  });
  const r = await running;
  await new Promise((res) => (ag.exitCode !== null ? res(null) : ag.on('exit', res)));
  const seen = JSON.parse(out.split('\n')[1]);
  t.same(r.results, ['EROFS'], `the agent's answer reached mkdir (stderr ${r.stderr})`);
  t.same(seen.state.fds, ['seccompFd'], 'fds names the listener');
  t.equal(seen.nfds, 1, 'one fd passed');
  t.equal(seen.state.metadata, 'hello agent', 'listenerMetadata passed');
  t.equal(seen.state.state.id, 'seccomp-test', 'container state passed');
  t.equal(seen.nr, 83, 'the notification is for mkdir (x86_64 83)');
  t.notOk(existsSync(join(dir, 'notified')));
});
