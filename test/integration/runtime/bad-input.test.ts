// Bad bundles and bad requests: a clear error naming the file, path or
// argument, a non-zero exit, and nothing left behind.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { writeFileSync, mkdirSync, symlinkSync, existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import {
  isRoot,
  ROOT_REASON,
  testEnv,
  testConfig,
  uniqueId,
  tsrun,
  TSRUN,
  REPO,
  cleanEnv,
  cgroupDirsOf,
  testCgroupPath,
  type Env,
} from '../../helpers/harness';
import type { Spec } from '../../../src/spec/types';

function createFails(
  t: Pick<Test, 'equal' | 'match' | 'notOk'>,
  env: Env,
  config: Spec | string,
  pattern: RegExp,
  extra: string[] = [],
  id = uniqueId('bad'),
): void {
  const bundle = typeof config === 'string' ? config : env.bundle(config);
  const r = env.run(['create', '-b', bundle, ...extra, id], { output: join(env.dir, `${id}.out`) });
  t.equal(r.code, 1, `exit code 1 for ${pattern}`);
  t.match(r.stderr, pattern);
  if (id !== '..') t.notOk(existsSync(join(env.root, id)), 'no state dir left');
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('bundle and config errors', async (t) => {
    const env = testEnv(t);
    createFails(t, env, join(env.dir, 'missing'), /missing/);
    const notJson = join(env.dir, 'notjson');
    mkdirSync(notJson);
    writeFileSync(join(notJson, 'config.json'), '{"ociVersion": "1.2.0",');
    createFails(t, env, notJson, /config\.json.*(JSON|line)/);

    const badRlimit = testConfig('x', ['true']);
    badRlimit.process!.rlimits = [{ type: 'NOFILE', hard: 1, soft: 1 }];
    createFails(t, env, badRlimit, /\/process\/rlimits\/0\/type: must match pattern/);

    const version = testConfig('x', ['true']);
    version.ociVersion = '2.0.0';
    createFails(t, env, version, /ociVersion.*2\.0\.0/);

    const rdt = testConfig('x', ['true']) as Spec & { linux: Record<string, unknown> };
    rdt.linux.intelRdt = { closID: 'guaranteed' };
    createFails(t, env, rdt, /\/linux\/intelRdt: Intel RDT .* not supported/);

    const noRootfs = testConfig('x', ['true']);
    noRootfs.root = { path: join(env.dir, 'nowhere') };
    createFails(t, env, noRootfs, /nowhere/);

    createFails(t, env, testConfig('x', ['/no/such/program']), /no\/such\/program/);
    createFails(t, env, testConfig('x', ['nosuchprogram']), /executable file not found in \$PATH/);

    const badNs = testConfig('x', ['true']);
    badNs.linux!.namespaces = badNs.linux!.namespaces!.map((n) =>
      n.type === 'network' ? { type: 'network', path: '/proc/self/ns/uts' } : n,
    );
    createFails(t, env, badNs, /\/linux\/namespaces\/\d+\/path: .* is not a network namespace/);

    // Every type is checked with the kernel's answer (NS_GET_NSTYPE), and the error says what the file is.
    const others: Record<string, string> = {
      pid: 'net',
      network: 'uts',
      ipc: 'pid',
      uts: 'ipc',
      mount: 'cgroup',
      cgroup: 'mnt',
      time: 'user',
      user: 'time',
    };
    for (const [type, other] of Object.entries(others)) {
      const wrong = testConfig('x', ['true']);
      wrong.linux!.namespaces = [
        ...wrong.linux!.namespaces!.filter((n) => n.type !== type),
        { type: type as 'pid', path: `/proc/self/ns/${other}` },
      ];
      createFails(
        t,
        env,
        wrong,
        new RegExp(
          `/linux/namespaces/\\d+/path: /proc/self/ns/${other} is not a ${type} namespace \\(it is a \\w+ namespace\\)`,
        ),
      );
    }
    const regular = join(env.dir, 'plain-file');
    writeFileSync(regular, '');
    for (const path of [regular, env.dir]) {
      const notNs = testConfig('x', ['true']);
      notNs.linux!.namespaces = notNs.linux!.namespaces!.map((n) =>
        n.type === 'network' ? { type: 'network', path } : n,
      );
      createFails(
        t,
        env,
        notNs,
        new RegExp(`/linux/namespaces/\\d+/path: ${path} is not a network namespace \\(not a namespace file\\)`),
      );
    }

    const missingHook = testConfig('x', ['true']);
    missingHook.hooks = { createRuntime: [{ path: '/no/such/hook' }] };
    createFails(t, env, missingHook, /createRuntime hook 0 \(\/no\/such\/hook\)/);

    const slowHook = testConfig('x', ['true']);
    slowHook.hooks = { createContainer: [{ path: '/bin/sleep', args: ['sleep', '5'], timeout: 1 }] };
    createFails(t, env, slowHook, /createContainer hook 0 .*timed out/);

    const relMount = testConfig('x', ['true']);
    relMount.mounts!.push({ destination: 'relative/../../../../etc', type: 'tmpfs', source: 'tmpfs' });
    // runc treats a relative destination as relative to / and keeps it inside the rootfs: no host /etc mount.
    const before = existsSync('/etc/passwd');
    const id = uniqueId('rel');
    env.run(['run', '-b', env.bundle(relMount), id], { output: join(env.dir, 'rel.out') });
    t.equal(existsSync('/etc/passwd'), before, 'host /etc untouched by a relative escaping destination');

    createFails(t, env, testConfig('x', ['true']), /invalid container id/, [], 'bad\x01id');
    createFails(t, env, testConfig('x', ['true']), /invalid container id/, [], '..');
    env.done();
  });

  t.test('capabilities outside the bounding set tsrun runs with fail create, not start', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('caps');
    const config = testConfig(id, ['true']);
    const caps = config.process!.capabilities!;
    caps.bounding = [...caps.bounding!, 'CAP_NET_RAW'];
    const asBoundOnly = env.bundle(config);
    caps.effective = [...caps.effective!, 'CAP_NET_RAW'];
    caps.permitted = [...caps.permitted!, 'CAP_NET_RAW'];
    const withoutNetRaw = (bundle: string, cid: string) =>
      spawnSync('setpriv', ['--bounding-set', '-net_raw', TSRUN, '--root', env.root, 'run', '-b', bundle, cid], {
        encoding: 'utf8',
        env: cleanEnv(),
        timeout: 60000,
      });
    const r = withoutNetRaw(env.bundle(config), id);
    t.equal(r.status, 1);
    t.match(
      r.stderr,
      /config\.json: \/process\/capabilities\/effective: CAP_NET_RAW not in the capability bounding set tsrun runs with \(CapBnd [0-9a-f]+\)/,
    );
    t.match(r.stderr, /\/process\/capabilities\/permitted: CAP_NET_RAW/);
    t.notOk(existsSync(join(env.root, id)), 'no state dir left');
    t.same(cgroupDirsOf(testCgroupPath(id)), [], 'no cgroup left');
    // Only listed in bounding, it asks for nothing: runc runs it too.
    t.equal(withoutNetRaw(asBoundOnly, uniqueId('caps')).status, 0, 'a bounding-only cap the host lacks is fine');
    env.done();
  });

  t.test('a symlink in the rootfs cannot send a mount outside it', async (t) => {
    const env = testEnv(t);
    const rootfs = join(env.dir, 'evil-rootfs');
    const c = testConfig('x', ['sh', '-c', 'cat /proc/self/mountinfo']);
    // A private rootfs with a link that points at the host's /tmp when followed outside the root.
    const { execFileSync } = await import('node:child_process');
    execFileSync(join(REPO, 'hack', 'mkrootfs.sh'), [rootfs]);
    const victim = join(env.dir, 'victim');
    mkdirSync(victim);
    symlinkSync(victim, join(rootfs, 'escape'));
    c.root = { path: rootfs };
    c.mounts!.push({ destination: '/escape/sub', type: 'tmpfs', source: 'tmpfs' });
    const id = uniqueId('sym');
    const out = join(env.dir, 'sym.out');
    env.run(['run', '-b', env.bundle(c), id], { output: out });
    t.notOk(existsSync(join(victim, 'sub')), 'nothing was created in the host directory the link names');
    t.ok(existsSync(join(rootfs, victim, 'sub')), 'the link was resolved inside the rootfs');
    env.done();
  });

  t.test('a cwd through /proc/self/fd cannot reach a host directory (CVE-2024-21626)', async (t) => {
    const env = testEnv(t);
    // Whatever fd the init may hold while it enters cwd: none may become the program's cwd.
    for (let fd = 3; fd < 24; fd++) {
      const c = testConfig('x', ['sh', '-c', 'echo cwd=$(pwd); ls -d ../../../../../* | head -3']);
      c.process!.cwd = `/proc/self/fd/${fd}`;
      const id = uniqueId('cwd');
      const out = join(env.dir, `${id}.out`);
      const r = env.run(['run', '-b', env.bundle(c), id], { output: out });
      const text = r.stderr;
      if (r.code === 0) {
        t.notMatch(
          text,
          /tsrun-test-|\/run\/tsrun|\/work\//,
          `fd ${fd}: the program did not start in a host directory`,
        );
      } else {
        t.match(text, /cwd|chdir/, `fd ${fd}: refused with a cwd error`);
      }
    }
    env.done();
  });

  t.test('a missing or read-only state root', async (t) => {
    const env = testEnv(t);
    const missing = join(env.dir, 'no', 'such', 'root');
    const st = tsrun(missing, ['state', 'c1']);
    t.equal(st.code, 1);
    t.equal(
      st.stderr,
      'tsrun: container does not exist: c1\n',
      'state in a missing root: the container does not exist, as runc says',
    );
    t.notOk(existsSync(missing), 'reading creates no root');
    t.equal(tsrun(missing, ['delete', '--force', 'c1']).code, 0, 'delete --force of nothing is fine');

    // A root on a read-only mount, in a mount namespace of the test's own.
    const ro = join(env.dir, 'ro-root');
    mkdirSync(ro);
    const id = uniqueId('roroot');
    const config = testConfig(id, ['true']);
    const script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"';
    const r = spawnSync(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        script,
        'sh',
        ro,
        TSRUN,
        '--root',
        ro,
        'create',
        '-b',
        env.bundle(config),
        id,
      ],
      {
        encoding: 'utf8',
        env: cleanEnv(),
        timeout: 60000,
      },
    );
    t.equal(r.status, 1, 'create fails');
    t.match(
      r.stderr,
      new RegExp(`--root ${ro}: cannot create the container's state directory: mkdir ${ro}/${id}: EROFS\n`),
      'naming the flag, the call, the path and the errno',
    );
    t.same(readdirSync(ro), [], 'nothing written');
    t.same(cgroupDirsOf(config.linux!.cgroupsPath!), [], 'no cgroup made');
    env.done();
  });

  t.test('wrong-state operations and console socket errors', async (t) => {
    const env = testEnv(t);
    const missing = env.run(['start', 'nope']);
    t.equal(missing.code, 1);
    t.match(missing.stderr, /container does not exist: nope/);
    t.equal(env.run(['kill', 'nope']).code, 1);
    t.equal(env.run(['delete', 'nope']).code, 1);
    t.match(env.run(['state', '../x']).stderr, /invalid container id/);

    const tty = testConfig('x', ['true']);
    tty.process!.terminal = true;
    createFails(t, env, tty, /console socket/);
    const sock = join(env.dir, 'console.sock');
    createFails(t, env, tty, /--console-socket .*console\.sock.*ENOENT/, ['--console-socket', sock]);
    const server = createServer();
    await new Promise<void>((r) => server.listen(sock, r));
    server.close();
    createFails(t, env, testConfig('x', ['true']), /cannot use console socket/, ['--console-socket', sock]);
    env.done();
  });
}
