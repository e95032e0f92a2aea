// The systemd cgroup driver on a hybrid host (issue 20, item 1): systemd 252
// with its v1 hierarchies and its cgroup2 tree at /sys/fs/cgroup/unified, as
// on kubeadm nodes whose containerd says SystemdCgroup = true on cgroup v1.
// As runc 1.1's legacy driver: the scope is told its limits by their v1
// names (MemoryLimit, CPUShares, TasksMax, CPUQuota…), the init is in the
// scope in every hierarchy (systemd's own, and cpuset, freezer, net_cls…
// made beside them), the limits are in the v1 files, and delete stops the
// unit and removes what systemd does not. runc 1.1.5 runs each step on the
// same bundle and produces the same.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../../src/spec/types';
import { parseState, testEnv, uniqueId, type Env } from '../helpers/harness';
import { launch, runtimes, type Runtime } from '../helpers/runc';
import { GONE, SD, scopeBundle as bundle, systemdRefusals, unitProps, unitState } from '../helpers/systemd-scope';
import { dirsLeft, dirsOf, procCgroups, requireHybridSystemdHost, v1Value } from '../helpers/hybrid';

const MiB = 1 << 20;

/** After a refused create: no state directory (tsrun), no unit, no directory in any hierarchy. */
function nothingLeft(t: Test, env: Env, name: Runtime['name'], id: string, unit: string, what: string): void {
  if (name === 'tsrun') t.notOk(existsSync(join(env.root, id)), `${what}: no state directory`);
  t.same(unitState(unit), GONE, `${name}, ${what}: no unit left`);
  t.same(dirsLeft(`/system.slice/${unit}`), [], `${name}, ${what}: no cgroup left in any hierarchy`);
}

const PROPS = ['Slice', 'Delegate', 'MemoryLimit', 'CPUShares', 'TasksMax', 'CPUQuotaPerSecUSec', 'BlockIOAccounting'];
/** The v1 limit files: [controller, file]. */
const FILES = [
  ['memory', 'memory.limit_in_bytes'],
  ['cpu', 'cpu.shares'],
  ['cpu', 'cpu.cfs_quota_us'],
  ['cpu', 'cpu.cfs_period_us'],
  ['pids', 'pids.max'],
  ['cpuset', 'cpuset.cpus'],
];
/** The hierarchies the init must be in: systemd's, and the ones the runtime makes beside them. */
const HIERARCHIES = ['name=systemd', '', 'memory', 'cpu,cpuacct', 'pids', 'devices', 'blkio', 'cpuset', 'freezer'];

/** One container through its life under the driver; what both runtimes must agree on is returned. */
async function lifecycle(t: Test, env: Env, rt: Runtime): Promise<Record<string, unknown>> {
  const id = uniqueId(rt.name);
  const unit = `tsrun-vm-${id}.scope`;
  const cg = `/system.slice/${unit}`;
  const b = bundle(env, id, `system.slice:tsrun-vm:${id}`, (c) => {
    c.linux!.resources = {
      memory: { limit: 64 * MiB },
      pids: { limit: 20 },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0' },
    };
  });
  const cr = launch(env, rt.run, [SD, 'create', '--bundle', b, id]);
  t.equal(cr.code, 0, `${rt.name} --systemd-cgroup create: ${cr.stderr}`);
  const pid = parseState(rt.run(['state', id])).pid as number;
  const own = procCgroups(pid);
  for (const h of HIERARCHIES) t.equal(own.get(h), cg, `${rt.name}: the init is in ${cg} in "${h || '0::'}"`);
  const props = unitProps(unit, ['ActiveState', ...PROPS]);
  t.same(
    props,
    {
      ActiveState: 'active',
      Slice: 'system.slice',
      Delegate: 'yes',
      MemoryLimit: String(64 * MiB),
      CPUShares: '512',
      TasksMax: '20',
      CPUQuotaPerSecUSec: '500ms',
      BlockIOAccounting: 'yes',
    },
    `${rt.name}: the scope's v1 properties`,
  );
  const files = () => FILES.map(([c, f]) => v1Value(c, cg, f)).join(' ');
  t.equal(files(), `${64 * MiB} 512 50000 100000 20 0`, `${rt.name}: the v1 limit files`);
  t.equal(rt.run(['start', id]).code, 0, `${rt.name} start`);
  const dev = unitProps(unit, ['DevicePolicy', 'DeviceAllow']);
  t.equal(dev.DevicePolicy, 'strict', `${rt.name}: DevicePolicy`);
  t.match(dev.DeviceAllow, /\/dev\/char\/1:3 rwm/, `${rt.name}: DeviceAllow has /dev/null`);
  const devices = v1Value('devices', cg, 'devices.list').split('|').sort();
  t.ok(devices.includes('c 1:3 rwm') && !devices.includes('a *:* rwm'), `${rt.name}: devices.list is an allow-list`);
  const script = 'mknod /dev/xmem c 1 1 && head -c1 /dev/xmem; echo x >/dev/null && echo null-ok';
  const probe = rt.run(['exec', id, 'sh', '-c', script]);
  t.match(probe.stdout + probe.stderr, /xmem: Operation not permitted/, `${rt.name}: a node without a rule: EPERM`);
  t.match(probe.stdout, /null-ok/, `${rt.name}: /dev/null opens`);

  const up = rt.run(['update', '--memory', String(128 * MiB), '--pids-limit', '40', '--cpu-share', '256', id]);
  t.equal(up.code, 0, `${rt.name} update: ${up.stderr}`);
  const updated = unitProps(unit, ['MemoryLimit', 'TasksMax', 'CPUShares']);
  t.same(updated, { MemoryLimit: String(128 * MiB), TasksMax: '40', CPUShares: '256' }, `${rt.name}: updated unit`);
  spawnSync('systemctl', ['daemon-reload']);
  t.equal(files(), `${128 * MiB} 256 50000 100000 40 0`, `${rt.name}: updated files, kept over a daemon-reload`);
  // runc 1.1.5 leaves out of DeviceAllow a /dev/char/M:m path this host lacks (/dev/net/tun here): after the
  // reload its containers lose that device. tsrun gives every path (systemd 240+ reads it from the name).
  if (rt.name === 'tsrun') {
    const afterReload = v1Value('devices', cg, 'devices.list').split('|').sort();
    t.same(afterReload, devices, 'tsrun: the device list systemd re-applies on a reload is the same');
  }

  t.equal(rt.run(['pause', id]).code, 0, `${rt.name} pause`);
  t.equal(v1Value('freezer', cg, 'freezer.state'), 'FROZEN', `${rt.name}: freezer.state`);
  t.equal(parseState(rt.run(['state', id])).status, 'paused', `${rt.name}: state paused`);
  t.equal(rt.run(['resume', id]).code, 0, `${rt.name} resume`);
  t.equal(v1Value('freezer', cg, 'freezer.state'), 'THAWED', `${rt.name}: thawed`);
  const ps = rt.run(['ps', id, '-o', 'pid,comm']);
  t.match(ps.stdout, new RegExp(`^\\s*${pid} sleep$`, 'm'), `${rt.name} ps lists the init`);
  t.equal(launch(env, rt.run, ['exec', '-d', id, 'sleep', '500']).code, 0, `${rt.name} exec -d`);
  for (const c of ['freezer', 'memory', 'cpuset'])
    t.equal(v1Value(c, cg, 'cgroup.procs').split('|').length, 2, `${rt.name}: the exec is in ${c}`);
  t.equal(rt.run(['kill', '--all', id, 'KILL']).code, 0, `${rt.name} kill --all`);
  const del = rt.run(['delete', '--force', id]);
  t.equal(del.code, 0, `${rt.name} delete: ${del.stderr}`);
  t.same(unitState(unit), GONE, `${rt.name}: no unit left`);
  t.same(dirsLeft(cg), [], `${rt.name}: no directory left in any hierarchy`);
  return { hierarchies: [...own.keys()].sort(), props, updated, devices };
}

if (requireHybridSystemdHost(t)) {
  t.test('a scope on v1: properties, every hierarchy, files, devices, update, pause, exec, kill, delete', async (t) => {
    const env = testEnv(t);
    const seen = new Map<string, Record<string, unknown>>();
    for (const rt of runtimes(t, env)) seen.set(rt.name, await lifecycle(t, env, rt));
    if (seen.has('runc')) t.same(seen.get('tsrun'), seen.get('runc'), 'tsrun and runc 1.1.5 agree');
  });

  t.test('refused: a property systemd rejects, a scope already running, rootless', async (t) => {
    const env = testEnv(t);
    systemdRefusals(
      t,
      env,
      (id, unit, what) => nothingLeft(t, env, 'tsrun', id, unit, what),
      (unit) => {
        const cg = `/system.slice/${unit}`;
        t.equal(dirsLeft(cg).length, dirsOf(cg).size, "the first's directories are all still there");
      },
    );

    for (const rt of runtimes(t, env)) {
      const id = uniqueId(rt.name);
      const rl = launch(env, rt.run, [
        '--rootless',
        'true',
        SD,
        'run',
        '-d',
        '--bundle',
        bundle(env, id, undefined),
        id,
      ]);
      t.not(rl.code, 0, `${rt.name}: rootless with the systemd driver on v1 refused`);
      t.match(rl.stderr, /rootless systemd cgroups manager on cgroup v1/, `${rt.name}: runc's reason`);
      if (rt.name === 'tsrun') t.match(rl.stderr, /--systemd-cgroup with --rootless/, 'naming the flags');
      nothingLeft(t, env, rt.name, id, `runc-${id}.scope`, 'rootless');
    }
  });

  t.test('features; the default scope; the cgroupfs driver beside it', async (t) => {
    const env = testEnv(t);
    const f = JSON.parse(env.run(['features']).stdout) as { linux: { cgroup: Record<string, boolean> } };
    t.match(
      f.linux.cgroup,
      { v1: true, v2: true, systemd: true, systemdUser: false },
      'systemd driver claimed, the user instance not (rootless is v2 only)',
    );
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(rt.name);
      const r = launch(env, rt.run, [SD, 'run', '-d', '--bundle', bundle(env, id, undefined), id]);
      t.equal(r.code, 0, `${rt.name} run -d with an empty cgroupsPath: ${r.stderr}`);
      const pid = parseState(rt.run(['state', id])).pid as number;
      t.equal(procCgroups(pid).get('memory'), `/system.slice/runc-${id}.scope`, `${rt.name}: runc-${id}.scope`);
      t.equal(rt.run(['delete', '--force', id]).code, 0, `${rt.name} delete --force`);
      t.same(dirsLeft(`/system.slice/runc-${id}.scope`), [], `${rt.name}: nothing left`);

      const fsId = uniqueId(rt.name);
      const fs = launch(env, rt.run, ['run', '-d', '--bundle', bundle(env, fsId, fsId, memLimit), fsId]);
      t.equal(fs.code, 0, `${rt.name} run -d, cgroupfs driver: ${fs.stderr}`);
      const own = readFileSync('/proc/self/cgroup', 'utf8').match(/^\d+:memory:(.*)$/m)![1];
      const fsCg = join(own, fsId);
      const fsPid = parseState(rt.run(['state', fsId])).pid as number;
      t.equal(procCgroups(fsPid).get('memory'), fsCg, `${rt.name}: below the own memory cgroup`);
      t.equal(v1Value('memory', fsCg, 'memory.limit_in_bytes'), String(32 * MiB), `${rt.name}: the limit`);
      t.equal(rt.run(['delete', '--force', fsId]).code, 0, `${rt.name} delete --force`);
      t.same(dirsLeft(fsCg), [], `${rt.name}: nothing left`);
    }
  });
}

function memLimit(c: Spec): void {
  c.linux!.resources = { memory: { limit: 32 * MiB } };
}
