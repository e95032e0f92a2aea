import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createCgroup, loadCgroup, type CgroupManager } from '../../../src/cgroups/index';
import { reduceDeviceRules } from '../../../src/cgroups/device-rules';
import { attachDeviceFilter, attachedDeviceFilters } from '../../../src/cgroups/device-filter';
import { ownCgroups, hostLayout, dirOf } from '../../../src/cgroups/layout';
import { gatedShell, leftovers, procStatus, SETTLE_MS, testName } from '../../helpers/cgroups';
import { isRoot } from '../../helpers/root';
import { sleep, waitFor } from '../../helpers/wait';
import { skipBecause } from '../../helpers/skip';

if (!isRoot) {
  skipBecause(t, 'needs root to create cgroups');
} else {
  const made: CgroupManager[] = [];
  const make = (tag: string, resources: object = {}) => {
    const cg = createCgroup({ id: 'x', cgroupsPath: testName(tag), systemd: false, resources: resources as never });
    made.push(cg);
    return cg;
  };
  t.teardown(() => {
    for (const cg of made) cg.destroy(true);
  });

  t.test('apply joins every hierarchy, including name=systemd and the v2 tree', async (t) => {
    const cg = make('join');
    const sh = gatedShell('sleep 60');
    cg.apply(sh.child.pid!);
    const where = ownCgroups(sh.child.pid!);
    const layout = hostLayout();
    for (const h of layout.v1) t.equal(dirOf(h, where.get(h.key)!), cg.saved.v1[h.key], `in ${h.key}`);
    if (layout.unified) t.equal(dirOf(layout.unified, where.get('')!), cg.saved.unified, 'in the v2 tree');
    const again = loadCgroup(JSON.parse(JSON.stringify(cg.saved)));
    t.same(again.pids(), [sh.child.pid], 'a manager loaded from the saved JSON sees the process');
    again.destroy(true);
    t.same(leftovers(cg), []);
  });

  t.test('freeze and thaw change the process state', async (t) => {
    const cg = make('freeze');
    const sh = gatedShell('while :; do :; done');
    cg.apply(sh.child.pid!);
    sh.go();
    const pid = sh.child.pid!;
    t.ok(await waitFor(() => /^R/.test(procStatus(pid, 'State') ?? ''), { timeoutMs: SETTLE_MS }), 'running');
    t.equal(cg.isFrozen(), false);
    cg.freeze();
    t.equal(cg.isFrozen(), true);
    await sleep(100);
    t.notMatch(procStatus(pid, 'State') ?? '', /^R/, `frozen: ${procStatus(pid, 'State')}`);
    cg.thaw();
    t.equal(cg.isFrozen(), false);
    t.ok(await waitFor(() => /^R/.test(procStatus(pid, 'State') ?? ''), { timeoutMs: SETTLE_MS }), 'running again');
    cg.destroy(true);
  });

  const forkLoop = 'while :; do /bin/sleep 30 & done';

  t.test('signalAll without cgroup.kill: freeze, signal, thaw — a fork loop cannot escape', async (t) => {
    const cg = make('killv1', { pids: { limit: 300 } });
    const sh = gatedShell(forkLoop);
    cg.apply(sh.child.pid!);
    sh.go();
    await waitFor(() => cg.pids().length > 20, { timeoutMs: SETTLE_MS });
    cg.signalAll(15); // not SIGKILL: takes the freezer path
    t.ok(
      await waitFor(() => cg.pids().length === 0, { timeoutMs: SETTLE_MS }),
      `every process gone (${cg.pids().length} left)`,
    );
    t.equal(cg.isFrozen(), false, 'thawed afterwards');
    cg.destroy();
    t.same(leftovers(cg), []);
  });

  t.test('signalAll(SIGKILL) with cgroup.kill on the v2 tree', async (t) => {
    const cg = make('killv2', { pids: { limit: 300 } });
    const sh = gatedShell(forkLoop);
    cg.apply(sh.child.pid!);
    sh.go();
    await waitFor(() => cg.pids().length > 20, { timeoutMs: SETTLE_MS });
    if (!cg.saved.unified || !existsSync(join(cg.saved.unified, 'cgroup.kill')))
      t.comment('no cgroup.kill here: freezer path');
    cg.signalAll(9);
    t.ok(await waitFor(() => cg.pids().length === 0, { timeoutMs: SETTLE_MS }), 'every process gone');
    cg.destroy();
    t.same(leftovers(cg), []);
  });

  t.test('destroy: retries, refuses while busy, forced kills and removes everything', async (t) => {
    const cg = make('destroy');
    const sh = gatedShell('sleep 60 & sleep 60');
    cg.apply(sh.child.pid!);
    sh.go();
    await waitFor(() => cg.pids().length === 3, { timeoutMs: SETTLE_MS });
    // A child cgroup made inside the container's cgroup goes too.
    const nested = join(cg.saved.v1.memory, 'nested');
    mkdirSync(nested);
    t.throws(() => cg.destroy(), /EBUSY/, 'not forced: refuses while processes are inside');
    t.ok(cg.exists());
    cg.destroy(true);
    t.same(leftovers(cg), [], 'nothing left in any hierarchy');
    t.notOk(cg.exists());
    await sh.exited;
    t.doesNotThrow(() => cg.destroy(true), 'destroy is idempotent');
    t.same(leftovers(cg), [], 'still nothing left after a second destroy');
  });

  const devTest = () =>
    gatedShell(
      `head -c1 /dev/zero >/dev/null 2>&1 && echo zero-ok || echo zero-denied; head -c1 /dev/null && echo null-ok || echo null-denied`,
    );

  t.test("v1 devices rules deny opening a denied device node; runc's defaults follow", async (t) => {
    // Major 42 is the kernel's "demo" number with no driver: an allowed open fails with ENXIO, a denied one with EPERM.
    const nodes = mkdtempSync(join(tmpdir(), 'tsrun-devnodes-'));
    t.teardown(() => rmSync(nodes, { recursive: true, force: true }));
    spawnSync('mknod', [join(nodes, 'd0'), 'c', '42', '0']);
    spawnSync('mknod', [join(nodes, 'd1'), 'c', '42', '1']);
    const cg = make('dev1', {
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 42, minor: 1, access: 'rw' },
      ],
    });
    if (!cg.saved.v1.devices) return skipBecause(t, 'no v1 devices controller on this host');
    const sh = gatedShell(`cat ${nodes}/d0; cat ${nodes}/d1; head -c1 /dev/null && echo null-ok`);
    cg.apply(sh.child.pid!);
    const list = readFileSync(join(cg.saved.v1.devices, 'devices.list'), 'utf8').trim().split('\n');
    t.ok(list.includes('c 42:1 rw'), "the container's rule");
    t.ok(
      list.includes('c 1:3 rwm') && list.includes('c 136:* rwm'),
      "runc's default rules (null, ptys …) come after it",
    );
    t.notOk(list.includes('a *:* rwm'), 'no allow-all');
    sh.go();
    await sh.exited;
    t.match(sh.output(), /d0'?: Operation not permitted/);
    t.match(sh.output(), /d1'?: No such device or address/);
    t.match(sh.output(), /null-ok/);
    cg.destroy(true);
  });

  t.test('v2 BPF device filter on the unified hierarchy', async (t) => {
    const layout = hostLayout();
    if (!layout.unified) return skipBecause(t, 'no cgroup2 mount on this host');
    const dir = join(dirOf(layout.unified, ownCgroups().get('')!), testName('bpf'));
    mkdirSync(dir);
    t.teardown(() => spawnSync('rmdir', [dir]));
    const rules = [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c' as const, major: 1, minor: 3, access: 'rw' },
    ];
    attachDeviceFilter(dir, reduceDeviceRules(rules));
    const first = attachedDeviceFilters(dir);
    t.equal(first.length, 1, 'one program attached');
    attachDeviceFilter(dir, reduceDeviceRules(rules));
    const second = attachedDeviceFilters(dir);
    t.equal(second.length, 1, 'an update replaces it');
    t.not(second[0], first[0]);
    const sh = devTest();
    writeFileSync(join(dir, 'cgroup.procs'), String(sh.child.pid));
    sh.go();
    await sh.exited;
    t.match(sh.output(), /zero-denied/);
    t.match(sh.output(), /null-ok/);
    // The same rules with /dev/zero allowed too.
    attachDeviceFilter(dir, reduceDeviceRules([...rules, { allow: true, type: 'c', major: 1, minor: 5, access: 'r' }]));
    const sh2 = devTest();
    writeFileSync(join(dir, 'cgroup.procs'), String(sh2.child.pid));
    sh2.go();
    await sh2.exited;
    t.match(sh2.output(), /zero-ok/);
  });
}
