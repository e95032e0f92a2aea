import t, { type Test } from 'tap';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { InvalidInputError } from '../errors';
import { loadBundle } from './bundle';
import { defaultSpec } from './default';
import { isRoot } from '../../test/helpers/root';

function makeBundle(t: Test, config: unknown, opts: { rootfs?: boolean } = {}): string {
  const dir = t.testdir({});
  if (opts.rootfs !== false) mkdirSync(join(dir, 'rootfs'));
  if (config !== undefined)
    writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return dir;
}

function loadError(dir: string): string {
  try {
    loadBundle(dir);
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    return err.message;
  }
  throw new Error('loadBundle accepted the bundle');
}

// The cases write what Spec's type forbids (that is what loading must catch), anywhere in the tree.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- config.json as untyped JSON, on purpose
const spec = () => defaultSpec() as any;
type LooseSpec = ReturnType<typeof spec>;

t.test('loads a good bundle with absolute paths', async (t) => {
  const dir = makeBundle(t, spec());
  const b = loadBundle(dir);
  t.equal(b.bundle, dir);
  t.equal(b.rootfs, join(dir, 'rootfs'));
  t.equal(b.config.process?.args[0], 'sh');
});

t.test('relative bundle path and absolute root.path', async (t) => {
  const dir = makeBundle(t, { ...spec(), root: { path: '/' } });
  const rel = relative(process.cwd(), dir);
  const b = loadBundle(rel);
  t.equal(b.bundle, dir);
  t.equal(b.rootfs, '/');
});

t.test('bundle directory problems', async (t) => {
  const dir = t.testdir({ file: 'x' });
  t.equal(loadError(join(dir, 'missing')), `bundle ${join(dir, 'missing')}: does not exist`);
  t.equal(loadError(join(dir, 'file')), `bundle ${join(dir, 'file')}: is not a directory`);
  t.equal(loadError(dir), `${join(dir, 'config.json')}: does not exist (a bundle needs a config.json)`);
});

t.test('unreadable config.json', async (t) => {
  if (isRoot) {
    // root reads any file; a directory in its place is unreadable for anyone
    const dir = makeBundle(t, undefined);
    mkdirSync(join(dir, 'config.json'));
    t.equal(loadError(dir), `${join(dir, 'config.json')}: cannot be read: EISDIR`);
  } else {
    const dir = makeBundle(t, spec());
    chmodSync(join(dir, 'config.json'), 0);
    t.equal(loadError(dir), `${join(dir, 'config.json')}: cannot be read: EACCES`);
  }
});

t.test('config.json that is not JSON names the position', async (t) => {
  const dir = makeBundle(t, '{\n  "ociVersion": "1.2.0",\n  "root": }\n');
  const msg = loadError(dir);
  t.match(msg, `${join(dir, 'config.json')}: not valid JSON: `);
  t.match(msg, /\(line 3, column 11\)$/);
});

t.test('schema failures are all reported, one per line', async (t) => {
  const c = spec();
  c.process.cwd = 'x';
  c.process.rlimits[0].type = 'nofile';
  const msg = loadError(makeBundle(t, c));
  t.equal(
    msg,
    'config.json: /process/cwd: must match pattern "^/"\n' +
      'config.json: /process/rlimits/0/type: must match pattern "^RLIMIT_[A-Z]+$"',
  );
});

t.test('ociVersion must be 1.0.0 through 1.3.x', async (t) => {
  for (const v of ['1.0.0', '1.0.2-dev', '1.1.0', '1.2.0', '1.2.7', '1.3.0', '1.3.9']) {
    t.doesNotThrow(() => loadBundle(makeBundle(t, { ...spec(), ociVersion: v })), v);
  }
  t.equal(
    loadError(makeBundle(t, { ...spec(), ociVersion: '1.4.0' })),
    'config.json: /ociVersion: version "1.4.0" is not supported (tsrun supports 1.0.0 through 1.3.x)',
  );
  t.equal(
    loadError(makeBundle(t, { ...spec(), ociVersion: '2.0.0' })),
    'config.json: /ociVersion: version "2.0.0" is not supported (tsrun supports 1.0.0 through 1.3.x)',
  );
  t.match(
    loadError(makeBundle(t, { ...spec(), ociVersion: '1.2' })),
    /^config\.json: \/ociVersion: must match pattern/,
  );
});

t.test('rootfs missing or not a directory', async (t) => {
  const dir = makeBundle(t, spec(), { rootfs: false });
  t.equal(loadError(dir), `config.json: /root/path: rootfs ${join(dir, 'rootfs')}: does not exist`);
  writeFileSync(join(dir, 'rootfs'), '');
  t.equal(loadError(dir), `config.json: /root/path: rootfs ${join(dir, 'rootfs')}: is not a directory`);
});

t.test('relative mount destinations become absolute, like runc 1.1', async (t) => {
  const c = spec();
  c.mounts.push({ destination: 'data', type: 'tmpfs', source: 'tmpfs' });
  const b = loadBundle(makeBundle(t, c));
  t.equal(b.config.mounts?.[7].destination, '/data');
});

t.test('cross-field rules', async (t) => {
  const map = { containerID: 0, hostID: 100000, size: 65536 };
  const cases: [string, (c: LooseSpec) => void, string][] = [
    [
      'duplicate namespace',
      (c) => c.linux.namespaces.push({ type: 'pid' }),
      'config.json: /linux/namespaces/5/type: duplicate namespace type "pid" (first at /linux/namespaces/0)',
    ],
    [
      'hostname without uts',
      (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'uts')),
      'config.json: /hostname: cannot set the hostname without a uts namespace in /linux/namespaces',
    ],
    [
      'mappings without user namespace',
      (c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]),
      'config.json: /linux/uidMappings: id mappings need a user namespace in /linux/namespaces',
    ],
    [
      'new user namespace without mappings',
      (c) => c.linux.namespaces.push({ type: 'user' }),
      'config.json: /linux/uidMappings: a new user namespace needs uidMappings and gidMappings\n' +
        'config.json: /linux/gidMappings: a new user namespace needs uidMappings and gidMappings',
    ],
    [
      'ipc sysctl without ipc namespace',
      (c) => {
        c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'ipc');
        c.linux.sysctl = { 'kernel.shmmax': '1' };
      },
      'config.json: /linux/sysctl/kernel.shmmax: sysctl "kernel.shmmax" needs an ipc namespace in /linux/namespaces',
    ],
    [
      'net sysctl without net namespace',
      (c) => {
        c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'network');
        c.linux.sysctl = { 'net/ipv4/ip_forward': '1' };
      },
      'config.json: /linux/sysctl/net~1ipv4~1ip_forward: ' +
        'sysctl "net.ipv4.ip_forward" needs a network namespace in /linux/namespaces',
    ],
    [
      'net sysctl in the host network namespace',
      (c) => {
        c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) =>
          n.type === 'network' ? { type: 'network', path: '/proc/self/ns/net' } : n,
        );
        c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
      },
      'config.json: /linux/sysctl/net.ipv4.ip_forward: sysctl "net.ipv4.ip_forward" is not allowed: ' +
        "/linux/namespaces/1/path is the host's network namespace",
    ],
    [
      'user sysctl without user namespace',
      (c) => (c.linux.sysctl = { 'user/max_user_namespaces': '3' }),
      'config.json: /linux/sysctl/user~1max_user_namespaces: ' +
        'sysctl "user.max_user_namespaces" needs a user namespace ' +
        "in /linux/namespaces; without one it sets the host's limit",
    ],
    [
      'kernel.hostname conflicts with /hostname',
      (c) => (c.linux.sysctl = { 'kernel.hostname': 'x' }),
      'config.json: /linux/sysctl/kernel.hostname: sysctl "kernel.hostname" is not allowed: use /hostname',
    ],
    [
      'non-namespaced sysctl',
      (c) => (c.linux.sysctl = { 'vm.swappiness': '1' }),
      'config.json: /linux/sysctl/vm.swappiness: sysctl "vm.swappiness" is not namespaced; it would change the host',
    ],
    [
      'duplicate rlimit',
      (c) => c.process.rlimits.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }),
      'config.json: /process/rlimits/1/type: duplicate rlimit "RLIMIT_NOFILE" (first at /process/rlimits/0)',
    ],
    [
      'time offsets without time namespace',
      (c) => (c.linux.timeOffsets = { monotonic: { secs: 1 } }),
      'config.json: /linux/timeOffsets: time offsets need a time namespace in /linux/namespaces',
    ],
    [
      'masked paths without mount namespace',
      (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'mount')),
      'config.json: /linux/maskedPaths: needs a mount namespace in /linux/namespaces\n' +
        'config.json: /linux/readonlyPaths: needs a mount namespace in /linux/namespaces\n' +
        'config.json: /root/readonly: needs a mount namespace in /linux/namespaces',
    ],
    [
      'idmapped mount that is not a bind',
      (c) => c.mounts.push({ destination: '/m', type: 'tmpfs', uidMappings: [], gidMappings: [] }),
      'config.json: /mounts/7: uidMappings/gidMappings are only supported on bind mounts (options "bind" or "rbind")',
    ],
    [
      'idmap option on a mount that is not a bind',
      (c) => c.mounts.push({ destination: '/m', type: 'tmpfs', options: ['nosuid', 'idmap'] }),
      'config.json: /mounts/7/options/1: "idmap" is only supported on bind mounts (options "bind" or "rbind")',
    ],
    [
      'mappings without idmap or ridmap',
      (c) =>
        c.mounts.push({
          destination: '/m',
          source: '/tmp',
          options: ['rbind'],
          uidMappings: [map],
          gidMappings: [map],
        }),
      'config.json: /mounts/7/uidMappings: an id mapping needs the "idmap" or "ridmap" option ' +
        '(is it applied to the submounts too?)',
    ],
    [
      'idmap without mappings or user namespace',
      (c) => c.mounts.push({ destination: '/m', source: '/tmp', options: ['rbind', 'ridmap'] }),
      'config.json: /mounts/7/options/1: "ridmap" without uidMappings and gidMappings ' +
        "takes the container's mapping, but there is no user namespace in /linux/namespaces",
    ],
    [
      'empty mount mappings',
      (c) =>
        c.mounts.push({
          destination: '/m',
          source: '/tmp',
          options: ['bind', 'idmap'],
          uidMappings: [],
          gidMappings: [map],
        }),
      'config.json: /mounts/7/uidMappings: an empty mapping maps no id',
    ],
  ];
  for (const [name, edit, expected] of cases) {
    const c = spec();
    edit(c);
    t.equal(loadError(makeBundle(t, c)), expected, name);
  }
});

t.test('idmapped mounts the spec allows are accepted', async (t) => {
  const map = { containerID: 0, hostID: 100000, size: 65536 };
  const c = spec();
  c.mounts.push({
    destination: '/a',
    source: '/tmp',
    options: ['rbind', 'ridmap'],
    uidMappings: [map],
    gidMappings: [map],
  });
  c.mounts.push({
    destination: '/b',
    source: '/tmp',
    type: 'bind',
    options: ['idmap'],
    uidMappings: [map],
    gidMappings: [map],
  });
  t.doesNotThrow(() => loadBundle(makeBundle(t, c)), 'with their own mappings, no user namespace');
  const u = spec();
  u.linux.namespaces.push({ type: 'user' });
  u.linux.uidMappings = [map];
  u.linux.gidMappings = [map];
  u.mounts.push({ destination: '/a', source: '/tmp', options: ['bind', 'idmap'] });
  t.doesNotThrow(() => loadBundle(makeBundle(t, u)), "plain idmap with the container's user namespace");
});

t.test('namespaced sysctls are accepted with their namespaces', async (t) => {
  const c = spec();
  c.linux.sysctl = {
    'kernel.shmmax': '1',
    'fs.mqueue.msg_max': '10',
    'net.ipv4.ip_forward': '1',
    'kernel.domainname': 'x',
  };
  t.doesNotThrow(() => loadBundle(makeBundle(t, c)));
  // runc 1.4: user.* (ucounts) with a user namespace, a new one or one joined by path.
  for (const userns of [{ type: 'user' }, { type: 'user', path: '/proc/1/ns/user' }]) {
    const u = spec();
    u.linux.namespaces.push(userns);
    if (!userns.path) {
      u.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      u.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    }
    u.linux.sysctl = { 'user.max_user_namespaces': '3', 'user/max_inotify_watches': '8192' };
    t.doesNotThrow(() => loadBundle(makeBundle(t, u)), `user.* with ${JSON.stringify(userns)}`);
  }
});

t.test('null members are absent, as runc reads them; null in an array is still an error', async (t) => {
  const c = spec();
  c.annotations = null;
  c.linux.sysctl = null;
  c.linux.seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO', args: null }],
  };
  const b = loadBundle(makeBundle(t, c));
  t.notOk('annotations' in b.config, 'annotations: null is no annotations');
  t.notOk('args' in b.config.linux!.seccomp!.syscalls![0], 'a Docker-style "args": null is no conditions');
  const bad = spec();
  bad.process.args = ['sh', null];
  t.match(loadError(makeBundle(t, bad)), /\/process\/args\/1: must be string/);
});
