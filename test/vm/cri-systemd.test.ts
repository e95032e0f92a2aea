// containerd's CRI as kubeadm configures a node on a systemd + cgroup v2
// host (issue 20, item 3): the tsrun runtime handler with SystemdCgroup =
// true, so the runc shim runs `tsrun --systemd-cgroup …`, and pods whose
// cgroup_parent is a slice, as kubelet's systemd cgroup driver gives it
// (/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice).
// containerd 1.6 then asks for cgroupsPath "<last slice>:cri-containerd:<id>"
// (pkg/cri/server/helpers_linux.go getCgroupsPath), so each container is the
// transient scope cri-containerd-<id>.scope in the pod's slice. The flow is
// the host's CRI test's (test/clients/cri/flow.ts); here the limits are read
// back from the scope's v2 files and from systemd's unit properties, and the
// scopes must be gone (not-found) with the pod. The slices stand for
// kubelet's: named after this test, stopped at the end.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { REPO } from '../helpers/harness';
import { cgroupDir, cgroupFile, cgroupOf, requireV2Host } from '../helpers/v2';
import { cgroupsBelow, missing, sh } from '../clients/client-env';
import { criFlow, CREATED, NEEDED, POD_UID, UPDATED, type CriCgroups } from '../clients/cri/flow';

const TSRUN = join(REPO, 'dist', 'tsrun');
/** The test's stand-in for kubepods.slice: a slice name's dashes nest, so it has none. */
const TOP = `tsrunpods${process.pid}`;
/** kubelet names a pod's slice after its QoS class and uid, the uid's dashes made underscores. */
const POD_SLICE = `${TOP}-besteffort-pod${POD_UID.replace(/-/g, '_')}.slice`;
const PARENT = `/${TOP}.slice/${TOP}-besteffort.slice/${POD_SLICE}`;

/** Some properties of a unit, as `systemctl show` prints them. */
function unit(name: string, props: string[]): Record<string, string> {
  const out = execFileSync('systemctl', ['show', ...props.flatMap((p) => ['-p', p]), name], { encoding: 'utf8' });
  const lines = out.split('\n').filter((l) => l.includes('='));
  return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** cpu.shares → cpu.weight as runc converts them (the value kubelet's shares end up as on v2). */
const weight = (shares: number) => String(1 + Math.floor(((shares - 2) * 9999) / 262142));

const scope = (id: string) => `cri-containerd-${id}.scope`;

/** The limits a phase's resources must show in the scope's files and unit properties. */
function checkLimits(t: Test, id: string, phase: 'created' | 'updated'): void {
  const cg = `${PARENT}/${scope(id)}`;
  const r = phase === 'created' ? CREATED : UPDATED;
  const files: Record<string, string> = {
    'memory.max': String(r.memory_limit_in_bytes),
    'cpu.weight': weight(r.cpu_shares),
  };
  const props: Record<string, string> = { MemoryMax: String(r.memory_limit_in_bytes), CPUWeight: weight(r.cpu_shares) };
  if (phase === 'updated') {
    files['cpu.max'] = `${UPDATED.cpu_quota} ${UPDATED.cpu_period}`;
    // 50000 of every 100000 µs: half a CPU, as systemd prints it.
    Object.assign(props, { CPUQuotaPerSecUSec: '500ms', CPUQuotaPeriodUSec: '100ms' });
  }
  const read = Object.fromEntries(Object.keys(files).map((f) => [f, cgroupFile(cg, f)]));
  t.same(read, files, `${phase}: the scope's v2 files`);
  t.same(unit(scope(id), Object.keys(props)), props, `${phase}: the scope's unit properties (systemctl show)`);
}

/** The systemd driver: each sandbox and container a scope in the pod's slice, systemd's unit. */
function systemdCgroups(t: Test): CriCgroups {
  // Whatever failed: the slices go, and with them any scope left in them.
  t.teardown(() => {
    spawnSync('systemctl', ['stop', `${TOP}.slice`], { stdio: 'ignore' });
  });
  return {
    driver: 'systemd',
    parent: PARENT,
    placed(t, id, pid, what) {
      t.equal(cgroupOf(pid), `${PARENT}/${scope(id)}`, `${what} init is in ${scope('ID')} in the pod's slice`);
      t.same(
        unit(scope(id), ['ActiveState', 'Slice', 'Delegate']),
        { ActiveState: 'active', Slice: POD_SLICE, Delegate: 'yes' },
        `${what} scope is systemd's unit: active, in the pod's slice, delegated`,
      );
    },
    limits: checkLimits,
    gone(t, ids) {
      t.same(
        ids.map((id) => `${scope(id)} ${unit(scope(id), ['LoadState']).LoadState}`),
        ids.map((id) => `${scope(id)} not-found`),
        'systemd has no unit left of the sandbox and the container',
      );
      t.same(cgroupsBelow(PARENT), [], "no cgroup left in the pod's slice");
    },
  };
}

if (requireV2Host(t)) {
  const absent = missing(NEEDED);
  if (absent.length > 0) {
    t.fail(`the VM image lacks ${absent.join(', ')} (hack/vm/build-image.sh)`);
  } else {
    criFlow(t, TSRUN, systemdCgroups);
    t.test("the test's slices (kubelet's on a node) stop, and their cgroups go", async (t) => {
      const r = sh('systemctl', ['stop', `${TOP}.slice`]);
      t.equal(r.code, 0, `systemctl stop ${TOP}.slice: ${r.stderr}`);
      t.notOk(existsSync(cgroupDir(`/${TOP}.slice`)), `no ${TOP}.slice cgroup`);
      t.equal(unit(POD_SLICE, ['ActiveState']).ActiveState, 'inactive', "the pod's slice stopped with them");
    });
  }
}
