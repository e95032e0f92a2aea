// cgroups on real containers made by bin/tsrun: limits the kernel enforces,
// pause/resume, ps, update, events and kill --all, checked from outside
// (cgroup files, /proc) and inside; every cgroup directory is gone after delete.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cgroupDirsOf,
  cleanEnv,
  isRoot,
  parseState,
  ROOT_REASON,
  testConfig,
  testEnv,
  TSRUN,
  uniqueId,
  type Env,
  testCgroupPath,
} from '../../helpers/harness';
import type { Spec } from '../../../src/spec/types';
import type { RuncStats } from '../../helpers/cgroups';
import { sleepSync, waitFor, waitForSync } from '../../helpers/wait';

const statusOf = (env: Env, id: string) => String(parseState(env.run(['state', id])).status);

function procState(pid: number): string {
  try {
    return /^State:\s*(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';
  } catch {
    return 'gone';
  }
}

/** The container's directory in one v1 hierarchy ("memory", "pids", "cpu,cpuacct" …). */
function cgDir(id: string, hierarchy: string): string {
  const dir = cgroupDirsOf(testCgroupPath(id)).find((d) => d.split('/')[4] === hierarchy);
  if (!dir) throw new Error(`no ${hierarchy} cgroup for ${id}`);
  return dir;
}

const readCg = (id: string, hierarchy: string, file: string) =>
  readFileSync(join(cgDir(id, hierarchy), file), 'utf8').trim();

/** run -d, wait until running; returns the init pid. */
function runDetached(t: Test, env: Env, id: string, config: Spec): number {
  const r = env.run(['run', '-d', '-b', env.bundle(config), id], { output: join(env.dir, `${id}.out`) });
  t.equal(r.code, 0, `run -d ${id}: ${r.stderr}`);
  t.equal(
    waitForSync(() => statusOf(env, id), { done: (s) => s === 'running' }),
    'running',
  );
  return Number(parseState(env.run(['state', id])).pid);
}

/** delete (--force) and check no cgroup directory of the container is left in any hierarchy. */
function deleteAndCheck(t: Test, env: Env, id: string, force = true): void {
  const r = env.run(['delete', ...(force ? ['--force'] : []), id]);
  t.equal(r.code, 0, `delete ${id}: ${r.stderr}`);
  t.same(cgroupDirsOf(testCgroupPath(id)), [], `no cgroup directory of ${id} left in any hierarchy`);
}

const outputOf = (env: Env, id: string) => readFileSync(join(env.dir, `${id}.out`), 'utf8');

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('pause and resume freeze and thaw every process; delete --force of a paused container', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('pause');
    const pid = runDetached(t, env, id, testConfig(id, ['sh', '-c', 'while :; do :; done']));
    t.equal(cgroupDirsOf(testCgroupPath(id)).length > 3, true, 'the container has cgroups in the v1 hierarchies');

    t.equal(
      env.run(['resume', id]).stderr,
      'tsrun: container not paused\n',
      'resume of a running container is refused',
    );
    const p = env.run(['pause', id]);
    t.equal(p.code, 0, `pause: ${p.stderr}`);
    t.equal(statusOf(env, id), 'paused', 'state reports paused');
    t.match(
      waitForSync(() => procState(pid), { done: (s) => s === 'D' || s === 'T' }),
      /^[DT]$/,
      'the busy process is frozen (State D or T)',
    );
    t.equal(readCg(id, 'freezer', 'freezer.state'), 'FROZEN');
    const again = env.run(['pause', id]);
    t.equal(again.code, 1, 'pausing a paused container fails');
    t.match(again.stderr, /container not running/);

    t.equal(env.run(['resume', id]).code, 0, 'resume');
    t.equal(statusOf(env, id), 'running');
    t.match(
      waitForSync(() => procState(pid), { done: (s) => s === 'R' || s === 'S' }),
      /^[RS]$/,
      'the process runs again',
    );

    t.equal(env.run(['pause', id]).code, 0, 'pause again');
    t.equal(env.run(['delete', id]).code, 1, 'delete without --force of a paused container is refused');
    deleteAndCheck(t, env, id);
    t.match(procState(pid), /^(gone|Z)$/, 'the paused process was killed');

    const stopped = uniqueId('stopped');
    t.equal(
      env.run(['create', '-b', env.bundle(testConfig(stopped, ['true'])), stopped], {
        output: join(env.dir, 'stopped.out'),
      }).code,
      0,
    );
    t.equal(env.run(['start', stopped]).code, 0);
    waitForSync(() => statusOf(env, stopped), { done: (s) => s === 'stopped' });
    const ps = env.run(['pause', stopped]);
    t.equal(ps.code, 1, 'pause of a stopped container fails');
    t.match(ps.stderr, /container not running/);
    t.match(env.run(['resume', stopped]).stderr, /container not paused/);
    t.match(env.run(['pause', 'no-such-container']).stderr, /container does not exist/);
    deleteAndCheck(t, env, stopped, false);
    env.done();
  });

  t.test('a created container can be paused and resumed, then started', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('cpause');
    t.equal(
      env.run(['create', '-b', env.bundle(testConfig(id, ['true'])), id], { output: join(env.dir, 'o') }).code,
      0,
    );
    t.equal(env.run(['pause', id]).code, 0);
    t.equal(statusOf(env, id), 'paused');
    t.equal(env.run(['resume', id]).code, 0);
    t.equal(statusOf(env, id), 'created', 'back to created after resume');
    deleteAndCheck(t, env, id, false);
    env.done();
  });

  t.test('memory limit: the allocating process is OOM-killed and events reports it', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('oom');
    const mib = 1024 * 1024;
    const c = testConfig(id, [
      'sh',
      '-c',
      'dd if=/dev/zero of=/dev/null bs=300M count=1 2>/dev/null; echo "dd=$?"; sleep 1000',
    ]);
    // Memory and memory+swap alike, so nothing can be swapped out instead.
    c.linux!.resources = { ...c.linux!.resources, memory: { limit: 100 * mib, swap: 100 * mib } };
    t.equal(env.run(['create', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) }).code, 0, 'create');
    t.equal(readCg(id, 'memory', 'memory.limit_in_bytes'), String(100 * mib));
    t.equal(readCg(id, 'memory', 'memory.memsw.limit_in_bytes'), String(100 * mib));

    const events = spawn(TSRUN, ['--root', env.root, 'events', '--interval', '30s', id], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lines = '';
    events.stdout.on('data', (d) => (lines += d));
    events.stderr.on('data', (d) => (lines += d));
    const exited = new Promise<number | null>((resolve) => events.on('exit', (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, 500)); // the watcher registers its eventfd
    t.equal(env.run(['start', id]).code, 0, 'start');

    await waitFor(() => lines.includes('"oom"'), { timeoutMs: 10000, intervalMs: 50 });
    t.same(JSON.parse(lines.split('\n')[0]), { type: 'oom', id }, `events prints runc's oom event: ${lines}`);
    t.match(
      waitForSync(() => outputOf(env, id), { done: (o) => o.includes('dd=') }),
      /dd=137/,
      'dd was killed with SIGKILL',
    );
    t.match(readCg(id, 'memory', 'memory.oom_control'), /^oom_kill [1-9]/m, 'the kernel counts the OOM kill');

    t.equal(env.run(['kill', id, 'KILL']).code, 0);
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
    t.equal(code, 0, 'events exits by itself once the container has stopped');
    if (code === 'timeout') events.kill('SIGKILL');
    deleteAndCheck(t, env, id, false);
    env.done();
  });

  t.test('pids limit stops a fork bomb at the limit', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('pids');
    // busybox sh gives up at the first failed fork: the bomb runs in an inner shell, which then exits.
    const c = testConfig(id, [
      'sh',
      '-c',
      "sh -c 'i=0; while [ $i -lt 60 ]; do sleep 1000 & i=$((i+1)); done'; echo spawned; exec sleep 1000",
    ]);
    c.linux!.resources = { ...c.linux!.resources, pids: { limit: 16 } };
    runDetached(t, env, id, c);
    t.match(
      waitForSync(() => outputOf(env, id), { done: (o) => o.includes('spawned') }),
      /can't fork|Resource temporarily unavailable/,
      'forks beyond the limit fail',
    );
    t.equal(readCg(id, 'pids', 'pids.max'), '16');
    const current = Number(readCg(id, 'pids', 'pids.current'));
    t.ok(
      current >= 14 && current <= 16,
      `the container stays at the limit (the bomb's own shell has exited): ${current}`,
    );
    const pids = JSON.parse(env.run(['ps', '--format', 'json', id]).stdout) as number[];
    t.equal(pids.length, current, 'ps -f json lists every process');
    t.ok(Number(readCg(id, 'pids', 'pids.events').split(' ')[1]) > 0, 'pids.events counts the refused forks');
    deleteAndCheck(t, env, id);
    env.done();
  });

  t.test("cpu quota throttles a busy loop; events --stats has runc's fields", async (t) => {
    const env = testEnv(t);
    const id = uniqueId('cpu');
    const c = testConfig(id, ['sh', '-c', 'while :; do :; done']);
    c.linux!.resources = { ...c.linux!.resources, cpu: { quota: 10000, period: 100000 }, pids: { limit: 100 } };
    runDetached(t, env, id, c);
    t.equal(readCg(id, 'cpu', 'cpu.cfs_quota_us'), '10000');
    sleepSync(1000);
    const r = env.run(['events', '--stats', id]);
    t.equal(r.code, 0, r.stderr);
    const ev = JSON.parse(r.stdout) as { type: string; id: string; data: RuncStats };
    t.equal(r.stdout.split('\n').filter(Boolean).length, 1, 'one line');
    t.equal(ev.type, 'stats');
    t.equal(ev.id, id);
    t.same(Object.keys(ev.data).sort(), [
      'blkio',
      'cpu',
      'cpuset',
      'hugetlb',
      'intel_rdt',
      'memory',
      'network_interfaces',
      'pids',
    ]);
    t.ok(ev.data.cpu.throttling.throttledPeriods > 0, `throttled: ${JSON.stringify(ev.data.cpu.throttling)}`);
    t.ok(ev.data.cpu.throttling.periods >= ev.data.cpu.throttling.throttledPeriods);
    const usedNs = ev.data.cpu.usage.total;
    t.ok(usedNs > 0 && usedNs < 0.5e9, `about 10% of one CPU over ~1 s: ${usedNs} ns`);
    t.type(ev.data.cpu.usage.kernel, 'number');
    t.type(ev.data.cpu.usage.user, 'number');
    t.ok(Array.isArray(ev.data.cpu.usage.percpu));
    t.ok(ev.data.memory.usage.usage > 0, 'memory usage');
    t.type(ev.data.memory.usage.limit, 'number');
    t.type(ev.data.memory.raw, 'object');
    t.equal(ev.data.pids.current, 1, 'pids.current');
    t.equal(ev.data.pids.limit, 100, 'pids.limit');
    t.ok(Array.isArray(ev.data.cpuset.cpus) && ev.data.cpuset.cpus.length > 0, 'cpuset cpus');
    t.equal(ev.data.network_interfaces, null);
    t.equal(env.run(['events', '--interval', '0s', id]).stderr, 'tsrun: duration interval must be greater than 0\n');
    deleteAndCheck(t, env, id);
    const gone = env.run(['events', '--stats', id]);
    t.equal(gone.code, 1, 'events of a deleted container fails');
    env.done();
  });

  t.test('cpuset pins the process; devices rules deny a device node', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('cpuset');
    const c = testConfig(id, [
      'sh',
      '-c',
      'grep Cpus_allowed_list /proc/self/status; cat /dev/demo0; cat /dev/demo1; true',
    ]);
    c.linux!.resources = {
      ...c.linux!.resources,
      cpu: { cpus: '0' },
      // 42 is the kernel's "demo" major: no driver, so an allowed open gets ENXIO, a denied one EPERM.
      devices: [...(c.linux!.resources?.devices ?? []), { allow: true, type: 'c', major: 42, minor: 1, access: 'rw' }],
    };
    c.linux!.devices = [
      { path: '/dev/demo0', type: 'c', major: 42, minor: 0, fileMode: 0o666 },
      { path: '/dev/demo1', type: 'c', major: 42, minor: 1, fileMode: 0o666 },
    ];
    const out = join(env.dir, 'cpuset.out');
    const r = env.run(['run', '-b', env.bundle(c), id], { output: out });
    t.equal(r.code, 0, readFileSync(out, 'utf8'));
    const text = readFileSync(out, 'utf8');
    t.match(text, /Cpus_allowed_list:\s*0\n/, 'pinned to CPU 0');
    t.match(text, /demo0'?: Operation not permitted/, 'a device without an allow rule is denied by the cgroup');
    t.match(text, /demo1'?: No such device or address/, 'the allowed device reaches the (absent) driver');
    t.same(cgroupDirsOf(testCgroupPath(id)), [], 'run removed the cgroups');
    env.done();
  });

  t.test('update changes live limits; a rejected update keeps the old values', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('update');
    const c = testConfig(id, ['sleep', '1000']);
    c.linux!.resources = {
      ...c.linux!.resources,
      memory: { limit: 200 * 1024 * 1024 },
      cpu: { quota: 50000, period: 100000 },
    };
    runDetached(t, env, id, c);
    const mem = () => readCg(id, 'memory', 'memory.limit_in_bytes');
    const quota = () => readCg(id, 'cpu', 'cpu.cfs_quota_us');

    let r = env.run(['update', '--memory', '64m', '--pids-limit', '7', '--cpu-share', '512', id]);
    t.equal(r.code, 0, r.stderr);
    t.equal(mem(), String(64 * 1024 * 1024), '--memory 64m');
    t.equal(readCg(id, 'pids', 'pids.max'), '7', '--pids-limit');
    t.equal(readCg(id, 'cpu', 'cpu.shares'), '512', '--cpu-share');

    r = env.run(['update', '--memory-swap', '32m', id]);
    t.equal(r.code, 1, 'swap below the memory limit in force is refused');
    t.match(r.stderr, /linux\.resources\.memory\.swap/);
    t.equal(mem(), String(64 * 1024 * 1024), 'the memory limit is unchanged');

    r = env.run(['update', '--cpu-quota', '500', id]);
    t.equal(r.code, 1, 'a quota below the kernel minimum is refused');
    t.match(r.stderr, /linux\.resources\.cpu\.quota/);
    t.equal(quota(), '50000', 'the quota is unchanged');

    r = env.run(['update', '--memory', '1k', id]);
    t.equal(r.code, 1, 'a limit below the current usage is refused by the kernel');
    t.equal(mem(), String(64 * 1024 * 1024), 'and rolled back to the previous value');

    r = env.run(['update', '-r', '-', id], { input: JSON.stringify({ cpu: { quota: 20000 }, memory: { limit: 0 } }) });
    t.equal(r.code, 0, `--resources -: ${r.stderr}`);
    t.equal(quota(), '20000');
    t.equal(readCg(id, 'cpu', 'cpu.cfs_period_us'), '100000', 'the period stays');
    t.equal(mem(), String(64 * 1024 * 1024), '0 means unchanged');
    // containerd's shim spells it --resources - (yargs-parser took '-' for a word).
    r = env.run(['update', '--resources', '-', id], { input: JSON.stringify({ pids: { limit: 9 } }) });
    t.equal(r.code, 0, `--resources - (long form): ${r.stderr}`);
    t.equal(readCg(id, 'pids', 'pids.max'), '9');
    r = env.run(['update', '--resources', '-', id], { input: 'not json' });
    t.equal(r.code, 1);
    t.match(r.stderr, /stdin: not a JSON LinuxResources object/, 'stdin that is not JSON, said so');
    r = env.run(['update', '--pids-limit', '7', id]);
    t.equal(r.code, 0, `--pids-limit: ${r.stderr}`);

    const saved = JSON.parse(readFileSync(join(env.root, id, 'state.json'), 'utf8'));
    t.equal(saved.cgroup.resources.memory.limit, 64 * 1024 * 1024, 'state.json keeps the applied memory limit');
    t.equal(saved.cgroup.resources.cpu.quota, 20000, 'and the quota');
    t.equal(saved.cgroup.resources.pids.limit, 7, 'and the pids limit');

    t.match(env.run(['update', '--memory', 'lots', id]).stderr, /invalid value for memory: invalid size: 'lots'/);
    t.match(env.run(['update', '--l3-cache-schema', 'L3:0=f', id]).stderr, /Intel RDT\/CAT/);
    deleteAndCheck(t, env, id);
    t.match(env.run(['update', '--memory', '64m', id]).stderr, /does not exist/);
    env.done();
  });

  t.test('every runc 1.1 update flag, -r FILE and a resources JSON that fails the schema', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('upflags');
    runDetached(t, env, id, testConfig(id, ['sleep', '1000']));
    const ok = (args: string[], input?: string) => {
      const r = env.run(['update', ...args, id], { input });
      t.equal(r.code, 0, `update ${args.join(' ')}: ${r.stderr}`);
    };
    ok(['--cpu-period', '200000', '--cpu-quota', '50000']);
    t.equal(readCg(id, 'cpu', 'cpu.cfs_period_us'), '200000', '--cpu-period');
    t.equal(readCg(id, 'cpu', 'cpu.cfs_quota_us'), '50000', '--cpu-quota');
    ok(['--cpu-rt-period', '500000']);
    t.equal(readCg(id, 'cpu', 'cpu.rt_period_us'), '500000', '--cpu-rt-period');
    ok(['--cpuset-cpus', '0', '--cpuset-mems', '0']);
    t.equal(readCg(id, 'cpuset', 'cpuset.cpus'), '0', '--cpuset-cpus');
    t.equal(readCg(id, 'cpuset', 'cpuset.mems'), '0', '--cpuset-mems');
    ok(['--memory-reservation', '10m', '--memory', '100m', '--memory-swap', '200m']);
    t.equal(readCg(id, 'memory', 'memory.soft_limit_in_bytes'), String(10 << 20), '--memory-reservation');
    t.equal(readCg(id, 'memory', 'memory.memsw.limit_in_bytes'), String(200 << 20), '--memory-swap');
    // On BFQ the weight file exists in every cgroup but the root: judged by the container's own.
    const weightFile = ['blkio.weight', 'blkio.bfq.weight'].find((f) => existsSync(join(cgDir(id, 'blkio'), f)));
    if (weightFile) {
      ok(['--blkio-weight', '300']);
      t.match(readCg(id, 'blkio', weightFile), /^(default )?300$/m, `--blkio-weight (${weightFile})`);
    } else {
      t.comment(
        "--blkio-weight not checked: this host's blkio controller has no weight file (I/O scheduler neither " +
          'CFQ nor BFQ)',
      );
    }
    // The parent grants no realtime budget here: the kernel refuses, the error names the field.
    const rt = env.run(['update', '--cpu-rt-runtime', '1000', id]);
    t.equal(rt.code, 1);
    t.match(rt.stderr, /linux\.resources\.cpu\.realtimeRuntime: write "1000" to .*cpu\.rt_runtime_us: EINVAL/);
    ok(['--kernel-memory', '10m', '--kernel-memory-tcp', '1m']);
    t.match(
      env.run(['update', '--mem-bw-schema', 'MB:0=20', id]).stderr,
      /Intel RDT\/MBA: memory bandwidth schema is not (enabled|supported)/,
    );

    const file = join(env.dir, 'resources.json');
    writeFileSync(file, JSON.stringify({ pids: { limit: 11 }, memory: { limit: 150 << 20 } }));
    ok(['-r', file, '--pids-limit', '99']);
    t.equal(readCg(id, 'pids', 'pids.max'), '11', '-r FILE, the other flags ignored as runc does');
    t.equal(readCg(id, 'memory', 'memory.limit_in_bytes'), String(150 << 20));
    const bad = env.run(['update', '--resources', '-', id], { input: JSON.stringify({ memory: { limit: 'lots' } }) });
    t.equal(bad.code, 1);
    t.match(bad.stderr, /linux\.resources\.memory\.limit: "lots" is not an integer/, 'the field that fails is named');
    t.equal(readCg(id, 'memory', 'memory.limit_in_bytes'), String(150 << 20), 'nothing applied');
    t.match(env.run(['update', '-r', join(env.dir, 'missing.json'), id]).stderr, /missing\.json: ENOENT/);
    deleteAndCheck(t, env, id);
    env.done();
  });

  t.test("ps lists the container's processes; kill --all reaches a forking loop", async (t) => {
    const env = testEnv(t);
    const id = uniqueId('ps');
    const c = testConfig(id, ['sh', '-c', 'sleep 1001 & while :; do sleep 0.01 & sleep 0.02; done']);
    // Without a pid namespace of its own, killing the init would leave the rest running: only --all reaches them.
    c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'pid');
    const pid = runDetached(t, env, id, c);
    const table = env.run(['ps', id]);
    t.equal(table.code, 0, table.stderr);
    const [header, ...rows] = table.stdout.trim().split('\n');
    t.match(header, /\bPID\b/, 'ps -ef header');
    t.ok(
      rows.some((l) => l.includes('sleep 1001')),
      'the background sleep is listed',
    );
    t.ok(
      rows.every((l) => existsSync(`/proc/${l.trim().split(/\s+/)[1]}`) || true),
      'rows are processes',
    );
    const custom = env.run(['ps', id, '-o', 'pid,comm']);
    t.match(custom.stdout, /^\s*PID COMMAND\n/, 'ps options after the id go to ps');
    t.match(custom.stdout, new RegExp(`^\\s*${pid} sh$`, 'm'), 'the init is listed');
    const pids = JSON.parse(env.run(['ps', '-f', 'json', id]).stdout) as number[];
    t.ok(pids.includes(pid) && pids.length >= 2, `json lists the init and its children: ${pids}`);
    t.match(env.run(['ps', '-f', 'xml', id]).stderr, /invalid format option/);

    const kill = env.run(['kill', '--all', id, 'KILL']);
    t.equal(kill.code, 0, kill.stderr);
    const left = waitForSync(() => JSON.parse(env.run(['ps', '-f', 'json', id]).stdout) as number[], {
      done: (p) => p.length === 0,
    });
    t.same(left, [], 'nothing is left in the cgroup');
    t.ok(
      pids.every((p) => procState(p) === 'gone' || procState(p) === 'Z'),
      'every process seen before is gone',
    );
    t.equal(
      waitForSync(() => statusOf(env, id), { done: (s) => s === 'stopped' }),
      'stopped',
    );
    deleteAndCheck(t, env, id, false);
    env.done();
  });

  t.test('bad cgroup input at create: clear error naming the JSON path, nothing left', async (t) => {
    const env = testEnv(t);
    const cases: [string, (c: Spec) => void, RegExp, string[]?][] = [
      [
        'negative',
        (c) => (c.linux!.resources = { memory: { limit: -5 } }),
        /linux\.resources\.memory\.limit: -5 is below the minimum -1/,
      ],
      [
        'absurd',
        (c) => (c.linux!.resources = { cpu: { shares: 10_000_000 } }),
        /linux\.resources\.cpu\.shares: 10000000 is above the maximum/,
      ],
      [
        'swap',
        (c) => (c.linux!.resources = { memory: { limit: 64 << 20, swap: 32 << 20 } }),
        /linux\.resources\.memory\.swap: .* below/,
      ],
      [
        'unified',
        // Written as the spec asks of keys the runtime does not know: the kernel has no such file.
        (c) => (c.linux!.resources = { unified: { 'hugetlb.bogus': '1' } }),
        /linux\.resources\.unified\["hugetlb\.bogus"\]: write "1" to \/sys\/fs\/cgroup\/\S+\/hugetlb\.bogus: ENOENT/,
      ],
      [
        'devtype',
        (c) => (c.linux!.resources = { devices: [{ allow: true, type: 'x' as never, access: 'rwm' }] }),
        /devices(\[0\]|\/0\/)\.?type/,
      ],
      [
        'access',
        (c) => (c.linux!.resources = { devices: [{ allow: true, type: 'c', access: 5 as unknown as string }] }),
        /devices(\[0\]|\/0\/)\.?access/,
      ],
      [
        'dotdot',
        (c) => (c.linux!.cgroupsPath = 'tsrun-test/../../escape'),
        /linux\.cgroupsPath: .* has a "\.\." component/,
      ],
      [
        'systemd',
        (c) => (c.linux!.cgroupsPath = 'system.slice:tsrun:x'),
        /linux\.cgroupsPath: .*systemd form.*needs --systemd-cgroup/,
      ],
      [
        'rt',
        (c) => (c.linux!.resources = { cpu: { realtimeRuntime: 2000, realtimePeriod: 1000 } }),
        /linux\.resources\.cpu\.realtimeRuntime/,
      ],
    ];
    for (const [name, mutate, pattern] of cases) {
      const id = uniqueId(`bad-${name}`);
      const c = testConfig(id, ['true']);
      mutate(c);
      const r = env.run(['create', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
      t.equal(r.code, 1, `${name}: exit 1`);
      t.match(r.stderr, pattern, `${name}: ${r.stderr.trim()}`);
      t.notOk(existsSync(join(env.root, id)), `${name}: no state dir`);
      t.same(cgroupDirsOf(testCgroupPath(id)), [], `${name}: no cgroup`);
    }
    t.same(cgroupDirsOf('escape'), [], 'nothing made outside the tree');
    env.done();
  });
}
