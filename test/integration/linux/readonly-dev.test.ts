// Containers whose /dev is read-only — a tmpfs with "ro", a read-only bind of
// a prepared directory, no /dev mount under a read-only root — with and
// without a terminal, as runc 1.1 runs them: the console is set up before
// /dev and / turn read-only, and a bind-mounted /dev is used as it is.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testEnv, testConfig, uniqueId, sharedRootfs, type Env } from '../../helpers/harness';
import { runWithConsoleSocket } from '../../helpers/console';
import type { Spec } from '../../../src/spec/types';

// What the program reports: its terminal, /dev/console, /dev's mount options, whether /dev takes a new file.
const PROBE = [
  'tty',
  'stat -c console=%t:%T /dev/console 2>/dev/null || echo console=none',
  'echo devopts=$(grep " /dev " /proc/self/mountinfo | cut -d" " -f6)',
  'if touch /dev/probe 2>/dev/null; then echo dev=writable; else echo dev=readonly; fi',
  'echo null=$(stat -c %t:%T /dev/null)',
  'echo fds=$(ls /proc/self/fd | tr "\\n" " ")',
].join('; ');

function config(id: string, terminal: boolean, dev: (c: Spec) => void): Spec {
  const c = testConfig(id, ['sh', '-c', PROBE]);
  c.process!.terminal = terminal;
  dev(c);
  return c;
}

function devMount(c: Spec) {
  return c.mounts!.find((m) => m.destination === '/dev')!;
}

const tmpfsReadonly = (c: Spec) => devMount(c).options!.push('ro');

/** A prepared /dev tree bound read-only; its ptmx is a node (5:2), as in a host's /dev. */
function boundDev(env: Env, opts: { console: boolean }) {
  const dir = join(env.dir, `dev-${uniqueId('d')}`);
  for (const sub of ['pts', 'shm', 'mqueue']) mkdirSync(join(dir, sub), { recursive: true });
  execFileSync('mknod', ['-m', '666', join(dir, 'null'), 'c', '1', '3']);
  execFileSync('mknod', ['-m', '666', join(dir, 'ptmx'), 'c', '5', '2']);
  if (opts.console) writeFileSync(join(dir, 'console'), '');
  return (c: Spec) => {
    const m = devMount(c);
    m.type = 'bind';
    m.source = dir;
    m.options = ['rbind', 'ro', 'nosuid'];
  };
}

function runPlain(env: Env, c: Spec, id: string) {
  const out = join(env.dir, `${id}.out`);
  const r = env.run(['run', '--bundle', env.bundle(c), id], { output: out });
  return { code: r.code, output: readFileSync(out, 'utf8') };
}

function checkReadonlyDev(t: Test, output: string) {
  t.match(output, /^devopts=ro,/m, '/dev is mounted read-only');
  t.match(output, /^dev=readonly\r?$/m, '/dev takes no new file');
  t.match(output, /^null=1:3\r?$/m, '/dev/null is the null device');
  t.match(output, /^fds=0 1 2 3\s*$/m, 'only stdio reaches the program (3 is ls reading the directory)');
}

function checkTerminal(t: Test, output: string) {
  t.match(output, /^\/dev\/pts\/0\r$/m, "the program's stdio is the container's first pty");
  t.match(output, /^console=88:0\r$/m, '/dev/console is that pty (136:0)');
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('tmpfs /dev with "ro"', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('rodev');
    const plain = runPlain(env, config(id, false, tmpfsReadonly), id);
    t.equal(plain.code, 0, `runs without a terminal: ${plain.output}`);
    checkReadonlyDev(t, plain.output);
    t.match(plain.output, /^console=none$/m, 'no /dev/console without a terminal');

    const tid = uniqueId('rodevt');
    const r = runWithConsoleSocket(env, env.bundle(config(tid, true, tmpfsReadonly)), tid);
    t.equal(r.create.code, 0, `create with a terminal succeeds: ${r.create.stderr}`);
    checkTerminal(t, r.output);
    checkReadonlyDev(t, r.output);
    env.done();
  });

  t.test('read-only bind of a prepared /dev (ptmx a 5:2 node)', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('binddev');
    const plain = runPlain(env, config(id, false, boundDev(env, { console: false })), id);
    t.equal(plain.code, 0, `runs without a terminal: ${plain.output}`);
    checkReadonlyDev(t, plain.output);

    const tid = uniqueId('binddevt');
    const r = runWithConsoleSocket(env, env.bundle(config(tid, true, boundDev(env, { console: true }))), tid);
    t.equal(r.create.code, 0, `create with a terminal succeeds: ${r.create.stderr}`);
    checkTerminal(t, r.output);
    checkReadonlyDev(t, r.output);
    env.done();
  });

  t.test('a terminal on a read-only bound /dev without /dev/console fails clearly (as runc)', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('noconsole');
    const r = runWithConsoleSocket(env, env.bundle(config(id, true, boundDev(env, { console: false }))), id);
    t.equal(r.create.code, 1, 'create fails');
    t.match(r.create.stderr, /process\.terminal: \/dev is read-only and has no \/dev\/console .*EROFS/);
    env.done();
  });

  t.test('no /dev mount under a read-only root, with a terminal', async (t) => {
    const env = testEnv(t);
    // Devices are created in the rootfs itself here (runc does the same): a copy of our own.
    const rootfs = join(env.dir, 'rootfs');
    execFileSync('cp', ['-a', sharedRootfs(), rootfs]);
    const id = uniqueId('nodev');
    const c = config(id, true, (c) => {
      c.mounts = c.mounts!.filter((m) => m.destination !== '/dev');
      c.root = { path: rootfs, readonly: true };
    });
    const r = runWithConsoleSocket(env, env.bundle(c), id);
    t.equal(r.create.code, 0, `create succeeds: ${r.create.stderr}`);
    checkTerminal(t, r.output);
    t.match(r.output, /^dev=readonly\r$/m, '/dev is read-only with the root');
    t.ok(
      existsSync(join(rootfs, 'dev', 'console')),
      '/dev/console was created in the rootfs before it turned read-only',
    );
    env.done();
  });
}
