// Kubernetes reaches a low-level runtime only through containerd's CRI
// plugin and the runc shim: a RuntimeClass handler names a runtime in
// containerd's config whose BinaryName is tsrun. This test is kubelet's side
// of that (cri/flow.ts) on this host: hybrid cgroups, the cgroupfs driver,
// the pod's cgroup_parent below the test's own cgroup. The same flow runs
// with the systemd driver in the VM (test/vm/cri-systemd.test.ts).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, TSRUN } from '../helpers/harness';
import { missing, cgroupParent, cgroupsLeft, cgroupsBelow } from './client-env';
import { criFlow, CREATED, NEEDED, UPDATED, type CriCgroups } from './cri/flow';

/** The cgroupfs driver on cgroup v1: a container's cgroup is PARENT/ID in each hierarchy. */
const cgroupfs = (parent: string): CriCgroups => ({
  driver: 'cgroupfs',
  parent,
  placed(t, id, _pid, what) {
    t.ok(cgroupsLeft(parent, id).length > 0, `${what} cgroup is below the pod's cgroup_parent`);
  },
  limits(t, id, phase) {
    const memory = join('/sys/fs/cgroup/memory', parent, id);
    const cpu = join('/sys/fs/cgroup/cpu', parent, id);
    const read = (f: string) => readFileSync(f, 'utf8').trim();
    if (phase === 'created') {
      const limit = String(CREATED.memory_limit_in_bytes);
      t.equal(read(join(memory, 'memory.limit_in_bytes')), limit, 'the limit it was created with');
      t.equal(read(join(cpu, 'cpu.shares')), String(CREATED.cpu_shares), 'the shares it was created with');
      return;
    }
    const limit = String(UPDATED.memory_limit_in_bytes);
    t.equal(read(join(memory, 'memory.limit_in_bytes')), limit, 'memory.limit_in_bytes updated');
    t.equal(read(join(cpu, 'cpu.shares')), String(UPDATED.cpu_shares), 'cpu.shares updated');
    t.equal(read(join(cpu, 'cpu.cfs_period_us')), String(UPDATED.cpu_period), 'cpu.cfs_period_us updated');
    t.equal(read(join(cpu, 'cpu.cfs_quota_us')), String(UPDATED.cpu_quota), 'cpu.cfs_quota_us updated');
  },
  gone(t) {
    t.same(cgroupsBelow(parent), [], 'no cgroup left below the pod cgroup_parent');
  },
});

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else if (missing(NEEDED).length > 0) {
  t.plan(
    0,
    `needs ${missing(NEEDED).join(', ')} (Debian: apt-get install containerd umoci iproute2 ` +
      `containernetworking-plugins; hack/setup.sh installs them)`,
  );
} else {
  criFlow(t, TSRUN, (t) => cgroupfs(cgroupParent(t, 'tsrun-cri')));
}
