// A cgroup namespace on a cgroup v2 host (the test VM), with runc's default
// "cgroup" mount at /sys/fs/cgroup: inside, the container's own cgroup is the
// root ("0::/") and /sys/fs/cgroup shows its files; the mount is read-only
// unless its options say rw; and with a user namespace and a rw mount the
// cgroup is delegated to the container's user (runtime-spec config-linux.md,
// "Cgroup ownership").
import t from 'tap';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseState, testConfig, testEnv, uniqueId } from '../helpers/harness';
import { runtimes } from '../helpers/runc';
import { cgroupDir, cgroupFile, cgroupOf, requireV2Host } from '../helpers/v2';
import type { Spec } from '../../src/spec/types';

/** testConfig with a cgroup namespace, the cgroup mount's ro/rw as asked, and a memory limit to recognise. */
function cgroupnsConfig(id: string, script: string, rw: boolean): Spec {
  const c = testConfig(id, ['sh', '-c', script]);
  c.linux!.namespaces!.push({ type: 'cgroup' });
  const m = c.mounts!.find((x) => x.destination === '/sys/fs/cgroup')!;
  m.options = m.options!.filter((o) => o !== 'ro' && o !== 'rw').concat(rw ? 'rw' : 'ro');
  c.linux!.resources = { memory: { limit: 48 << 20 }, pids: { limit: 64 } };
  return c;
}

/** What the container reports about its cgroup and its /sys/fs/cgroup, one "name: value" line each. */
const INSIDE = [
  'echo "self: $(cat /proc/self/cgroup)"',
  'echo "memory.max: $(cat /sys/fs/cgroup/memory.max)"',
  'echo "pids.max: $(cat /sys/fs/cgroup/pids.max)"',
  'echo "procs: $(cat /sys/fs/cgroup/cgroup.procs | wc -l)"',
  // mountinfo: the mount options (field 6) and the filesystem type (the field after "-").
  `echo "mount: $(awk '$5=="/sys/fs/cgroup"{for(i=7;$i!="-";i++);print $6,$(i+1)}' /proc/self/mountinfo)"`,
  'if mkdir /sys/fs/cgroup/sub 2>/tmp/e; then echo "mkdir: ok"; else echo "mkdir: $(cat /tmp/e)"; fi',
];

if (requireV2Host(t)) {
  t.test('read-only by default: the own cgroup at /sys/fs/cgroup, /proc/self/cgroup "0::/"', async (t) => {
    const env = testEnv(t);
    const outs: Record<string, string> = {};
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(`cgns-ro-${rt.name}`);
      const c = cgroupnsConfig(id, INSIDE.join('\n'), false);
      c.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
      const out = join(env.dir, `${id}.out`);
      const r = rt.run(['run', '-b', env.bundle(c), id], { output: out });
      outs[rt.name] = readFileSync(out, 'utf8');
      t.equal(r.code, 0, `${rt.name} run: ${outs[rt.name]}`);
    }
    const o = outs.tsrun;
    t.match(o, /^self: 0::\/$/m, 'inside, /proc/self/cgroup is 0::/');
    t.match(o, new RegExp(`^memory.max: ${48 << 20}$`, 'm'), "/sys/fs/cgroup is the container's cgroup (memory.max)");
    t.match(o, /^pids.max: 64$/m, 'and pids.max');
    t.match(o, /^procs: [1-9]/m, 'its cgroup.procs lists the container processes');
    t.match(o, /^mount: ro,.* cgroup2$/m, 'a cgroup2 mount, read-only');
    t.match(o, /^mkdir: .*Read-only file system/m, 'no sub-cgroup can be made');
    const same = (s: string) => s.replace(/procs: \d+/, 'procs: N');
    if (outs.runc !== undefined) t.equal(same(o), same(outs.runc), 'the same as runc 1.1.5');
    env.done();
  });

  t.test('rw: the container makes a sub-cgroup, moves itself in, enables controllers', async (t) => {
    const env = testEnv(t);
    const script = [
      ...INSIDE,
      'echo $$ > /sys/fs/cgroup/sub/cgroup.procs && echo "moved: $(cat /proc/self/cgroup)"',
      'cd /sys/fs/cgroup',
      'echo +memory +pids > cgroup.subtree_control && echo "enabled: $(cat cgroup.subtree_control)"',
      'mkdir leaf && echo 4 > leaf/pids.max && echo "leaf: $(cat leaf/pids.max)"',
    ].join('\n');
    const outs: Record<string, string> = {};
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(`cgns-rw-${rt.name}`);
      const c = cgroupnsConfig(id, script, true);
      c.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
      const out = join(env.dir, `${id}.out`);
      const r = rt.run(['create', '-b', env.bundle(c), id], { output: out });
      t.equal(r.code, 0, `${rt.name} create: ${r.stderr}`);
      const cg = cgroupOf(parseState(rt.run(['state', id])).pid as number);
      t.equal(rt.run(['start', id]).code, 0, `${rt.name} start`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (let i = 0; i < 100 && parseState(rt.run(['state', id])).status !== 'stopped'; i++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      outs[rt.name] = readFileSync(out, 'utf8').replace(/procs: \d+/, 'procs: N');
      t.equal(cgroupFile(`${cg}/leaf`, 'pids.max'), '4', `${rt.name}: the sub-cgroup is below ${cg} outside`);
      const d = rt.run(['delete', id]);
      t.equal(d.code, 0, `${rt.name} delete: ${d.stderr}`);
      t.throws(() => statSync(cgroupDir(cg)), `${rt.name}: delete removes the cgroup with the sub-cgroups made inside`);
    }
    const o = outs.tsrun;
    t.match(o, /^mount: rw,.* cgroup2$/m, 'a cgroup2 mount, read-write');
    t.match(o, /^mkdir: ok$/m, 'a sub-cgroup is made');
    t.match(o, /^moved: 0::\/sub$/m, 'the shell moved into it');
    t.match(o, /^enabled: memory pids$/m, 'controllers enabled for the children');
    t.match(o, /^leaf: 4$/m, 'a limit set on a child');
    if (outs.runc !== undefined) t.equal(o, outs.runc, 'the same as runc 1.1.5');
    env.done();
  });

  t.test('user namespace + cgroupns + rw: the cgroup is delegated to the container root', async (t) => {
    const env = testEnv(t);
    const script = [
      'echo "self: $(cat /proc/self/cgroup)"',
      'echo "owner: $(stat -c %u /sys/fs/cgroup) $(stat -c %u /sys/fs/cgroup/cgroup.procs)"',
      'mkdir /sys/fs/cgroup/sub && echo $$ > /sys/fs/cgroup/sub/cgroup.procs && echo "moved: $(cat /proc/self/cgroup)"',
      'if echo 1 > /sys/fs/cgroup/pids.max; then echo "pids.max: written"; else echo "pids.max: refused"; fi',
      'sleep 1000',
    ].join('\n');
    const id = uniqueId('cgns-userns');
    const c = cgroupnsConfig(id, script, true);
    c.linux!.namespaces!.push({ type: 'user' });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const out = join(env.dir, `${id}.out`);
    const r = env.run(['create', '-b', env.bundle(c), id], { output: out });
    t.equal(r.code, 0, `create: ${r.stderr}`);
    // Before start: the shell moves itself into a sub-cgroup.
    const cg = cgroupOf(parseState(env.run(['state', id])).pid as number);
    t.equal(env.run(['start', id]).code, 0, 'start');
    for (let i = 0; i < 100 && !readFileSync(out, 'utf8').includes('pids.max:'); i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const owner = (f: string) => statSync(join(cgroupDir(cg), f)).uid;
    const delegated = readFileSync('/sys/kernel/cgroup/delegate', 'utf8').split('\n').filter(Boolean);
    t.equal(owner('.'), 100000, 'the directory belongs to the host uid of the container root');
    for (const f of ['cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads'])
      t.equal(owner(f), 100000, `${f} too (listed in /sys/kernel/cgroup/delegate: ${delegated.join(' ')})`);
    for (const f of ['memory.max', 'pids.max', 'cgroup.max.depth', 'cgroup.freeze'])
      t.equal(owner(f), 0, `${f} stays root's: the container cannot raise its own limits`);
    const o = readFileSync(out, 'utf8');
    t.match(o, /^self: 0::\/$/m);
    t.match(o, /^owner: 0 0$/m, 'inside, the cgroup belongs to root');
    t.match(o, /^moved: 0::\/sub$/m, 'the container root made a sub-cgroup and moved into it');
    t.match(o, /^pids.max: refused$/m, 'but cannot write its own limits');
    t.equal(cgroupFile(cg, 'pids.max'), '64');
    t.equal(env.run(['delete', '--force', id]).code, 0);
    t.throws(() => statSync(cgroupDir(cg)), 'the cgroup is gone');
    env.done();
  });
}
