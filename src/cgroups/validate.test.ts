import t from 'tap';
import { validateResources, createCgroup } from './index';
import { permits, reduceDeviceRules, ACCESS } from './device-rules';
import { compileDeviceFilter } from './device-filter';
import { sharesToWeight, swapForV2, blkioToIoWeight, planResources, type Target } from './plan';
import { skipBecause } from '../../test/helpers/skip';

t.test('errors name the JSON path', async (t) => {
  const errs = validateResources({
    memory: { limit: -5, swap: 100, swappiness: 101 },
    cpu: { shares: 1, quota: 500, cpus: '3-1', idle: 2 },
    pids: { limit: 1.5 },
    blockIO: { weight: 5, throttleReadBpsDevice: [{ major: -1, minor: 0, rate: 1 }] },
    hugepageLimits: [{ pageSize: '3XB', limit: 1 }],
    unified: { bogus: '1', 'cgroup.procs': '1', '../memory.max': '1' },
    devices: [{ allow: true, type: 'x' as 'a', access: 7 as unknown as string }],
  });
  const text = errs.join('\n');
  for (const path of [
    'linux.resources.memory.limit',
    'linux.resources.memory.swap',
    'linux.resources.memory.swappiness',
    'linux.resources.cpu.shares',
    'linux.resources.cpu.quota',
    'linux.resources.cpu.cpus',
    'linux.resources.cpu.idle',
    'linux.resources.pids.limit',
    'linux.resources.blockIO.weight',
    'linux.resources.blockIO.throttleReadBpsDevice[0].major',
    'linux.resources.hugepageLimits[0].pageSize',
    'linux.resources.unified["bogus"]',
    'linux.resources.unified["cgroup.procs"]',
    'linux.resources.unified["../memory.max"]',
    'linux.resources.devices[0].type',
    'linux.resources.devices[0].access',
  ])
    t.ok(text.includes(path + ':'), path);
  t.same(
    validateResources({
      memory: { limit: 1 << 26, swap: 1 << 27 },
      cpu: { shares: 1024, cpus: '0-1', quota: 50000, period: 100000 },
    }),
    [],
  );
  t.match(
    validateResources({ memory: { limit: 2000000, swap: 1000000 } }).join(),
    /linux\.resources\.memory\.swap: .*below/,
  );
  t.match(validateResources({ memory: { swap: 1000000 } }).join(), /memory\.swap: .*needs a memory limit/);
  t.match(validateResources({ pids: { limit: 5 } }, 'x.y').join(), /^$/);
  t.match(validateResources({ pids: { limit: -7 } }, 'update').join(), /^update\.pids\.limit:/);
});

t.test('createCgroup rejects before creating anything, with host-specific errors too', async (t) => {
  t.throws(
    () => createCgroup({ id: 'v', systemd: false, resources: { memory: { limit: 100, swap: 50 } } }),
    /linux\.resources\.memory\.swap/,
  );
  // This host's unified hierarchy has no memory controller (it is on v1).
  t.throws(
    () => createCgroup({ id: 'v', systemd: false, resources: { unified: { 'memory.max': '1' } } }),
    /linux\.resources\.unified\["memory\.max"\]/,
  );
  // runc's words (ErrV1NoUnified) lead, which tools look for; tsrun's detail follows.
  t.throws(
    () => createCgroup({ id: 'v', systemd: false, resources: { unified: { 'memory.min': '1' } } }),
    /^invalid configuration: linux\.resources\.unified\["memory\.min"\]: the memory controller is bound to cgroup v1/,
  );
  t.throws(
    () => createCgroup({ id: 'v', systemd: false, resources: { hugepageLimits: [{ pageSize: '4TB', limit: 0 }] } }),
    /hugepageLimits\[0\]\.pageSize: the hugetlb controller has no 4TB huge pages on this host/,
  );
  // A key unknown to tsrun is a file to write (the spec's MUST); its controller must exist.
  t.throws(
    () => createCgroup({ id: 'v', systemd: false, resources: { unified: { 'bogus.key': '1' } } }),
    /linux\.resources\.unified\["bogus\.key"\]: the bogus controller is not available/,
  );
});

t.test('unified: any interface file of an available controller, one write per line', async (t) => {
  const target = (controllers: string[]): Target => ({
    version: (c) => (controllers.includes(c) ? 2 : undefined),
    dir: () => '/cg/c',
    hasFile: () => true,
    hasUnified: true,
  });
  const plan = planResources(
    { unified: { 'io.max': '254:0 rbps=1\n\n254:0 wiops=2\n', 'memory.future.knob': 'x', 'cgroup.max.depth': '3' } },
    target(['io', 'memory']),
  );
  t.same(plan.errors, []);
  t.same(
    plan.writes.map((w) => [w.where, w.controller, w.file, w.value]),
    [
      ['linux.resources.unified["io.max"]', 'io', 'io.max', '254:0 rbps=1'],
      ['linux.resources.unified["io.max"]', 'io', 'io.max', '254:0 wiops=2'],
      ['linux.resources.unified["memory.future.knob"]', 'memory', 'memory.future.knob', 'x'],
      ['linux.resources.unified["cgroup.max.depth"]', 'unified', 'cgroup.max.depth', '3'],
    ],
  );
  t.match(
    planResources({ unified: { 'rdma.max': 'x' } }, target(['io'])).errors.join(),
    /^linux\.resources\.unified\["rdma\.max"\]: the rdma controller is not available/,
  );
});

t.test('conversions follow runc', async (t) => {
  t.equal(sharesToWeight(2), 1);
  t.equal(sharesToWeight(1024), 39);
  t.equal(sharesToWeight(262144), 10000);
  t.equal(blkioToIoWeight(10), 1);
  t.equal(blkioToIoWeight(1000), 10000);
  t.equal(swapForV2(-1, 100), 'max');
  t.equal(swapForV2(300, 100), '200');
});

t.test('device rules reduce like the v1 kernel controller', async (t) => {
  const { r, w, m } = ACCESS;
  const s = reduceDeviceRules([
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    { allow: true, type: 'c', major: 136, access: 'rw' },
    { allow: false, type: 'c', major: 1, minor: 3, access: 'm' },
  ]);
  t.equal(s.defaultAllow, false);
  t.ok(permits(s, 'c', 1, 3, r | w));
  t.notOk(permits(s, 'c', 1, 3, m), 'later deny narrows the earlier allow');
  t.ok(permits(s, 'c', 136, 7, r));
  t.notOk(permits(s, 'c', 136, 7, m));
  t.notOk(permits(s, 'c', 1, 5, r));
  t.notOk(permits(s, 'b', 1, 3, r));
  const allowAll = reduceDeviceRules([
    { allow: false },
    { allow: true },
    { allow: false, type: 'c', major: 1, minor: 5, access: 'w' },
  ]);
  t.equal(allowAll.defaultAllow, true);
  t.notOk(permits(allowAll, 'c', 1, 5, r | w), 'a deny exception hits on any overlapping bit');
  t.ok(permits(allowAll, 'c', 1, 5, r));
  t.same(reduceDeviceRules([]), { defaultAllow: false, exceptions: [] }, 'no rules: deny everything');
  const aNumbered = reduceDeviceRules([{ allow: true }, { allow: false, type: 'a', major: 1, minor: 11, access: 'r' }]);
  t.same(
    aNumbered,
    { defaultAllow: false, exceptions: [] },
    '"a" with numbers resets to deny-all, whatever its numbers and access',
  );
  t.ok(
    permits(
      reduceDeviceRules([{ allow: false }, { allow: true, type: 'c', major: 5, minor: 1, access: 'rrxw' }]),
      'c',
      5,
      1,
      r | w,
    ),
    'unknown letters are ignored',
  );
  const refused: string[] = [];
  const holed = reduceDeviceRules(
    [
      { allow: false },
      { allow: true, type: 'c', major: 10, access: 'rw' },
      { allow: false, type: 'c', major: 10, minor: 229, access: 'w' },
      { allow: false, type: 'c', major: 10, minor: 229, access: 'm' },
    ],
    (msg) => refused.push(msg),
  );
  t.same(refused.length, 1, 'removing w from part of "c 10:* rw" is refused; m (not in the wildcard) is not');
  t.match(refused[0], /rule 2 \(deny "c 10:229 w"\).*"c 10:\* rw"/);
  t.ok(permits(holed, 'c', 10, 229, w), 'the refused rule is not applied');
  const refusedAllow: string[] = [];
  reduceDeviceRules(
    [
      { allow: true },
      { allow: false, type: 'b', minor: 0, access: 'r' },
      { allow: true, type: 'b', major: 7, minor: 0, access: 'r' },
    ],
    (m) => refusedAllow.push(m),
  );
  t.match(
    refusedAllow.join(),
    /rule 2 \(allow "b 7:0 r"\).*"b \*:0 r"/,
    'an allow cannot open a hole in a wildcard deny either',
  );
  const prog = compileDeviceFilter(s);
  t.equal(prog.length % 8, 0);
  t.equal(prog.readUInt8(prog.length - 8), 0x95, 'ends with exit');
});

t.test('features reports what this host offers', async (t) => {
  const { cgroupFeatures, hostLayout } = await import('./index');
  const f = cgroupFeatures();
  t.equal(f.mode, hostLayout().mode);
  if (f.mode !== 'hybrid') return skipBecause(t, `host is ${f.mode}; the expectations below describe the hybrid host`);
  t.equal(f.controllers.memory, 1);
  t.equal(f.devices, 'v1');
  t.equal(f.freezer, 'v1');
  t.equal(f.systemd, false);
  t.ok(f.hugepageSizes.includes('2MB'));
  t.equal(typeof f.files['memory.memsw'], 'boolean');
});

t.test('cpu.idle: 0 before the weight, 1 after it (the kernel refuses a weight for an idle group)', async (t) => {
  const target: Target = { version: () => 2, dir: () => '/cg/c', hasFile: () => true, hasUnified: true };
  const files = (idle: number) =>
    planResources({ cpu: { shares: 1024, idle, quota: 50000 } }, target).writes.map((w) => `${w.file}=${w.value}`);
  t.same(files(0), ['cpu.idle=0', 'cpu.weight=39', 'cpu.max=50000']);
  t.same(files(1), ['cpu.weight=39', 'cpu.max=50000', 'cpu.idle=1']);
});
