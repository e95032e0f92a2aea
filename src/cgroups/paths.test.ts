import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCgroup, hostLayout, CgroupError } from './index';
import { relativeBase, scopeDirs } from './paths';
import { parseMountinfo, parseProcCgroup, ownCgroups, dirOf } from './layout';
import { skipBecause } from '../../test/helpers/skip';

const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');

t.test('detects this host: v1 controllers, named systemd, cgroup2 at /sys/fs/cgroup/unified', async (t) => {
  const layout = hostLayout();
  const cgroupMounts = mountinfo.split('\n').filter((l) => / - cgroup2? /.test(l));
  t.ok(cgroupMounts.length > 0, 'the host has cgroup mounts');
  const hasV1 = cgroupMounts.some((l) => / - cgroup /.test(l));
  const hasV2 = cgroupMounts.some((l) => / - cgroup2 /.test(l));
  t.equal(layout.mode, hasV1 && hasV2 ? 'hybrid' : hasV1 ? 'v1' : 'v2');
  if (layout.mode !== 'hybrid')
    return skipBecause(t, `this host is ${layout.mode}, not the hybrid host the rest of this test describes`);
  const keys = layout.v1.map((h) => h.key);
  for (const k of ['memory', 'devices', 'freezer', 'pids', 'name=systemd'])
    t.ok(
      keys.some((key) => key.split(',').includes(k)),
      `v1 ${k}`,
    );
  t.equal(layout.unified?.mountpoint, '/sys/fs/cgroup/unified');
});

t.test('parses v1-only, v2-only and combined mounts', async (t) => {
  const v2 = parseMountinfo('30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n');
  t.equal(v2.mode, 'v2');
  t.equal(v2.unified?.mountpoint, '/sys/fs/cgroup');
  const v1 = parseMountinfo(
    '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n' +
      '33 31 0:30 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n',
  );
  t.equal(v1.mode, 'v1');
  t.same(
    v1.v1.map((h) => h.key),
    ['cpu,cpuacct', 'memory'],
  );
  // Inside a cgroup namespace-less container the mount root is not "/".
  t.equal(dirOf(v1.v1[1], '/docker/abc/x'), '/sys/fs/cgroup/memory/x');
  const own = parseProcCgroup('5:cpuacct,cpu:/a\n0::/b\n');
  t.equal(own.get('cpu,cpuacct'), '/a');
  t.equal(own.get(''), '/b');
});

t.test('cgroupsPath resolution', async (t) => {
  const layout = hostLayout();
  const own = ownCgroups();
  const memory = layout.v1.find((h) => h.key === 'memory');
  if (!memory) return skipBecause(t, 'no v1 memory hierarchy on this host');
  const ownMemory = dirOf(memory, own.get('memory')!);

  const abs = createCgroup({ id: 'c1', cgroupsPath: '/tsrun-abs/c1', systemd: false });
  t.equal(abs.saved.v1.memory, join(memory.mountpoint, 'tsrun-abs/c1'), 'absolute: from the hierarchy root');
  if (layout.unified) t.equal(abs.saved.unified, join(layout.unified.mountpoint, 'tsrun-abs/c1'));

  const rel = createCgroup({ id: 'c2', cgroupsPath: 'tsrun-rel/c2', systemd: false });
  t.equal(rel.saved.v1.memory, join(ownMemory, 'tsrun-rel/c2'), 'relative: below our own cgroup');

  const empty = createCgroup({ id: 'c3', systemd: false });
  t.equal(empty.saved.v1.memory, join(ownMemory, 'c3'), 'empty: "<id>" below our own cgroup, as runc 1.1');
  t.ok(Object.keys(empty.saved.v1).includes('name=systemd'), 'the named systemd hierarchy is managed too');
  t.notOk(abs.exists() || rel.exists() || empty.exists(), 'createCgroup creates nothing');

  t.throws(
    () => createCgroup({ id: 'c4', cgroupsPath: 'a/../../etc', systemd: false }),
    /linux\.cgroupsPath: .*"\.\."/,
  );
  t.throws(() => createCgroup({ id: 'c4', cgroupsPath: '/a/..', systemd: false }), /linux\.cgroupsPath/);
  t.throws(
    () => createCgroup({ id: 'c5', cgroupsPath: 'system.slice:tsrun:c5', systemd: false }),
    /linux\.cgroupsPath: .*systemd form.*--systemd-cgroup/,
  );
  let err: unknown;
  try {
    createCgroup({ id: 'c6', cgroupsPath: 'system.slice:tsrun:c6', systemd: true });
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof CgroupError, '--systemd-cgroup without a reachable systemd fails');
  t.match((err as Error).message, /linux\.cgroupsPath: .*systemd/);
});

t.test('a relative path on a v2-only host is below the parent of our own cgroup, as runc fs2', async (t) => {
  const v2 = parseMountinfo('30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n');
  const service = parseProcCgroup('0::/system.slice/containerd.service\n');
  t.equal(relativeBase(v2, v2.unified!, service), '/sys/fs/cgroup/system.slice', 'the service itself holds processes');
  const atRoot = relativeBase(v2, v2.unified!, parseProcCgroup('0::/\n'));
  t.equal(join(atRoot!, 'c'), '/sys/fs/cgroup/c', 'the root has no parent');
  const hybrid = parseMountinfo(
    '32 31 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n' +
      '30 23 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n',
  );
  const own = parseProcCgroup('4:memory:/user.slice/session-1.scope\n0::/user.slice/session-1.scope\n');
  t.equal(relativeBase(hybrid, hybrid.v1[0], own), '/sys/fs/cgroup/memory/user.slice/session-1.scope');
  t.equal(relativeBase(hybrid, hybrid.unified!, own), '/sys/fs/cgroup/unified/user.slice/session-1.scope');
  t.equal(relativeBase(v2, v2.unified!, parseProcCgroup('4:memory:/x\n')), undefined, 'not in the hierarchy');
});

t.test("a systemd scope's directory in each hierarchy: v1 and hybrid as runc's legacy driver, v2", async (t) => {
  const hybrid = parseMountinfo(
    '32 31 0:29 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n' +
      '33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n' +
      '34 31 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n' +
      '30 23 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n',
  );
  const scope = '/system.slice/runc-c1.scope';
  t.same(scopeDirs(hybrid, scope), {
    v1: {
      'name=systemd': '/sys/fs/cgroup/systemd/system.slice/runc-c1.scope',
      'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/system.slice/runc-c1.scope',
      cpuset: '/sys/fs/cgroup/cpuset/system.slice/runc-c1.scope',
    },
    unified: '/sys/fs/cgroup/unified/system.slice/runc-c1.scope',
  });
  const legacy = parseMountinfo('33 31 0:30 /docker/x /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n');
  t.same(scopeDirs(legacy, '/docker/x/a.slice/p-n.scope'), {
    v1: { memory: '/sys/fs/cgroup/memory/a.slice/p-n.scope' },
  });
  const v2 = parseMountinfo('30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n');
  t.same(scopeDirs(v2, scope), { v1: {}, unified: '/sys/fs/cgroup/system.slice/runc-c1.scope' });
});
