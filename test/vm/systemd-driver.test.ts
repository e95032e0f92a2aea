// The systemd cgroup driver (issue 20, item 1): `--systemd-cgroup` with
// cgroupsPath "slice:prefix:name" puts the container in the transient scope
// prefix-name.scope, made over D-Bus with the init's pid, the limits
// systemd knows and the org.systemd.property.* annotations as unit
// properties; update, pause, ps, exec, kill and delete work on it, and
// runc 1.1.5 does the same on the same bundle.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, parseState, runCaptured, testEnv, uniqueId, type Env } from '../helpers/harness';
import { launch, runtimes, type Runtime } from '../helpers/runc';
import { GONE, SD, scopeBundle as bundle, systemdRefusals, unitProps, unitState } from '../helpers/systemd-scope';
import { cgroupDir, cgroupOf, cgroupValue, requireV2Host } from '../helpers/v2';

const TSRUN = join(REPO, 'dist', 'tsrun');
const MiB = 1 << 20;

/** After a refused create: no state directory (tsrun), no unit, no cgroup. */
function nothingLeft(t: Test, env: Env, name: Runtime['name'], id: string, unit: string, what: string): void {
  if (name === 'tsrun') t.notOk(existsSync(join(env.root, id)), `${what}: no state directory`);
  t.same(unitState(unit), GONE, `${name}, ${what}: no unit left`);
  t.notOk(existsSync(cgroupDir(`/system.slice/${unit}`)), `${name}, ${what}: no cgroup left`);
}

if (requireV2Host(t)) {
  t.test('a scope with the limits as unit properties; update, pause, ps, kill --all, delete', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(rt.name);
      const unit = `tsrun-vm-${id}.scope`;
      const b = bundle(env, id, `system.slice:tsrun-vm:${id}`, (c) => {
        c.linux!.resources = {
          memory: { limit: 64 * MiB, reservation: 16 * MiB },
          pids: { limit: 20 },
          cpu: { shares: 512, quota: 50000, period: 100000 },
        };
        c.annotations = {
          'org.systemd.property.TimeoutStopSec': 'uint64 7',
          'org.systemd.property.CollectMode': "'inactive-or-failed'",
        };
      });
      const cr = rt.run([SD, 'create', '--bundle', b, id], { output: join(env.dir, `${id}.out`) });
      t.equal(cr.code, 0, `${rt.name} --systemd-cgroup create: ${cr.stderr}`);
      const pid = parseState(rt.run(['state', id])).pid as number;
      const cg = `/system.slice/${unit}`;
      t.equal(cgroupOf(pid), cg, `${rt.name}: the init is in ${cg}`);
      t.same(
        unitProps(unit, ['ActiveState', 'Slice', 'Delegate', 'Description', 'MemoryMax', 'MemoryLow', 'TasksMax']),
        {
          ActiveState: 'active',
          Slice: 'system.slice',
          Delegate: 'yes',
          Description: `libcontainer container ${id}`,
          MemoryMax: String(64 * MiB),
          MemoryLow: String(16 * MiB),
          TasksMax: '20',
        },
        `${rt.name}: the scope's properties`,
      );
      t.same(unitProps(unit, ['CPUWeight', 'CPUQuotaPerSecUSec']), { CPUWeight: '20', CPUQuotaPerSecUSec: '500ms' });
      t.same(
        unitProps(unit, ['TimeoutStopUSec', 'CollectMode']),
        { TimeoutStopUSec: '7s', CollectMode: 'inactive-or-failed' },
        `${rt.name}: org.systemd.property.* annotations (TimeoutStopSec in seconds)`,
      );
      t.equal(rt.run(['start', id]).code, 0, `${rt.name} start`);
      // The device rules reach systemd once the init has made its nodes: after start at the latest.
      const dev = unitProps(unit, ['DevicePolicy', 'DeviceAllow']);
      t.equal(dev.DevicePolicy, 'strict', `${rt.name}: DevicePolicy`);
      t.match(dev.DeviceAllow, /\/dev\/char\/1:3 rwm/, `${rt.name}: DeviceAllow has /dev/null (${dev.DeviceAllow})`);
      const files = () =>
        ['memory.max', 'memory.low', 'pids.max', 'cpu.max', 'cpu.weight'].map((f) => cgroupValue(cg, f)).join(' ');
      t.equal(files(), `${64 * MiB} ${16 * MiB} 20 50000 100000 20`, `${rt.name}: the cgroup files`);

      const up = rt.run(['update', '--memory', String(128 * MiB), '--pids-limit', '40', id]);
      t.equal(up.code, 0, `${rt.name} update: ${up.stderr}`);
      t.same(unitProps(unit, ['MemoryMax', 'TasksMax']), { MemoryMax: String(128 * MiB), TasksMax: '40' });
      spawnSync('systemctl', ['daemon-reload']);
      t.equal(
        `${cgroupValue(cg, 'memory.max')} ${cgroupValue(cg, 'pids.max')}`,
        `${128 * MiB} 40`,
        `${rt.name}: the updated limits survive a daemon-reload (systemd re-applies its properties)`,
      );

      const ev = parseState(rt.run(['events', '--stats', id]));
      t.equal(
        (ev.data as { memory?: { usage?: { limit?: number } } })?.memory?.usage?.limit,
        128 * MiB,
        `${rt.name} events --stats: the scope's memory`,
      );
      t.equal(rt.run(['pause', id]).code, 0, `${rt.name} pause`);
      t.equal(cgroupValue(cg, 'cgroup.freeze'), '1', `${rt.name}: frozen`);
      t.equal(rt.run(['resume', id]).code, 0, `${rt.name} resume`);
      const ps = rt.run(['ps', id, '-o', 'pid,comm']);
      t.match(ps.stdout, new RegExp(`^\\s*${pid} sleep$`, 'm'), `${rt.name} ps lists the init`);
      t.equal(launch(env, rt.run, ['exec', '-d', id, 'sleep', '500']).code, 0, `${rt.name} exec -d`);
      t.equal(cgroupValue(cg, 'cgroup.procs').split('|').length, 2, `${rt.name}: the exec is in the scope`);
      t.equal(rt.run(['kill', '--all', id, 'KILL']).code, 0, `${rt.name} kill --all`);
      const del = rt.run(['delete', '--force', id]);
      t.equal(del.code, 0, `${rt.name} delete: ${del.stderr}`);
      t.same(unitState(unit), GONE, `${rt.name}: no unit left`);
      t.notOk(existsSync(cgroupDir(cg)), `${rt.name}: no cgroup left`);
    }
  });

  t.test("runc's defaults: an empty cgroupsPath is runc-<id>.scope in system.slice", async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(rt.name);
      const r = launch(env, rt.run, [SD, 'run', '-d', '--bundle', bundle(env, id, undefined), id]);
      t.equal(r.code, 0, `${rt.name} run -d: ${r.stderr}`);
      const pid = parseState(rt.run(['state', id])).pid as number;
      t.equal(cgroupOf(pid), `/system.slice/runc-${id}.scope`, `${rt.name}: runc-${id}.scope`);
      t.equal(rt.run(['delete', '--force', id]).code, 0, `${rt.name} delete --force`);
      t.same(unitState(`runc-${id}.scope`), GONE, `${rt.name}: no unit left`);
    }
  });

  t.test('a scope stopped behind its back: state, kill and delete still behave', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('tsrun');
    const unit = `tsrun-vm-${id}.scope`;
    const run = launch(env, env.run, [SD, 'run', '-d', '--bundle', bundle(env, id, `system.slice:tsrun-vm:${id}`), id]);
    t.equal(run.code, 0, `run -d: ${run.stderr}`);
    t.equal(spawnSync('systemctl', ['stop', unit]).status, 0, 'systemctl stop (kills the container)');
    t.equal(parseState(env.run(['state', id])).status, 'stopped', 'state: stopped');
    t.equal(env.run(['kill', id, 'KILL']).code, 1, "kill: refused as runc's (container not running)");
    const del = env.run(['delete', id]);
    t.equal(del.code, 0, `delete: ${del.stderr}`);
    t.notOk(existsSync(join(env.root, id)), 'no state directory');
    t.same(unitState(unit), GONE, 'no unit');
  });

  t.test('bad input: the error names the field, nothing is left', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const cases: [string, string, RegExp][] = [
        // runc's logfmt line escapes the quotes.
        ['not slice:prefix:name', 'bad', /expected cgroupsPath to be of format \\?"slice:prefix:name\\?"/],
        ['a slice without .slice', 'foo:tsrun-vm:x', rt.name === 'tsrun' ? /invalid slice name "foo"/ : /slice/],
      ];
      for (const [what, path, msg] of cases) {
        const id = uniqueId(rt.name);
        const r = launch(env, rt.run, [SD, 'run', '-d', '--bundle', bundle(env, id, path), id]);
        t.not(r.code, 0, `${rt.name}, ${what}: refused`);
        t.match(r.stderr, msg, `${rt.name}, ${what}: says why`);
        if (rt.name === 'tsrun') t.match(r.stderr, /linux\.cgroupsPath/, 'naming the field');
        nothingLeft(t, env, rt.name, id, `tsrun-vm-${id}.scope`, what);
      }
    }
    const annId = uniqueId('tsrun');
    const annotated = bundle(env, annId, `system.slice:tsrun-vm:${annId}`, (c) => {
      c.annotations = { 'org.systemd.property.TimeoutStopSec': "'soon'" };
    });
    const ann = launch(env, env.run, [SD, 'run', '-d', '--bundle', annotated, annId]);
    t.not(ann.code, 0, 'a malformed org.systemd.property annotation: refused');
    t.match(ann.stderr, /annotations\["org\.systemd\.property\.TimeoutStopSec"\]: a duration in seconds/, 'naming it');
    nothingLeft(t, env, 'tsrun', annId, `tsrun-vm-${annId}.scope`, 'a malformed annotation');
    // systemd runs, but its bus is out of reach: the private socket covered in a mount namespace of the call's own.
    const busId = uniqueId('tsrun');
    const cover = 'mount --bind /dev/null /run/systemd/private && exec "$@"';
    const busArgs = [
      '--root',
      env.root,
      SD,
      'run',
      '-d',
      '--bundle',
      bundle(env, busId, `system.slice:tsrun-vm:${busId}`),
    ];
    const bus = runCaptured('unshare', [
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      cover,
      'sh',
      TSRUN,
      ...busArgs,
      busId,
    ]);
    t.not(bus.code, 0, 'the bus unreachable: refused');
    t.match(bus.stderr, /systemd.*\/run\/systemd\/private.*ECONNREFUSED/, 'saying which socket and why');
    nothingLeft(t, env, 'tsrun', busId, `tsrun-vm-${busId}.scope`, 'the bus unreachable');
    systemdRefusals(
      t,
      env,
      (id, unit, what) => nothingLeft(t, env, 'tsrun', id, unit, what),
      (unit) => t.equal(unitState(unit).ActiveState, 'active', "the first's scope still active"),
    );
  });
}
