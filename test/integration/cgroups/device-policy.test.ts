// Device cgroup rules on real containers: the cases where the rule list
// means something other than it seems, each matched against runc 1.1.5 on
// this host (v1 devices controller). Nodes 42:N have no driver, so an open
// the cgroup lets through fails with ENXIO and one it denies with EPERM.
import t, { type Test } from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cgroupDirsOf,
  isRoot,
  ROOT_REASON,
  testCgroupPath,
  testConfig,
  testEnv,
  uniqueId,
  type Env,
} from '../../helpers/harness';
import type { LinuxDeviceCgroup, Spec } from '../../../src/spec/types';

const DENIED = /Operation not permitted/;
const REACHES_DRIVER = /No such device or address/;

/** A config whose rules are `rules` and whose /dev has d1, d2 (c 42:1, 42:2) and CAP_MKNOD. */
function deviceConfig(id: string, script: string, rules: LinuxDeviceCgroup[]): Spec {
  const c = testConfig(id, ['sh', '-c', script]);
  c.linux!.resources = { devices: rules };
  c.linux!.devices = [
    { path: '/dev/d1', type: 'c', major: 42, minor: 1 },
    { path: '/dev/d2', type: 'c', major: 42, minor: 2 },
  ];
  const caps = c.process!.capabilities!;
  for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), 'CAP_MKNOD'];
  return c;
}

/** Runs the container to its end; its combined output (and the log with warnings). */
function runIn(t: Test, env: Env, c: Spec, id: string): { out: string; log: string } {
  const log = join(env.dir, `${id}.log`);
  const r = env.run(['--log', log, 'run', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
  t.equal(r.code, 0, `${id} ran: ${r.stdout}`);
  t.same(cgroupDirsOf(testCgroupPath(id)), [], 'its cgroups are gone');
  return { out: r.stdout, log: existsSync(log) ? readFileSync(log, 'utf8') : '' };
}

const probe = (dev: string) =>
  `head -c0 < /dev/${dev} && echo ${dev}:ok; echo -n > /dev/${dev} && echo ${dev}:w-ok; true`;

t.test('device rules on real containers', { skip: isRoot ? false : ROOT_REASON }, async (t) => {
  t.test('type "a" with numbers is every device, as in runc and the v1 kernel', async (t) => {
    const env = testEnv(t);
    let id = uniqueId('dev-a-allow');
    let r = runIn(
      t,
      env,
      deviceConfig(id, probe('d1'), [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'a', major: 7, minor: 0, access: 'rwm' },
      ]),
      id,
    );
    t.match(r.out, REACHES_DRIVER, 'allow "a 7:0" allows c 42:1 as well');
    t.notMatch(r.out, DENIED);
    t.match(r.log, /devices\/1: type \\?"a\\?" applies to every device/, 'with a warning');
    id = uniqueId('dev-a-deny');
    r = runIn(
      t,
      env,
      deviceConfig(id, `${probe('d1')}; ${probe('null')}`, [
        { allow: true, access: 'rwm' },
        { allow: false, type: 'a', major: 1, minor: 11, access: 'rwm' },
      ]),
      id,
    );
    t.match(r.out, DENIED, 'deny "a 1:11" after allow-all denies c 42:1');
    t.match(r.out, /null:ok/, 'the default rules still let /dev/null through');
    env.done();
  });

  t.test('a default node named in linux.devices loses its default rule, as in runc', async (t) => {
    const env = testEnv(t);
    let id = uniqueId('dev-zero');
    const c = deviceConfig(id, `${probe('zero')}; ${probe('null')}`, [{ allow: false, access: 'rwm' }]);
    c.linux!.devices!.push({ path: '/dev/zero', type: 'c', major: 1, minor: 5 });
    let r = runIn(t, env, c, id);
    t.match(r.out, /\/dev\/zero: Operation not permitted/, '/dev/zero exists but is denied');
    t.match(r.out, /null:ok/, '/dev/null keeps its rule');
    id = uniqueId('dev-zero-allowed');
    const allowed = deviceConfig(id, probe('zero'), [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 5, access: 'r' },
    ]);
    allowed.linux!.devices!.push({ path: '/dev/zero', type: 'c', major: 1, minor: 5 });
    r = runIn(t, env, allowed, id);
    t.match(r.out, /zero:ok/, "the config's own rule lets it be read");
    t.match(r.out, /\/dev\/zero: Operation not permitted/, 'and only read');
    env.done();
  });

  t.test('access letters other than r, w, m are ignored with a warning', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('dev-access');
    const r = runIn(
      t,
      env,
      deviceConfig(id, probe('d1'), [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 42, minor: 1, access: 'rrx' },
      ]),
      id,
    );
    t.match(r.out, REACHES_DRIVER, 'read is allowed');
    t.match(r.out, /\/dev\/d1: Operation not permitted/, 'write is not');
    t.match(r.log, /devices\/1\/access: \\?"x\\?" ignored/);
    env.done();
  });

  t.test(
    'mknod of a denied device fails with EPERM, though its linux.devices node is made; read and write stay separate',
    async (t) => {
      const env = testEnv(t);
      const id = uniqueId('dev-mknod');
      const script =
        'mknod /dev/n2 c 42 2 && echo n2:made; mknod /dev/n3 c 42 3 && echo n3:made; head -c0 < /dev/d2 && echo d2:ok; echo -n > /dev/d2 && echo d2:w-ok; true';
      const r = runIn(
        t,
        env,
        deviceConfig(id, script, [
          { allow: true, access: 'rwm' },
          { allow: false, type: 'c', major: 42, minor: 2, access: 'mw' },
        ]),
        id,
      );
      t.notMatch(r.out, /n2:made/, 'mknod of c 42:2 is denied');
      t.match(r.out, /n2'?: Operation not permitted/);
      t.match(r.out, /n3:made/, 'mknod of c 42:3 is not');
      t.match(r.out, REACHES_DRIVER, 'reading c 42:2 reaches the driver');
      t.match(r.out, /\/dev\/d2: Operation not permitted/, 'writing it is denied');
      env.done();
    },
  );

  t.test('a rule that would punch a hole in a wildcard is refused, as runc refuses it', async (t) => {
    const env = testEnv(t);
    const cases: [string, LinuxDeviceCgroup[], RegExp][] = [
      [
        'deny',
        [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', major: 42, access: 'rwm' },
          { allow: false, type: 'c', major: 42, minor: 1, access: 'rw' },
        ],
        /linux\.resources\.devices\[2\] \(deny "c 42:1 rw"\) would take access away from part of the wildcard rule "c 42:\* rwm"/,
      ],
      [
        'default',
        [
          { allow: true, access: 'rwm' },
          { allow: false, type: 'c', major: 1, access: 'w' },
        ],
        /linux\.resources\.devices: the default rule \(allow "c 1:3 rwm"\) .* wildcard rule "c 1:\* w"/,
      ],
    ];
    for (const [name, rules, pattern] of cases) {
      const id = uniqueId(`dev-hole-${name}`);
      const r = env.run(['create', '-b', env.bundle(deviceConfig(id, 'true', rules)), id], {
        output: join(env.dir, `${id}.out`),
      });
      t.equal(r.code, 1, `${name}: exit 1`);
      t.match(r.stderr, pattern, `${name}: ${r.stderr.trim()}`);
      t.notOk(existsSync(join(env.root, id)), `${name}: no state dir`);
      t.same(cgroupDirsOf(testCgroupPath(id)), [], `${name}: no cgroup`);
    }
    env.done();
  });
});
