import t from 'tap';
import { defaultSpec } from './default';
import { validateConfig, validateState } from './validate';

// The cases write what Spec's type forbids (that is what validation must catch), anywhere in the tree.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- config.json as untyped JSON, on purpose
const base = () => defaultSpec() as any;

t.test('a correct config has no problems', async (t) => {
  t.same(validateConfig(base()), []);
  t.same(validateConfig(defaultSpec(true)), []);
});

t.test('messages carry the JSON pointer and the rule', async (t) => {
  const c = base();
  c.process.rlimits[0].type = 'NOFILE';
  c.process.cwd = 'relative';
  c.linux.namespaces.push({ type: 'bogus' });
  c.process.capabilities.bounding.push('chown');
  c.process.user.uid = -1;
  const got = validateConfig(c);
  t.ok(got.includes('config.json: /process/rlimits/0/type: must match pattern "^RLIMIT_[A-Z]+$"'), got.join('\n'));
  t.ok(got.includes('config.json: /process/cwd: must match pattern "^/"'), got.join('\n'));
  t.ok(
    got.includes(
      'config.json: /linux/namespaces/5/type: must be one of: ' +
        '"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"',
    ),
    got.join('\n'),
  );
  // Issue 18: any capability name passes the schema; the config check warns about unknown ones (as runc).
  t.notOk(
    got.some((l) => l.includes('/process/capabilities')),
    got.join('\n'),
  );
  t.ok(got.includes('config.json: /process/user/uid: must be >= 0'), got.join('\n'));
  t.equal(got.length, 4, 'one line per problem, no duplicates or if/then noise');
});

t.test('missing required properties name their full path', async (t) => {
  t.same(validateConfig({}), ['config.json: /ociVersion: is required', 'config.json: /root: is required']);
  const c = base();
  delete c.process.cwd;
  c.linux.devices = [
    { type: 'c', path: '/dev/fuse' },
    { type: 'p', path: '/dev/fifo' },
  ];
  c.mounts.push({ destination: '/x', uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], options: ['bind'] });
  t.same(validateConfig(c).sort(), [
    'config.json: /linux/devices/0/major: is required',
    'config.json: /linux/devices/0/minor: is required',
    'config.json: /mounts/7/gidMappings: is required when "uidMappings" is set',
    'config.json: /process/cwd: is required',
  ]);
});

t.test('integer ranges and types', async (t) => {
  const c = base();
  c.linux.uidMappings = [{ containerID: 0, hostID: 4294967296, size: 1 }];
  c.process.oomScoreAdj = 1.5;
  c.process.terminal = 'yes';
  t.same(validateConfig(c).sort(), [
    'config.json: /linux/uidMappings/0/hostID: must be <= 4294967295',
    'config.json: /process/oomScoreAdj: must be integer',
    'config.json: /process/terminal: must be boolean',
  ]);
});

t.test('hooks: absolute path, positive timeout', async (t) => {
  const c = base();
  c.hooks = { prestart: [{ path: 'relative' }], poststop: [{ path: '/bin/true', timeout: 0 }] };
  t.same(validateConfig(c).sort(), [
    'config.json: /hooks/poststop/0/timeout: must be >= 1',
    'config.json: /hooks/prestart/0/path: must match pattern "^/"',
  ]);
});

t.test('seccomp enums', async (t) => {
  const c = base();
  c.linux.seccomp = {
    defaultAction: 'SCMP_ACT_NOPE',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [{ names: [], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] }],
  };
  const got = validateConfig(c);
  t.equal(got.length, 2, got.join('\n'));
  t.match(got[0], /^config\.json: \/linux\/seccomp\/defaultAction: must be one of: "SCMP_ACT_KILL"/);
  t.equal(got[1], 'config.json: /linux/seccomp/syscalls/0/names: must NOT have fewer than 1 items');
});

t.test('unknown properties are allowed (the spec says to ignore them)', async (t) => {
  const c = base();
  c.somethingNew = { x: 1 };
  c.process.futureField = true;
  c.linux.resources.futureController = {};
  t.same(validateConfig(c), []);
});

t.test('annotations must be a string map with non-empty keys', async (t) => {
  const c = base();
  c.annotations = { '': 'x', 'com.example.n': 1 };
  t.same(validateConfig(c).sort(), [
    'config.json: /annotations/com.example.n: must be string',
    'config.json: /annotations: property name "" must NOT have fewer than 1 characters',
  ]);
});

t.test('time offsets: only the clocks a time namespace has', async (t) => {
  const c = base();
  c.linux.timeOffsets = { monotonic: { secs: -5, nanosecs: 10 }, boottime: { secs: 1 } };
  t.same(validateConfig(c), []);
  c.linux.timeOffsets = { realtime: { secs: 1 } };
  t.same(validateConfig(c), [
    'config.json: /linux/timeOffsets: property name "realtime" must be one of: "monotonic", "boottime"',
  ]);
});

t.test('not an object at all', async (t) => {
  t.same(validateConfig([]), ['config.json: /: must be object']);
  t.same(validateConfig(null), ['config.json: /: must be object']);
});

t.test('state.json', async (t) => {
  const s = { ociVersion: '1.2.1', id: 'c1', status: 'running', pid: 42, bundle: '/b', annotations: {} };
  t.same(validateState(s), []);
  t.same(validateState({ ...s, pid: undefined }), ['state.json: /pid: is required']);
  t.same(validateState({ ...s, status: 'stopped', pid: undefined }), []);
  t.same(validateState({ ...s, bundle: 'rel' }), ['state.json: /bundle: must match pattern "^/"']);
  t.match(validateState({ ...s, status: 'exploded' })[0], /^state\.json: \/status: must be one of: "creating"/);
});
