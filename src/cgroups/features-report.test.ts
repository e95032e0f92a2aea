// `tsrun features` reports what the cgroup code can use on the host it runs on.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { features } from '../spec/features';
import { cgroupFeatures, type CgroupFeatures } from './index';

const v2Only: CgroupFeatures = {
  mode: 'v2',
  controllers: { memory: 2, pids: 2, cpu: 2, rdma: 2 },
  devices: 'bpf',
  freezer: 'v2',
  kill: true,
  systemd: false,
  files: { 'memory.memsw': true, 'memory.kmem': false },
  hugepageSizes: [],
};

t.test('a cgroup v2 host with rdma', async (t) => {
  const f = features(undefined, () => v2Only);
  t.same(f.linux.cgroup, { v1: false, v2: true, systemd: false, systemdUser: false, rdma: true });
  t.equal(f.annotations['io.github.tsrun.cgroup.mode'], 'v2');
  t.equal(f.annotations['io.github.tsrun.cgroup.controllers'], 'cpu:v2,memory:v2,pids:v2,rdma:v2');
  t.equal(f.annotations['io.github.tsrun.cgroup.devices'], 'bpf');
  t.equal(f.annotations['io.github.tsrun.cgroup.files'], 'memory.memsw');
  t.equal(f.annotations['io.github.tsrun.cgroup.files.missing'], 'memory.kmem');
  for (const v of Object.values(f.annotations)) t.type(v, 'string', 'annotation values are strings');
});

t.test('this host, as /proc/self/cgroup shows it', async (t) => {
  const lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  const v1Controllers = lines.map((l) => l.split(':')[1]).filter((c) => c !== '' && !c.startsWith('name='));
  const f = features();
  t.equal(f.linux.cgroup.v1, v1Controllers.length > 0, 'v1 iff a v1 controller is mounted');
  t.equal(
    f.linux.cgroup.v2,
    lines.some((l) => l.startsWith('0::')),
    'v2 iff the cgroup2 hierarchy is mounted',
  );
  const reported = f.annotations['io.github.tsrun.cgroup.controllers'].split(',');
  for (const c of v1Controllers.flatMap((c) => c.split(','))) t.ok(reported.includes(`${c}:v1`), `${c} reported as v1`);
  t.equal(f.annotations['io.github.tsrun.cgroup.mode'], cgroupFeatures().mode);
});
