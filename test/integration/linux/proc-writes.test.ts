// /proc writes a container tries to redirect (CVE-2025-52881): a mount put
// over a file of the container's /proc that the runtime writes (or reads)
// after the container's mounts exist. Here a createContainer hook makes that
// mount, deterministically, where the advisory's attacker races a shared
// mount. tsrun goes through its own procfs handle: the write lands on the
// real file, the covering file (the host's core_pattern) is never touched.
// The fixture runs the same code with a cover in place and only a plain
// /proc handle: then the write is refused, naming the path and the reason.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Spec } from '../../../src/spec/types';
import {
  type Env,
  ROOT_REASON,
  cgroupDirsOf,
  isRoot,
  parseState,
  testCgroupPath,
  testConfig,
  testEnv,
  uniqueId,
} from '../../helpers/harness';
import { FIXTURES } from '../../helpers/paths';
import { hasRunc, runtimes } from '../../helpers/runc';
import { waitForSync } from '../../helpers/wait';

const CORE_PATTERN = '/proc/sys/kernel/core_pattern';
const fixture = join(FIXTURES, 'linux', 'proc-redirect.ts');
const tsx = pathToFileURL(require.resolve('tsx')).href;

/** A createContainer hook (container's mount namespace, cwd = rootfs, before pivot_root) covering `procPath`. */
function coverHook(cover: string, procPath: string): NonNullable<Spec['hooks']> {
  return { createContainer: [{ path: '/bin/mount', args: ['mount', '--bind', cover, `.${procPath}`] }] };
}

/** Creates the container, checks the host's core_pattern is untouched, reports what `inspect` found, deletes it. */
function createCovered(t: Test, env: Env, c: Spec, id: string, inspect: (pid: number) => void): void {
  const before = readFileSync(CORE_PATTERN, 'utf8');
  c.linux!.cgroupsPath = testCgroupPath(id);
  const r = env.run(['create', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
  try {
    t.equal(r.code, 0, `create: ${r.stderr}`);
    if (r.code === 0) inspect(parseState(env.run(['state', id])).pid as number);
  } finally {
    t.equal(readFileSync(CORE_PATTERN, 'utf8'), before, 'the host core_pattern put over it is unchanged');
    t.equal(env.run(['delete', '--force', id]).code, 0, 'deleted');
  }
  t.same(cgroupDirsOf(testCgroupPath(id)), [], 'no cgroup left');
}

/** The fixture in a private mount namespace, as root. */
function redirect(plan: object): { source?: string; read?: string; error?: string } {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.NODE_EXTRA_CA_CERTS;
  const argv = ['-m', '--propagation', 'private', process.execPath, '--import', tsx, fixture, JSON.stringify(plan)];
  const r = spawnSync('unshare', argv, { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`fixture failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// A safety net only: should a write ever be redirected, the host gets its value back.
const hostCorePattern = isRoot ? readFileSync(CORE_PATTERN, 'utf8') : '';
process.on('exit', () => {
  if (isRoot && readFileSync(CORE_PATTERN, 'utf8') !== hostCorePattern) writeFileSync(CORE_PATTERN, hostCorePattern);
});

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('oom_score_adj: core_pattern bound over the container /proc/1/oom_score_adj', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('oom');
    const c = testConfig(id, ['sleep', '300']);
    c.process!.oomScoreAdj = 321;
    c.hooks = coverHook(CORE_PATTERN, '/proc/1/oom_score_adj');
    createCovered(t, env, c, id, (pid) => {
      t.equal(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim(), '321', 'the init’s real oom_score_adj');
    });
    env.done();
  });

  t.test('sysctl: core_pattern bound over the container /proc/sys/net/ipv4/ip_forward', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('sysctl');
    const c = testConfig(id, ['sleep', '300']);
    c.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
    c.hooks = coverHook(CORE_PATTERN, '/proc/sys/net/ipv4/ip_forward');
    createCovered(t, env, c, id, (pid) => {
      const r = spawnSync('nsenter', ['-t', String(pid), '-n', 'cat', '/proc/sys/net/ipv4/ip_forward'], {
        encoding: 'utf8',
      });
      t.equal(r.stdout.trim(), '1', 'the container network namespace got the sysctl');
    });
    env.done();
  });

  t.test(
    'setgroups: a "deny" file over /proc/1/setgroups does not stop additionalGids (runc 1.1.5: it does)',
    async (t) => {
      const env = testEnv(t);
      const deny = join(env.dir, 'deny');
      writeFileSync(deny, 'deny\n');
      for (const rt of runtimes(t, env)) {
        const id = uniqueId(`sg-${rt.name}`);
        const c = testConfig(id, ['sh', '-c', 'grep ^Groups: /proc/self/status']);
        c.process!.user = { uid: 0, gid: 0, additionalGids: [10, 20] };
        c.hooks = coverHook(deny, '/proc/1/setgroups');
        c.linux!.cgroupsPath = testCgroupPath(id);
        const r = rt.run(['run', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
        t.equal(r.code, 0, `${rt.name}: ${r.stderr}`);
        const groups = /^Groups:\s+10 20\s*$/m;
        t.comment(`${rt.name}: ${r.stderr.trim()}`);
        if (rt.name === 'tsrun') t.match(r.stderr, groups, 'tsrun: the groups asked for');
        // runc 1.1.5 reads the container's /proc/self/setgroups, takes "deny" and skips setgroups.
        else t.notMatch(r.stderr, groups, 'runc 1.1.5: misled into keeping its own groups (fixed in 1.2.8 / 1.3.3)');
      }
      env.done();
    },
  );

  t.test('exec: oomScoreAdj reaches the real file although the container replaced its /proc', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('exec');
    const script =
      'mount -t tmpfs none /proc && mkdir /proc/self && echo 7 > /proc/self/oom_score_adj && exec sleep 300';
    const c = testConfig(id, ['sh', '-c', script]);
    for (const set of ['bounding', 'effective', 'permitted'] as const)
      c.process!.capabilities![set]!.push('CAP_SYS_ADMIN');
    c.linux!.cgroupsPath = testCgroupPath(id);
    t.equal(env.run(['run', '-d', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) }).code, 0, 'started');
    const fake = waitForSync(() => env.run(['exec', id, 'cat', '/proc/self/oom_score_adj']).stdout.trim(), {
      done: (v) => v === '7',
    });
    t.equal(fake, '7', 'the container /proc is its own tmpfs');
    const proc = { ...c.process!, args: ['sleep', '100'], oomScoreAdj: 222 };
    writeFileSync(join(env.dir, 'p.json'), JSON.stringify(proc));
    const pidFile = join(env.dir, 'exec.pid');
    const r = env.run(['exec', '-d', '--pid-file', pidFile, '--process', join(env.dir, 'p.json'), id], {
      output: join(env.dir, 'exec.out'),
    });
    t.equal(r.code, 0, `exec: ${r.stderr}`);
    if (r.code === 0) {
      const pid = readFileSync(pidFile, 'utf8').trim();
      t.equal(
        readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim(),
        '222',
        'the exec’d process’s real oom_score_adj',
      );
    }
    t.equal(env.run(['delete', '--force', id]).code, 0, 'deleted');
    t.same(cgroupDirsOf(testCgroupPath(id)), [], 'no cgroup left');
    env.done();
  });

  t.test(
    'sysctl under runc 1.1.5 (vulnerable): the write lands in the file put over it',
    { skip: !hasRunc && 'runc not installed' },
    async (t) => {
      const env = testEnv(t);
      // A harmless target: a scratch file, never a host sysctl.
      const scratch = join(env.dir, 'scratch');
      for (const rt of runtimes(t, env)) {
        writeFileSync(scratch, 'untouched\n');
        const id = uniqueId(`sysctl-${rt.name}`);
        const c = testConfig(id, ['true']);
        c.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
        c.hooks = coverHook(scratch, '/proc/sys/net/ipv4/ip_forward');
        c.linux!.cgroupsPath = testCgroupPath(id);
        const r = rt.run(['run', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
        const after = readFileSync(scratch, 'utf8');
        t.comment(`${rt.name}: exit ${r.code}, the file over ip_forward now holds ${JSON.stringify(after)}`);
        if (rt.name === 'tsrun') t.equal(after, 'untouched\n', 'tsrun: the covering file is untouched');
        else t.not(after, 'untouched\n', 'runc 1.1.5: redirected (what its 1.2.8 / 1.3.3 fix)');
        rt.run(['delete', '--force', id]);
      }
      env.done();
    },
  );

  t.test('a mount whose destination resolves into /proc through a symlink is refused, as by runc', async (t) => {
    const env = testEnv(t);
    const dir = join(env.dir, 'links');
    mkdirSync(dir);
    symlinkSync('/proc/self/oom_score_adj', join(dir, 'evil'));
    const cover = join(env.dir, 'cover');
    writeFileSync(cover, '0\n');
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(`lnk-${rt.name}`);
      const c = testConfig(id, ['true']);
      c.mounts!.push(
        { destination: '/links', type: 'bind', source: dir, options: ['rbind'] },
        { destination: '/links/evil', type: 'bind', source: cover, options: ['bind'] },
      );
      c.linux!.cgroupsPath = testCgroupPath(id);
      const r = rt.run(['run', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
      t.not(r.code, 0, `${rt.name}: refused`);
      t.match(r.stderr, /inside \/proc/, `${rt.name}: ${r.stderr.trim().split('\n').pop()}`);
      if (rt.name === 'tsrun') t.match(r.stderr, /\/links\/evil resolves to \/proc\/1\/oom_score_adj/);
      t.same(cgroupDirsOf(testCgroupPath(id)), [], `${rt.name}: no cgroup left`);
    }
    env.done();
  });

  t.test('the procfs handle itself: private first, refusal when only a covered /proc is left', async (t) => {
    const cover = '/proc/sys/kernel/core_pattern';
    const cases: { path: string; value?: string }[] = [
      { path: '/proc/self/oom_score_adj', value: '0' },
      { path: '/proc/thread-self/attr/exec', value: 'exec unconfined' },
      { path: '/proc/self/setgroups' },
    ];
    const before = readFileSync(CORE_PATTERN, 'utf8');
    for (const { path, value } of cases) {
      const priv = redirect({ path, value, cover });
      t.equal(priv.source, 'fsopen', `${path}: a private procfs`);
      if (value === undefined) t.equal(priv.read?.trim(), 'allow', `${path}: the real file is read`);
      else t.not(priv.error ?? '', /refusing/, `${path}: reaches the real file (${priv.error ?? 'written'})`);
      const plain = redirect({ path, value, cover, sources: ['/proc'] });
      t.equal(plain.source, '/proc');
      t.match(
        plain.error,
        `${path}: a mount covers it or a directory on its way (openat2(${path}): EXDEV); refusing to use it`,
        `${path}: refused through a covered /proc`,
      );
      const early = redirect({ path, value, cover, sources: ['open_tree(/proc)'], handleFirst: true });
      t.equal(early.source, 'open_tree(/proc)');
      t.not(early.error ?? '', /refusing/, `${path}: a clone taken before the cover does not see it`);
    }
    t.equal(readFileSync(CORE_PATTERN, 'utf8'), before, 'core_pattern unchanged');
  });
}
