// The cgroup commands on real cgroup v2 controllers under systemd (the test
// VM), tsrun beside runc 1.1.5 on the same bundle: the eBPF device filter,
// pause/resume through cgroup.freeze, kill --all and delete --force through
// cgroup.kill, OOM events and `events --stats` from the v2 files, and `ps`.
// Checks are grouped per container: a tsrun command takes ~1 s in the VM.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseState, testConfig, testEnv, TSRUN, uniqueId, cleanEnv, type Env } from '../helpers/harness';
import { runtimes, type Runtime } from '../helpers/runc';
import { waitFor, waitForSync } from '../helpers/wait';
import { cgroupDir, cgroupFile, cgroupOf, requireV2Host } from '../helpers/v2';
import type { Spec } from '../../src/spec/types';

/** The container's cgroup (v2 path) from its init. */
const cgroupOfContainer = (rt: Runtime, id: string) => cgroupOf(parseState(rt.run(['state', id])).pid as number);

const statusOf = (rt: Runtime, id: string) => String(parseState(rt.run(['state', id])).status);

function procsOf(cg: string): number[] {
  const f = join(cgroupDir(cg), 'cgroup.procs');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter(Boolean).map(Number);
}

const keyed = (cg: string, file: string) =>
  Object.fromEntries(
    cgroupFile(cg, file)
      .split('\n')
      .map((l) => l.split(' '))
      .map(([k, v]) => [k, Number(v)]),
  );

/** "R", "S", "T", … or "gone". */
function procState(pid: number): string {
  try {
    return /^State:\s*(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';
  } catch {
    return 'gone';
  }
}

/** utime + stime of a process, in clock ticks. */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** run -d and wait until the container has `minProcs` processes; its cgroup. */
async function runDetached(t: Test, env: Env, rt: Runtime, id: string, c: Spec, minProcs = 1): Promise<string> {
  const r = rt.run(['run', '-d', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
  t.equal(r.code, 0, `${rt.name} run -d: ${r.stderr}`);
  const cg = cgroupOfContainer(rt, id);
  t.ok(await waitFor(() => procsOf(cg).length >= minProcs), `${rt.name}: ${minProcs} processes started`);
  return cg;
}

/** delete (--force) and check the cgroup directory is gone. */
function deleteAndCheck(t: Test, rt: Runtime, id: string, cg: string, force = true): void {
  const r = rt.run(['delete', ...(force ? ['--force'] : []), id]);
  t.equal(r.code, 0, `${rt.name} delete ${id}: ${r.stderr}`);
  t.notOk(existsSync(cgroupDir(cg)), `${rt.name}: ${cg} is removed`);
}

type BlkioEntry = { major: number; minor?: number; op: string; value: number };

/** What the test reads of runc's stats object. */
type Stats = {
  cpu: { usage: { total: number; user: number }; throttling: { periods: number; throttledPeriods: number } };
  memory: {
    cache: number;
    usage: { limit: number; usage: number };
    swap: { limit: number; usage: number };
    raw: Record<string, number>;
  };
  pids: { current: number; limit: number };
  blkio: { ioServiceBytesRecursive: BlkioEntry[] };
};

/** Every key path of a JSON value ("memory.usage.limit"), arrays as "[]". */
function keyPaths(v: unknown, prefix = ''): string[] {
  if (Array.isArray(v)) return v.length ? keyPaths(v[0], `${prefix}[]`) : [`${prefix}[]`];
  // memory.raw is memory.stat as the kernel has it: checked against the file instead.
  if (v === null || typeof v !== 'object' || prefix === 'memory.raw') return [prefix];
  return Object.entries(v as Record<string, unknown>)
    .flatMap(([k, x]) => keyPaths(x, prefix ? `${prefix}.${k}` : k))
    .sort();
}

/** The major:minor of the VM's first disk (virtio, a dynamic major). */
function diskDev(): [number, number] {
  const disk = readdirSync('/sys/block').find((d) => /^vd[a-z]$/.test(d));
  if (!disk) throw new Error('no /sys/block/vd? disk in the VM');
  const [maj, min] = readFileSync(`/sys/block/${disk}/dev`, 'utf8').trim().split(':').map(Number);
  return [maj, min];
}

if (requireV2Host(t)) {
  t.test('the eBPF device filter: denied nodes fail with EPERM, allowed ones reach their driver', async (t) => {
    const env = testEnv(t);
    const [maj, min] = diskDev();
    // One line per probe: its name and "ok" or the shell's error (the errno's text).
    const probes: [string, string][] = [
      ['null', 'echo x > /dev/null'],
      ['zero', 'head -c 1 /dev/zero >/dev/null'],
      ['full', 'echo x > /dev/full'],
      ['urandom', 'head -c 1 /dev/urandom >/dev/null'],
      ['kmsg-node', 'echo tsrun-vm > /dev/kmsg'],
      ['mknod-null', 'mknod /dev/n2 c 1 3 && echo x > /dev/n2'],
      ['mknod-kmsg', 'mknod /dev/k2 c 1 11 && echo x > /dev/k2'],
      ['disk-allowed-r', 'head -c 512 /dev/disk0 | wc -c'],
      ['disk-allowed-w', 'exec 3>>/dev/disk0'],
      ['disk-other', `mknod /dev/disk9 b ${maj} ${min + 200} && head -c 1 /dev/disk9`],
    ];
    const script = probes.map(([n, s]) => `if e=$( (${s}) 2>&1); then echo "${n}: ok $e"; else echo "${n}: $e"; fi`);
    const outputs: Record<string, string> = {};
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(`dev-${rt.name}`);
      const c = testConfig(id, ['sh', '-c', script.join('\n')]);
      c.process!.capabilities!.bounding!.push('CAP_MKNOD');
      c.process!.capabilities!.effective!.push('CAP_MKNOD');
      c.process!.capabilities!.permitted!.push('CAP_MKNOD');
      c.linux!.devices = [
        { path: '/dev/kmsg', type: 'c', major: 1, minor: 11 },
        { path: '/dev/disk0', type: 'b', major: maj, minor: min },
      ];
      c.linux!.resources = {
        devices: [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'b', major: maj, minor: min, access: 'r' },
        ],
      };
      const out = join(env.dir, `${id}.out`);
      const r = rt.run(['run', '-b', env.bundle(c), id], { output: out });
      t.equal(r.code, 0, `${rt.name} run: ${readFileSync(out, 'utf8')}`);
      outputs[rt.name] = readFileSync(out, 'utf8');
    }
    const o = outputs.tsrun;
    t.match(o, /^null: ok/m, 'a default device opens');
    t.match(o, /^zero: ok/m);
    t.match(o, /^urandom: ok/m);
    t.match(o, /^full: .*No space left on device/m, '/dev/full reaches its driver (ENOSPC)');
    t.match(o, /^kmsg-node: .*Operation not permitted/m, 'a linux.devices node without an allow rule: EPERM');
    t.match(o, /^mknod-null: ok/m, 'mknod of any device is allowed (runc default), an allowed one opens');
    t.match(o, /^mknod-kmsg: .*Operation not permitted/m, 'a made node of a denied device does not open');
    t.match(o, /^disk-allowed-r: ok 512/m, 'the disk allowed "r" is read');
    t.match(o, /^disk-allowed-w: .*Operation not permitted/m, 'but not opened for writing');
    t.match(o, /^disk-other: .*Operation not permitted/m, 'a disk minor without a rule: EPERM (not ENXIO)');
    if (outputs.runc !== undefined) t.equal(o, outputs.runc, 'every probe ends as under runc 1.1.5');
    env.done();
  });

  t.test('pause/resume through cgroup.freeze, with 60 processes and one forking', async (t) => {
    const env = testEnv(t);
    const script = [
      'i=0; while [ $i -lt 60 ]; do sleep 1000 & i=$((i+1)); done',
      '(while :; do true & wait; done) &',
      'while :; do :; done',
    ].join('\n');
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(`pause-${rt.name}`);
      const cg = await runDetached(t, env, rt, id, testConfig(id, ['sh', '-c', script]), 62);
      const init = parseState(rt.run(['state', id])).pid as number;
      t.ok(existsSync(join(cgroupDir(cg), 'cgroup.freeze')), `${rt.name}: ${cg} is a v2 cgroup`);
      const p = rt.run(['pause', id]);
      t.equal(p.code, 0, `${rt.name} pause: ${p.stderr}`);
      t.equal(statusOf(rt, id), 'paused', `${rt.name}: state says paused`);
      t.equal(cgroupFile(cg, 'cgroup.freeze'), '1', `${rt.name}: cgroup.freeze 1`);
      t.equal(keyed(cg, 'cgroup.events').frozen, 1, `${rt.name}: cgroup.events frozen 1`);
      const procs = procsOf(cg);
      t.ok(procs.length >= 62, `${rt.name}: ${procs.length} processes frozen`);
      t.same(
        procs.filter((p) => !/^[STD]$/.test(procState(p))),
        [],
        `${rt.name}: no process of the container is running (state S, T or D)`,
      );
      const before = cpuTicks(init);
      await new Promise((r) => setTimeout(r, 500));
      t.equal(cpuTicks(init), before, `${rt.name}: the busy loop uses no CPU while paused`);
      t.match(rt.run(['pause', id]).stderr, /container not running/, `${rt.name}: a second pause is refused`);
      const r = rt.run(['resume', id]);
      t.equal(r.code, 0, `${rt.name} resume: ${r.stderr}`);
      t.equal(statusOf(rt, id), 'running', `${rt.name}: state says running`);
      t.equal(cgroupFile(cg, 'cgroup.freeze'), '0', `${rt.name}: cgroup.freeze 0`);
      t.equal(keyed(cg, 'cgroup.events').frozen, 0, `${rt.name}: cgroup.events frozen 0`);
      t.ok(await waitFor(() => cpuTicks(init) > before), `${rt.name}: the busy loop runs again`);
      t.equal(rt.run(['pause', id]).code, 0, `${rt.name}: paused again`);
      deleteAndCheck(t, rt, id, cg);
    }
    env.done();
  });

  t.test('kill --all KILL and delete --force empty a fork loop through cgroup.kill', async (t) => {
    const env = testEnv(t);
    const loop = ['sh', '-c', 'while :; do sh -c "sleep 300" & true & done'];
    for (const rt of runtimes(t, env)) {
      const killed = uniqueId(`killall-${rt.name}`);
      const c = testConfig(killed, loop);
      c.linux!.resources = { pids: { limit: 200 } };
      const cg = await runDetached(t, env, rt, killed, c, 50);
      const log = join(env.dir, `${killed}.log`);
      const k = rt.run(['--log', log, '--debug', 'kill', '--all', killed, 'KILL']);
      t.equal(k.code, 0, `${rt.name} kill --all: ${k.stderr}`);
      t.same(await waitFor(() => procsOf(cg), { done: (p) => p.length === 0 }), [], `${rt.name}: the cgroup is empty`);
      t.equal(
        waitForSync(() => statusOf(rt, killed), { done: (s) => s === 'stopped' }),
        'stopped',
      );
      if (rt.name === 'tsrun')
        t.match(readFileSync(log, 'utf8'), `through ${cgroupDir(cg)}/cgroup.kill`, 'tsrun wrote cgroup.kill');
      deleteAndCheck(t, rt, killed, cg, false);

      const forced = uniqueId(`force-${rt.name}`);
      const f = testConfig(forced, loop);
      f.linux!.resources = { pids: { limit: 200 } };
      const fcg = await runDetached(t, env, rt, forced, f, 50);
      deleteAndCheck(t, rt, forced, fcg);
      t.match(rt.run(['state', forced]).stderr, /does not exist/, `${rt.name}: the container is gone`);
    }
    env.done();
  });

  t.test('events: an OOM kill under memory.max is reported, from memory.events', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(`oom-${rt.name}`);
      // The init survives; its child grows until memory.max kills it, then again.
      const c = testConfig(id, ['sh', '-c', 'while :; do tail /dev/zero; sleep 1; done']);
      c.linux!.resources = { memory: { limit: 24 << 20, swap: 24 << 20 } };
      const r = rt.run(['create', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
      t.equal(r.code, 0, `${rt.name} create: ${r.stderr}`);
      const cg = cgroupOfContainer(rt, id);
      const events = spawn(
        rt.name === 'tsrun' ? TSRUN : 'runc',
        ['--root', rt.root, 'events', '--interval', '60s', id],
        { env: cleanEnv() },
      );
      let lines = '';
      events.stdout.on('data', (d) => (lines += d));
      events.stderr.on('data', (d) => (lines += d));
      const exited = new Promise<number | null>((resolve) => events.on('exit', (code) => resolve(code)));
      t.equal(rt.run(['start', id]).code, 0, `${rt.name} start`);
      await waitFor(() => lines.includes('"oom"'), { timeoutMs: 30000, intervalMs: 100 });
      const first = lines.split('\n')[0];
      t.same(JSON.parse(first || '{}'), { type: 'oom', id }, `${rt.name}: events prints the oom event: ${lines}`);
      const ev = keyed(cg, 'memory.events');
      t.ok(
        ev.oom >= 1 && ev.oom_kill >= 1,
        `${rt.name}: memory.events counts it (oom ${ev.oom}, oom_kill ${ev.oom_kill})`,
      );
      t.equal(cgroupFile(cg, 'memory.max'), String(24 << 20), `${rt.name}: memory.max`);
      t.equal(rt.run(['kill', id, 'KILL']).code, 0, `${rt.name} kill`);
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 20000))]);
      t.equal(code, 0, `${rt.name}: events ends with the container`);
      if (code === 'timeout') events.kill('SIGKILL');
      deleteAndCheck(t, rt, id, cg, false);
    }
    env.done();
  });

  t.test('events --stats from the v2 files in runc layout; ps lists cgroup.procs', async (t) => {
    const env = testEnv(t);
    const [maj, min] = diskDev();
    const script =
      'dd if=/dev/disk0 of=/dev/null bs=64k count=32 iflag=direct 2>/dev/null; sleep 1000 & ' +
      '(while :; do :; done) & echo started; wait';
    const stats: Record<string, Stats> = {};
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(`stats-${rt.name}`);
      const c = testConfig(id, ['sh', '-c', script]);
      c.linux!.devices = [{ path: '/dev/disk0', type: 'b', major: maj, minor: min }];
      c.linux!.resources = {
        devices: [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'b', major: maj, minor: min, access: 'r' },
        ],
        memory: { limit: 64 << 20 },
        pids: { limit: 100 },
        cpu: { quota: 50000, period: 100000 },
      };
      const cg = await runDetached(t, env, rt, id, c, 3);
      await waitFor(() => readFileSync(join(env.dir, `${id}.out`), 'utf8').includes('started'));
      const cpuBefore = keyed(cg, 'cpu.stat');
      const r = rt.run(['events', '--stats', id]);
      const cpuAfter = keyed(cg, 'cpu.stat');
      t.equal(r.code, 0, `${rt.name} events --stats: ${r.stderr}`);
      const ev = JSON.parse(r.stdout) as { type: string; id: string; data: Stats };
      t.equal(ev.type, 'stats');
      t.equal(ev.id, id);
      stats[rt.name] = ev.data;
      const d = ev.data;
      const between = (v: number, lo: number, hi: number) => v >= lo && v <= hi;
      t.ok(
        between(d.cpu.usage.total, cpuBefore.usage_usec * 1000, cpuAfter.usage_usec * 1000),
        `${rt.name}: cpu.usage.total ${d.cpu.usage.total} is cpu.stat usage_usec × 1000`,
      );
      t.ok(
        between(d.cpu.usage.user, cpuBefore.user_usec * 1000, cpuAfter.user_usec * 1000),
        `${rt.name}: cpu.usage.user from user_usec`,
      );
      t.ok(
        between(d.cpu.throttling.periods, cpuBefore.nr_periods, cpuAfter.nr_periods) && d.cpu.throttling.periods > 0,
        `${rt.name}: cpu.throttling.periods ${d.cpu.throttling.periods} from nr_periods`,
      );
      t.ok(d.cpu.throttling.throttledPeriods > 0, `${rt.name}: the busy loop is throttled under cpu.max`);
      t.equal(cgroupFile(cg, 'cpu.max'), '50000 100000', `${rt.name}: cpu.max`);
      t.equal(d.memory.usage.limit, 64 << 20, `${rt.name}: memory.usage.limit is memory.max`);
      const current = Number(cgroupFile(cg, 'memory.current'));
      t.ok(Math.abs(d.memory.usage.usage - current) < current / 4, `${rt.name}: memory.usage.usage ~ memory.current`);
      const statKeys = cgroupFile(cg, 'memory.stat')
        .split('\n')
        .map((l) => l.split(' ')[0]);
      t.same(Object.keys(d.memory.raw).sort(), statKeys.sort(), `${rt.name}: memory.raw has memory.stat's keys`);
      t.equal(d.memory.cache, d.memory.raw.file, `${rt.name}: memory.cache is memory.stat file`);
      const swapMax = cgroupFile(cg, 'memory.swap.max');
      const swapCurrent = Number(cgroupFile(cg, 'memory.swap.current'));
      t.ok(
        Math.abs(d.memory.swap.usage - (swapCurrent + current)) < current / 4,
        `${rt.name}: memory.swap.usage is swap + memory (runc's v1-compatible sum)`,
      );
      if (swapMax !== 'max')
        t.equal(d.memory.swap.limit, Number(swapMax) + (64 << 20), `${rt.name}: memory.swap.limit is swap.max + max`);
      t.equal(d.pids.current, Number(cgroupFile(cg, 'pids.current')), `${rt.name}: pids.current`);
      t.equal(d.pids.limit, 100, `${rt.name}: pids.limit is pids.max`);
      const io = cgroupFile(cg, 'io.stat')
        .split('\n')
        .find((l) => l.startsWith(`${maj}:${min} `));
      const rbytes = Number(/rbytes=(\d+)/.exec(io ?? '')?.[1]);
      t.ok(rbytes >= 32 * 65536, `${rt.name}: io.stat counts the direct reads of ${maj}:${min} (${io})`);
      // runc's BlkioEntry fields are all omitempty: a minor 0 is left out.
      const read = d.blkio.ioServiceBytesRecursive.find(
        (e) => e.op === 'Read' && e.major === maj && (e.minor ?? 0) === min,
      );
      t.equal(read?.value, rbytes, `${rt.name}: blkio.ioServiceBytesRecursive Read is io.stat rbytes`);

      const procs = procsOf(cg).sort((a, b) => a - b);
      const json = rt.run(['ps', '-f', 'json', id]);
      t.equal(json.code, 0, `${rt.name} ps -f json: ${json.stderr}`);
      t.same(
        (JSON.parse(json.stdout) as number[]).sort((a, b) => a - b),
        procs,
        `${rt.name}: ps -f json is cgroup.procs`,
      );
      const table = rt.run(['ps', id]);
      t.equal(table.code, 0, `${rt.name} ps: ${table.stderr}`);
      const [header, ...rows] = table.stdout.trim().split('\n');
      t.match(header, /^UID\s+PID\s+PPID/, `${rt.name}: ps -ef's header`);
      t.same(
        rows.map((l) => Number(l.trim().split(/\s+/)[1])).sort((a, b) => a - b),
        procs,
        `${rt.name}: ps rows are cgroup.procs`,
      );
      const args = rt.run(['ps', id, '-o', 'pid,args']);
      t.match(args.stdout, /sleep 1000/, `${rt.name}: ps passes its options on to ps`);
      deleteAndCheck(t, rt, id, cg);
    }
    // memory.usage.max is memory.peak (kernel 5.19+), which runc reads from 1.2 on; 1.1.5 leaves it out.
    const paths = (s: Stats) => keyPaths(s).filter((p) => p !== 'memory.usage.max');
    if (stats.runc) t.same(paths(stats.tsrun), paths(stats.runc), "the stats object has runc's keys");
    env.done();
  });
}
