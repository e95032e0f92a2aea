// The library's calls and their errors, in this process (the sources under
// node): bad arguments are refused before anything is made, and real
// containers (as root) go through their whole life through a Container.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testEnv, testConfig, uniqueId, sharedRootfs } from '../../helpers/harness';
import { waitFor } from '../../helpers/wait';
import {
  createContainer,
  loadContainer,
  listContainers,
  validateConfig,
  compileSeccomp,
  simulateSeccomp,
  defaultSpec,
  features,
  InvalidInputError,
  InvalidConfigError,
  ContainerStateError,
  NoSuchContainerError,
  TsrunError,
  setLogSink,
  type Container,
  type LinuxSeccomp,
} from '../../../src/api/index';
import { skipBecause } from '../../helpers/skip';

async function waitStatus(c: Container, status: string): Promise<string> {
  return waitFor(async () => (await c.state()).status, { intervalMs: 25, done: (now) => now === status });
}

t.test('validateConfig: every problem with its JSON path, the config untouched', async (t) => {
  t.same(validateConfig(defaultSpec()), [], "runc's default spec is valid");
  const bad = { ociVersion: '1.2.0', root: { path: '' }, process: { cwd: 'relative', args: [] } };
  const d = validateConfig(bad);
  t.ok(d.every((x) => x.severity === 'error'));
  t.same(d.map((x) => x.path).sort(), ['/process/args', '/process/cwd', '/root/path'], 'each path once');
  t.match(d.find((x) => x.path === '/process/cwd')?.message, /pattern/);
  const relative = defaultSpec();
  relative.mounts![0].destination = 'proc';
  const w = validateConfig(relative);
  t.same(
    w.map((x) => [x.severity, x.path]),
    [['warning', '/mounts/0/destination']],
    'a relative destination is a warning',
  );
  t.equal(relative.mounts![0].destination, 'proc', 'the caller’s object is not rewritten');
  const semantic = defaultSpec();
  semantic.hostname = 'h';
  semantic.linux!.namespaces = semantic.linux!.namespaces!.filter((n) => n.type !== 'uts');
  t.match(validateConfig(semantic), [{ severity: 'error', path: '/hostname' }], 'cross-field rules too');
  t.same(
    validateConfig('nope').map((x) => x.path),
    ['/'],
    'not an object',
  );
});

t.test('validateConfig reads a JSON null member as absent, as create does for config.json', async (t) => {
  const c = defaultSpec() as any;
  c.annotations = null;
  c.linux.seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO', args: null }],
  };
  t.same(validateConfig(c), [], 'a Docker-style "args": null is no conditions');
  t.equal(c.linux.seccomp.syscalls[0].args, null, 'the caller’s object is not rewritten');
  const bad = defaultSpec() as any;
  bad.process.args = ['sh', null];
  t.match(validateConfig(bad), [{ severity: 'error', path: '/process/args/1' }], 'null in an array is still an error');
});

t.test('defaultSpec and features', async (t) => {
  t.notOk(defaultSpec().linux!.namespaces!.some((n) => n.type === 'user'));
  t.ok(
    defaultSpec({ rootless: true }).linux!.namespaces!.some((n) => n.type === 'user'),
    'rootless adds a user namespace',
  );
  const f = features();
  t.equal(f.ociVersionMin, '1.0.0');
  t.ok(f.linux?.namespaces?.includes('pid'));
});

t.test('compileSeccomp and simulateSeccomp', async (t) => {
  const profile: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
    ],
  };
  t.equal(simulateSeccomp(profile, 'mkdir'), 'SCMP_ACT_ERRNO(13)');
  t.equal(simulateSeccomp(profile, 'getpid'), 'SCMP_ACT_ALLOW');
  t.equal(simulateSeccomp(profile, 'kill', [1, 9]), 'SCMP_ACT_ERRNO(1)', 'arguments count');
  t.equal(simulateSeccomp(profile, 'kill', [1, 15n]), 'SCMP_ACT_ALLOW');
  t.equal(
    simulateSeccomp(profile, 'mkdirat', [], { arch: 'aarch64' }),
    'SCMP_ACT_KILL_THREAD',
    'an architecture the profile does not list is killed',
  );
  t.equal(
    simulateSeccomp({ ...profile, architectures: ['SCMP_ARCH_AARCH64'] }, 'mkdirat', [], { arch: 'aarch64' }),
    'SCMP_ACT_ALLOW',
    'one it lists is filtered',
  );
  const c = compileSeccomp(profile);
  t.ok(Buffer.isBuffer(c.program) && c.program.length > 0 && c.program.length % 8 === 0, 'a sock_filter array');
  t.not(compileSeccomp(profile, 'aarch64').program.equals(c.program), 'per architecture');
  t.throws(() => simulateSeccomp(profile, 'nosuchcall'), {
    name: 'InvalidInputError',
    message: /no syscall "nosuchcall"/,
  });
  t.throws(() => simulateSeccomp(profile, 'mkdir', ['x' as never]), InvalidInputError);
  t.throws(() => compileSeccomp(profile, 'vax'), { message: /arch: unknown architecture "vax"/ });
  t.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_NOPE' } as never), {
    name: 'InvalidInputError',
    message: /profile.*unknown action/,
  });
});

t.test('bad arguments are refused before anything is made', async (t) => {
  const env = testEnv(t);
  const bundle = env.bundle(testConfig('unused', ['true']));
  const file = join(env.dir, 'file');
  writeFileSync(file, '');
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['an id with /', { id: 'a/b', root: env.root, bundle }, /invalid container id "a\/b"/],
    ['an empty id', { id: '', root: env.root, bundle }, /container id cannot be empty/],
    ['a root that is a file', { id: 'x', root: file, bundle }, /root .*: is not a directory/],
    ['no root', { id: 'x', bundle }, /root: must be a non-empty path/],
    ['neither bundle nor config', { id: 'x', root: env.root }, /give one of bundle and config/],
    [
      'both bundle and config',
      { id: 'x', root: env.root, bundle, config: defaultSpec() },
      /give one of bundle and config/,
    ],
    ['a missing bundle', { id: 'x', root: env.root, bundle: join(env.dir, 'none') }, /bundle .*none: does not exist/],
    [
      'a negative preserveFds',
      { id: 'x', root: env.root, bundle, preserveFds: -1 },
      /preserveFds: must be a non-negative integer/,
    ],
    [
      'a missing executable',
      { id: 'x', root: env.root, bundle, executable: join(env.dir, 'tsrun') },
      /executable .*tsrun: does not exist/,
    ],
    ['a non-executable executable', { id: 'x', root: env.root, bundle, executable: file }, /is not executable/],
    [
      'a relative root.path without bundle',
      { id: 'x', root: env.root, config: { ...defaultSpec(), root: { path: 'rootfs' } } },
      /bundle: required when config.root.path is not absolute/,
    ],
  ];
  for (const [what, opts, message] of cases) {
    await t.rejects(createContainer(opts as never), { name: 'InvalidInputError', message }, what);
  }
  t.notOk(existsSync(env.root), 'no state root was made');

  const config = { ...testConfig('x', ['true']), process: { cwd: 'here', args: [] } } as never;
  const e = await createContainer({ id: 'x', root: env.root, config }).catch((e: unknown) => e);
  t.ok(
    e instanceof InvalidConfigError && e instanceof InvalidInputError && e instanceof TsrunError,
    'a bad config is an InvalidConfigError',
  );
  t.same(
    (e as InvalidConfigError).diagnostics.map((d) => d.path).sort(),
    ['/process/args', '/process/cwd'],
    'with every JSON path',
  );
  t.match((e as Error).message, /\/process\/cwd.*\n.*\/process\/args|\/process\/args.*\n.*\/process\/cwd/);

  await t.rejects(loadContainer(file, 'x'), { message: /is not a directory/ });
  await t.rejects(loadContainer(env.root, 'nope'), NoSuchContainerError);
  await t.rejects(listContainers(file), InvalidInputError);
  t.same(await listContainers(join(env.dir, 'missing')), [], 'a missing root lists nothing');
  env.done();
});

if (!isRoot) {
  t.test('containers', async (t) => skipBecause(t, ROOT_REASON));
} else {
  t.test('a container through its whole life, with each method’s errors', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('api');
    const bundle = env.bundle(testConfig(id, ['sleep', '60']));
    const c = await createContainer({ id, root: env.root, bundle, pidFile: join(env.dir, 'pid') });
    t.equal((await c.state()).status, 'created');
    await t.rejects(createContainer({ id, root: env.root, bundle }), {
      name: 'ContainerStateError',
      message: `container with id exists: ${id}`,
    });
    t.equal((await c.state()).status, 'created', 'a second create of the id leaves the first alone');

    await c.start();
    const st = await c.state();
    t.equal(st.status, 'running');
    await t.rejects(c.start(), { name: 'ContainerStateError', message: /already running/ });
    t.same(await c.ps(), [st.pid], 'ps: the init alone');
    t.same(
      (await listContainers(env.root)).map((s) => [s.id, s.status, s.owner]),
      [[id, 'running', 'root']],
    );
    const again = await loadContainer(env.root, id);
    t.equal((await again.state()).pid, st.pid, 'loadContainer finds it');

    await t.rejects(c.resume(), { name: 'ContainerStateError', message: 'container not paused' });
    await c.pause();
    t.equal((await c.state()).status, 'paused');
    await t.rejects(c.exec({ args: ['true'] }), { name: 'ContainerStateError', message: /paused/ });
    await c.resume();
    t.equal((await c.state()).status, 'running');

    t.equal(await c.exec({ args: ['sh', '-c', 'exit 3'] }), 3, 'exec resolves to the exit status');
    // The waiting happens in a tsrun exec of its own: a child of ours that exits meanwhile is still ours to reap.
    const mine = spawn('sh', ['-c', 'exit 7']);
    const mineExit = new Promise<number | null>((resolve) => mine.once('exit', (code) => resolve(code)));
    t.equal(await c.exec({ args: ['sleep', '0.3'] }), 0);
    t.equal(await mineExit, 7, "the caller's own child keeps its exit status");
    await t.rejects(
      c.exec({ args: ['/no/such/program'] }),
      { name: 'TsrunError', message: /no\/such\/program/ },
      "tsrun's own error, not a status",
    );
    t.equal(
      await c.exec({ args: ['sh', '-c', 'test "$(cat /proc/self/cgroup)" = "$(cat /proc/1/cgroup)"'] }),
      0,
      'in the init’s cgroups',
    );
    await t.rejects(c.exec({ args: [] }), { name: 'InvalidInputError', message: /process: \/args/ });
    await t.rejects(c.exec({ args: ['true'] }, { tty: true, detach: true }), { message: /cannot allocate tty/ });

    await c.update({ pids: { limit: 77 } });
    const stats = await c.stats();
    t.equal(Number((stats.pids as { limit: number }).limit), 77, 'update reached the cgroup; stats reads it back');
    await t.rejects(c.update('x' as never), InvalidInputError);

    const seen: string[] = [];
    for await (const e of c.events({ interval: 50 })) {
      seen.push(e.type);
      t.equal(e.id, id);
      if (seen.length === 2) break;
    }
    t.same(seen, ['stats', 'stats'], 'events: stats every interval, until the loop is left');
    t.throws(() => c.events({ interval: 0 }), { name: 'InvalidInputError', message: /interval/ });

    await t.rejects(c.kill('SIGNOPE'), { name: 'InvalidInputError', message: 'unknown signal "SIGNOPE"' });
    await t.rejects(c.delete(), { name: 'ContainerStateError', message: /not stopped: running/ });
    await c.kill('KILL');
    t.equal(await waitStatus(c, 'stopped'), 'stopped');
    await t.rejects(c.kill(9), { name: 'ContainerStateError', message: 'container not running' });
    await t.rejects(c.start(), { name: 'ContainerStateError', message: /stopped/ });
    await t.rejects(c.pause(), { name: 'ContainerStateError', message: 'container not running' });
    await t.rejects(c.exec({ args: ['true'] }), { name: 'ContainerStateError', message: /stopped/ });
    const events = c.events({ interval: 50 })[Symbol.asyncIterator]();
    await t.rejects(
      events.next(),
      { name: 'ContainerStateError', message: /not running/ },
      'events of a stopped container',
    );
    await c.delete();
    await t.rejects(c.state(), NoSuchContainerError);
    await t.rejects(c.delete(), NoSuchContainerError);
    await t.resolves(c.delete({ force: true }), 'delete --force of a missing container is no error, as runc');
    env.done();
  });

  t.test('an in-memory config goes through the one check: null members absent, each warning once', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('api-null');
    const config = testConfig(id, ['true']) as any;
    config.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO', args: null }],
    };
    config.mounts.push({ destination: 'tmp', type: 'tmpfs', source: 'tmpfs' });
    const warnings: string[] = [];
    setLogSink((level, msg) => void (level === 'warning' && warnings.push(msg)));
    try {
      const c = await createContainer({ id, root: env.root, config });
      t.equal((await c.state()).status, 'created', '"args": null is accepted, as tsrun create accepts it');
      await c.delete({ force: true });
    } finally {
      setLogSink(undefined);
    }
    const relative = warnings.filter((w) => w.includes('deprecated'));
    t.same(
      relative,
      [`config.json: /mounts/${config.mounts.length - 1}/destination: relative path "tmp" is deprecated, using "/tmp"`],
      'logged once',
    );
    t.equal(config.mounts[config.mounts.length - 1].destination, 'tmp', 'the caller’s object is not rewritten');
    env.done();
  });

  t.test('an in-memory config; two roots in one process', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('api-mem');
    const config = testConfig(id, ['sleep', '60']);
    t.ok(config.root.path.startsWith('/'), 'the shared rootfs has an absolute path');
    const rootB = join(env.dir, 'state-b');
    mkdirSync(rootB);
    const a = await createContainer({ id, root: env.root, config });
    const configB = testConfig(`${id}-b`, ['sleep', '60']);
    // The same id in the other root: nothing is shared but the cgroup tree (its own path).
    const b = await createContainer({ id, root: rootB, config: configB });
    try {
      await a.start();
      t.equal((await a.state()).bundle, sharedRootfs().replace(/\/[^/]+$/, ''), 'the bundle is root.path’s directory');
      t.equal(
        await a.exec({ args: ['sh', '-c', 'exit 5'] }),
        5,
        'exec without a config.json on disk: the config kept at create',
      );
      t.same(
        (await listContainers(env.root)).map((s) => s.id),
        [id],
      );
      t.same(
        (await listContainers(rootB)).map((s) => [s.id, s.status]),
        [[id, 'created']],
        'each root sees its own',
      );
      t.equal((await b.state()).status, 'created', 'the other root’s container is untouched');
    } finally {
      await a.delete({ force: true });
      await b.delete({ force: true });
    }
    t.same(readdirSync(rootB), [], 'nothing left in the second root');
    env.done();
  });
}
