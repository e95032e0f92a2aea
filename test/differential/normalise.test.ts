// Unit tests of the differential harness's normaliser (conformance/differential/normalise.mjs):
// a runner record becomes flat "group.key" fields with every run-specific value replaced.
import t from 'tap';
import { mounts, normalise } from '../../conformance/differential/normalise.mjs';

const suite = { base: '/tmp/tsrun-diff-X', hostNs: { 'net:[1]': 'host' } };
const bundle = '/tmp/tsrun-diff-X/runtime/v';

/** A probe's output with just what the normaliser reads, `extra` merged in. */
function probeOutput(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    args: ['/probe', '--exit', '0'],
    cwd: `${bundle}/x`,
    env: ['PATH=/bin', 'A=1', 'A=2', 'NOEQ'],
    cgroup: '1:pids:/tsrun-diff-1/runtime-v\n0::/\n',
    mountinfo: '22 1 0:21 / /out rw,relatime shared:5 master:7 - tmpfs tmpfs rw\n',
    fds: { '0': 'pipe:[1234] r', '1': `${bundle}/container.stdout w` },
    ns: { net: 'net:[1]', pid: 'pid:[2]', user: 'user:[3]', time: 'ENOENT' },
    files: { '/sys/fs/cgroup/devices/devices.list': 'c 1:3 rwm\nb *:* m\n' },
    status: { Umask: '0022' },
    ...extra,
  });
}

function record(extra: Record<string, unknown> = {}) {
  return {
    bundle,
    id: 'diff-1-runtime-v',
    cgroupsPath: 'tsrun-diff-1/runtime-v',
    holders: { 'user:[3]': 'holder:user' },
    accepted: true,
    create: 'exit 0',
    start: 'exit 0',
    exit: 'exit 0',
    stdout: probeOutput(),
    stderr: '',
    hooks: { order: '' },
    ...extra,
  };
}

t.test('a refused config: accepted false and the last line of stderr', (t) => {
  const n = normalise(record({ accepted: false, create: 'exit 1', stderr: 'debug\nno such file\n' }), suite);
  t.same(n.fields, { accepted: 'false' });
  t.equal(n.refusal, 'refused (exit 1): no such file');
  t.end();
});

t.test('run-specific values are replaced by stable names', (t) => {
  const { fields } = normalise(record(), suite);
  t.equal(fields.cwd, '<bundle>/x', 'bundle path');
  t.equal(fields['cgroup.1:pids'], '/<cgroup>', 'cgroup path');
  t.equal(fields['fds.0'], 'pipe r', 'pipe inode dropped');
  t.equal(fields['fds.1'], '<bundle>/container.stdout w');
  t.equal(fields['ns.net'], 'host');
  t.equal(fields['ns.pid'], 'private', "a namespace neither the host's nor a holder's");
  t.equal(fields['ns.user'], 'holder:user');
  t.equal(fields['ns.time'], 'ENOENT', 'an errno stays');
  t.equal(
    fields['mounts./out'],
    'tmpfs tmpfs root=/ rw,relatime [shared,master] rw',
    'mount ids and peer groups dropped',
  );
  t.equal(
    fields['files./sys/fs/cgroup/devices/devices.list'],
    '\nb *:* m\nc 1:3 rwm',
    'device list as a set (sorted lines)',
  );
  t.equal(fields.args, '/probe --exit 0');
  t.equal(fields['status.Umask'], '0022');
  t.end();
});

t.test('env: each name once with every value in order, and the order of names', (t) => {
  const { fields } = normalise(record(), suite);
  t.equal(fields['env.A'], '1 | 2');
  t.equal(fields['env.NOEQ'], '(no =)');
  t.equal(fields.envOrder, 'PATH A A NOEQ');
  t.end();
});

t.test("start, exit and an exec variant's exec status are fields", (t) => {
  t.notOk('exec' in normalise(record(), suite).fields, 'no exec: no field');
  const { fields } = normalise(record({ exec: 'exit 255', exit: 'did not finish' }), suite);
  t.equal(fields.exec, 'exit 255');
  t.equal(fields.exit, 'did not finish');
  t.equal(fields.start, 'exit 0');
  t.end();
});

t.test('no output or output that is not JSON: a probe error, the lifecycle fields kept', (t) => {
  const empty = normalise(record({ stdout: '', stderr: 'exec failed\n' }), suite);
  t.match(empty.probeError, /no probe output; stderr: exec failed/);
  t.equal(empty.fields.start, 'exit 0');
  t.match(normalise(record({ stdout: '{"args":' }), suite).probeError, /not JSON/);
  t.end();
});

t.test('a terminal\'s output ("\\r\\n" line ends) parses like a pipe\'s', (t) => {
  const { fields, probeError } = normalise(record({ stdout: `${probeOutput()}\r\n` }), suite);
  t.equal(probeError, undefined);
  t.equal(fields.cwd, '<bundle>/x');
  t.end();
});

t.test("hooks: the order as one field, each member of a hook's state its own, pid as number", (t) => {
  const state = JSON.stringify({ id: 'diff-1-runtime-v', pid: 42, annotations: { b: '2', a: '1' } });
  const { fields } = normalise(record({ hooks: { order: 'a\nb\n', 'prestart.json': state, 'bad.json': 'x' } }), suite);
  t.equal(fields['hooks.order'], 'a,b');
  t.equal(fields['hooks.prestart.id'], '"<id>"');
  t.equal(fields['hooks.prestart.pid'], '"number"');
  t.equal(fields['hooks.prestart.annotations'], '{"a":"1","b":"2"}', 'keys sorted');
  t.match(fields['hooks.bad'], /^not JSON/);
  t.end();
});

t.test('mounts: stacked mounts joined bottom first', (t) => {
  const text = '1 0 0:1 / /a rw - tmpfs one rw\n2 1 0:2 / /a ro - proc two ro\n';
  t.same(mounts(text), { '/a': 'tmpfs one root=/ rw [] rw | proc two root=/ ro [] ro' });
  t.end();
});

t.test('a setup error is passed on with no fields', (t) => {
  t.same(normalise({ setupError: 'unshare failed' }, suite), { fields: {}, setupError: 'unshare failed' });
  t.end();
});
