// `tsrun features` on a systemd + cgroup v2 host says what is true there:
// each claim is checked against the host and against the files of a real
// container's cgroup (issue 19, item 6).
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testConfig, testEnv, uniqueId, parseState, tsrun } from '../helpers/harness';
import { CGROUP_ROOT, cgroupDir, cgroupFile, cgroupOf, requireV2Host } from '../helpers/v2';

if (requireV2Host(t)) {
  const r = tsrun('/tmp', ['features']);
  t.equal(r.code, 0, r.stderr);
  const f = JSON.parse(r.stdout) as {
    linux: { cgroup: Record<string, boolean>; apparmor: { enabled: boolean } };
    annotations: Record<string, string>;
  };
  const a = f.annotations;
  const rootControllers = cgroupFile('/', 'cgroup.controllers').split(' ');

  t.test('cgroup versions and controllers', async (t) => {
    t.same(f.linux.cgroup, { v1: false, v2: true, systemd: true, systemdUser: true, rdma: true });
    t.ok(rootControllers.includes('rdma'), 'rdma: the root offers the controller');
    t.equal(a['io.github.tsrun.cgroup.mode'], 'v2');
    t.same(a['io.github.tsrun.cgroup.controllers'].split(','), rootControllers.map((c) => `${c}:v2`).sort());
    t.equal(a['io.github.tsrun.cgroup.devices'], 'bpf');
    t.equal(a['io.github.tsrun.cgroup.freezer'], 'v2');
    t.equal(a['io.github.tsrun.cgroup.kill'], 'true');
    t.notOk(existsSync(join(CGROUP_ROOT, 'cgroup.kill')), 'the root has no cgroup.kill (so it is probed below)');
  });

  t.test('apparmor: the LSM here, so profiles are applied (test/vm/apparmor.test.ts)', async (t) => {
    t.same(f.linux.apparmor, { enabled: true });
    t.match(readFileSync('/sys/kernel/security/lsm', 'utf8'), /(^|,)apparmor(,|$)/, 'the kernel has AppArmor active');
    t.equal(readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim(), 'Y', 'enabled (its parameter)');
  });

  t.test("the files it claims are in a container's cgroup, the ones it denies are not", async (t) => {
    const env = testEnv(t);
    const id = uniqueId();
    const created = env.run(['create', '--bundle', env.bundle(testConfig(id, ['sleep', '60'])), id], {
      output: join(env.dir, 'out'),
    });
    t.equal(created.code, 0, created.stderr);
    const dir = cgroupDir(cgroupOf(parseState(env.run(['state', id])).pid as number));
    const hugepage = a['io.github.tsrun.cgroup.hugepageSizes'].split(',')[0];
    // tsrun's name for each capability → the v2 files any of which provides it
    const v2Files: Record<string, string[]> = {
      'memory.memsw': ['memory.swap.max'],
      'memory.kmem': [],
      'memory.kmem.tcp': [],
      'cpu.burst': ['cpu.max.burst'],
      'cpu.idle': ['cpu.idle'],
      'cpu.rt': [],
      'blkio.weight': ['io.weight', 'io.bfq.weight'],
      'hugetlb.rsvd': [`hugetlb.${hugepage}.rsvd.max`],
    };
    const claimed = a['io.github.tsrun.cgroup.files'].split(',').filter(Boolean);
    const denied = a['io.github.tsrun.cgroup.files.missing'].split(',').filter(Boolean);
    t.same([...claimed, ...denied].sort(), Object.keys(v2Files).sort(), 'every capability is claimed or denied');
    for (const [name, files] of Object.entries(v2Files)) {
      const present = files.some((file) => existsSync(join(dir, file)));
      t.equal(claimed.includes(name), present, `${name}: ${present ? 'present' : 'absent'} (${files.join(' or ')})`);
    }
    t.ok(existsSync(join(dir, 'cgroup.kill')), "cgroup.kill in the container's cgroup");
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });
}
