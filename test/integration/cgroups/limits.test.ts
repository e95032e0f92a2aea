import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCgroup, statsToJson, type CgroupManager } from '../../../src/cgroups/index';
import { gatedShell, leftovers, mb, procStatus, SETTLE_MS, testName } from '../../helpers/cgroups';
import { isRoot } from '../../helpers/root';
import { sleep, waitFor } from '../../helpers/wait';
import { skipBecause } from '../../helpers/skip';

if (!isRoot) {
  skipBecause(t, 'needs root to create cgroups');
} else {
  const made: CgroupManager[] = [];
  const make = (tag: string, resources: object) => {
    const cg = createCgroup({ id: 'x', cgroupsPath: testName(tag), systemd: false, resources });
    made.push(cg);
    return cg;
  };
  t.teardown(() => {
    for (const cg of made) cg.destroy(true);
  });

  t.test('memory limit: an allocating child is OOM-killed and the watcher fires', async (t) => {
    const cg = make('oom', { memory: { limit: mb(32), swap: mb(32) } });
    const sh = gatedShell('head -c 300000000 /dev/zero | /usr/bin/tail; echo "tail=$?"');
    cg.apply(sh.child.pid!);
    const mem = cg.saved.v1.memory;
    t.equal(readFileSync(join(mem, 'memory.limit_in_bytes'), 'utf8').trim(), String(mb(32)));
    t.equal(readFileSync(join(mem, 'memory.memsw.limit_in_bytes'), 'utf8').trim(), String(mb(32)));
    let ooms = 0;
    const stop = cg.watchOom(() => ooms++);
    sh.go();
    await sh.exited;
    t.ok(await waitFor(() => ooms > 0, { timeoutMs: SETTLE_MS }), 'the OOM watcher fired');
    stop();
    t.match(readFileSync(join(mem, 'memory.oom_control'), 'utf8'), /oom_kill [1-9]/, 'the kernel counted an OOM kill');
    t.match(sh.output(), /tail=137/, 'tail died of SIGKILL');
    // memory.failcnt stays 0 on this kernel; the high-water mark shows the limit was reached.
    const stats = cg.stats() as { memory: { usage: { max: number; limit: number } } };
    t.ok(stats.memory.usage.max >= mb(30), `max usage reached the limit (${stats.memory.usage.max})`);
    t.equal(stats.memory.usage.limit, mb(32));
    cg.destroy(true);
    t.same(leftovers(cg), []);
  });

  t.test('pids.limit stops a fork bomb at the limit', async (t) => {
    const cg = make('pids', { pids: { limit: 8 } });
    const sh = gatedShell('for i in $(seq 1 40); do /bin/sleep 60 & done 2>/dev/null; sleep 60');
    cg.apply(sh.child.pid!);
    sh.go();
    await waitFor(() => cg.pids().length >= 8, { timeoutMs: SETTLE_MS });
    await sleep(300);
    const n = cg.pids().length;
    t.ok(n <= 8 && n >= 6, `at most 8 processes inside (${n})`);
    t.match(readFileSync(join(cg.saved.v1.pids, 'pids.events'), 'utf8'), /max [1-9]/, 'forks were refused');
    const stats = cg.stats() as { pids: { current: number; limit: number } };
    t.equal(stats.pids.limit, 8);
    t.ok(stats.pids.current <= 8);
    cg.destroy(true);
    t.same(leftovers(cg), []);
  });

  t.test('a cpu quota throttles a busy loop', async (t) => {
    const cg = make('cpu', { cpu: { quota: 10000, period: 100000, shares: 512 } });
    const sh = gatedShell('while :; do :; done');
    cg.apply(sh.child.pid!);
    sh.go();
    await sleep(600);
    const stat = readFileSync(join(cg.saved.v1.cpu, 'cpu.stat'), 'utf8');
    t.match(stat, /nr_throttled [1-9]/, 'nr_throttled grows');
    const stats = cg.stats() as {
      cpu: { usage: { total: number; percpu: number[] }; throttling: { throttledPeriods: number; periods: number } };
    };
    t.ok(stats.cpu.throttling.throttledPeriods > 0);
    t.ok(stats.cpu.usage.total > 0);
    t.ok(stats.cpu.usage.total < 0.3e9, `10% quota keeps usage low over 0.6 s (${stats.cpu.usage.total} ns)`);
    t.equal(readFileSync(join(cg.saved.v1.cpu, 'cpu.shares'), 'utf8').trim(), '512');
    cg.destroy(true);
  });

  t.test('cpuset pins the process', async (t) => {
    const cg = make('cpuset', { cpu: { cpus: '0', mems: '0' } });
    const sh = gatedShell('sleep 60');
    cg.apply(sh.child.pid!);
    t.equal(procStatus(sh.child.pid!, 'Cpus_allowed_list'), '0');
    cg.set({ cpu: { cpus: '1' } });
    t.equal(procStatus(sh.child.pid!, 'Cpus_allowed_list'), '1', 'an update moves it');
    cg.destroy(true);
    t.same(leftovers(cg), []);
  });

  t.test('update changes a live limit; a rejected update leaves the old values', async (t) => {
    const cg = make('update', { memory: { limit: mb(64) }, pids: { limit: 50 } });
    const sh = gatedShell('x=$(head -c 4000000 /dev/zero | tr "\\0" a); echo ready; sleep 60');
    cg.apply(sh.child.pid!);
    sh.go();
    await waitFor(() => sh.output().includes('ready'), { timeoutMs: SETTLE_MS });
    const mem = cg.saved.v1.memory;
    const limit = () => readFileSync(join(mem, 'memory.limit_in_bytes'), 'utf8').trim();
    const pidsMax = () => readFileSync(join(cg.saved.v1.pids, 'pids.max'), 'utf8').trim();
    cg.set({ memory: { limit: mb(128) } });
    t.equal(limit(), String(mb(128)), 'raised');
    t.equal(cg.saved.resources?.memory?.limit, mb(128), 'saved resources follow');
    t.throws(() => cg.set({ memory: { limit: mb(256), swap: mb(100) } }), /linux\.resources\.memory\.swap/);
    t.equal(limit(), String(mb(128)), 'invalid update: nothing written');
    // Valid JSON, but the kernel rejects CPU 99: the writes before it are rolled back.
    t.throws(() => cg.set({ memory: { limit: mb(48) }, pids: { limit: 20 }, cpu: { cpus: '99' } }), /cpuset\.cpus/);
    t.equal(limit(), String(mb(128)), 'memory limit rolled back');
    t.equal(pidsMax(), '50', 'pids limit rolled back');
    t.throws(() => cg.set({ memory: { limit: mb(1), checkBeforeUpdate: true } }), /checkBeforeUpdate/);
    t.equal(limit(), String(mb(128)));
    cg.set({ memory: { limit: -1 } });
    t.match(limit(), /^9223372036854/, 'unlimited');
    cg.destroy(true);
  });

  t.test("stats has runc's layout", async (t) => {
    const cg = make('stats', { memory: { limit: mb(64) }, pids: { limit: 20 } });
    const sh = gatedShell('x=$(head -c 1000000 /dev/zero | tr "\\0" a); echo ready; sleep 60');
    cg.apply(sh.child.pid!);
    sh.go();
    await waitFor(() => sh.output().includes('ready'), { timeoutMs: SETTLE_MS });
    const s = cg.stats() as Record<string, any>;
    t.same(
      Object.keys(s).sort(),
      ['blkio', 'cpu', 'cpuset', 'hugetlb', 'intel_rdt', 'memory', 'network_interfaces', 'pids'].sort(),
    );
    t.ok('kernel' in s.cpu.usage && 'user' in s.cpu.usage && 'throttling' in s.cpu);
    for (const k of ['usage', 'swap', 'kernel', 'kernelTCP'])
      t.ok('limit' in s.memory[k] && 'failcnt' in s.memory[k], `memory.${k}`);
    t.ok(s.memory.usage.usage > 0);
    t.equal(typeof s.memory.raw.total_rss, 'number');
    t.ok(s.pids.current >= 1);
    t.ok(Array.isArray(s.cpuset.cpus));
    const json = statsToJson(s);
    t.match(json, /"limit":9223372036854771712/, 'exact 64-bit values in JSON');
    t.same(JSON.parse(json).pids, { current: s.pids.current, limit: 20 });
    cg.destroy(true);
  });
}
