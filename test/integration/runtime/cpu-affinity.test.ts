// CPU affinity, scheduler and I/O priority of new processes (issue 18, item
// 11), through bin/tsrun started under `taskset` so that the caller's
// affinity is narrower than the container's cpuset:
//  - neither the init nor exec's process inherits the caller's affinity
//    (runc 1.2.7+/1.4: reset to every CPU, which the kernel clamps to the cpuset);
//  - process.execCPUAffinity is exec's only (config.md 1.3: "not applicable
//    to the container's init process"): `initial` before the process joins
//    the cgroup, `final` after; process.json's, else config.json's (runc);
//  - exec honours process.scheduler and process.ioPriority as the init does;
//  - bad lists fail exec with 255, naming the JSON path, leaving nothing.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testEnv, testConfig, uniqueId, parseState, type Env } from '../../helpers/harness';
import { cgroupCpus, onlineCpus, underTaskset } from '../../helpers/cpus';
import { hasRunc } from '../../helpers/runc';
import { skipBecause } from '../../helpers/skip';
import type { Process, Spec } from '../../../src/spec/types';

const allowed = (text: string) => /^Cpus_allowed_list:\s*(\S+)$/m.exec(text)?.[1];
const PROBE = ['sh', '-c', 'grep Cpus_allowed_list /proc/self/status'];

/** A detached container (sleep) started by a caller pinned to `callerCpus`; its id and init pid. */
function running(env: Env, callerCpus: string, config?: Spec): { id: string; pid: number } {
  const id = uniqueId('aff');
  const c = config ?? testConfig(id, ['sleep', '300']);
  c.linux!.cgroupsPath = testConfig(id, []).linux!.cgroupsPath;
  const r = underTaskset(callerCpus, env.root, ['run', '-d', '-b', env.bundle(c), id], {
    output: join(env.dir, `${id}.out`),
  });
  if (r.code !== 0) throw new Error(`run -d: ${r.stderr}`);
  return { id, pid: parseState(env.run(['state', id])).pid as number };
}

/** A process.json for exec: the probe, PATH, and `extra`. */
function processFile(env: Env, extra: Partial<Process>, args = PROBE): string {
  const file = join(env.dir, `process-${uniqueId('p')}.json`);
  writeFileSync(file, JSON.stringify({ args, cwd: '/', env: ['PATH=/bin:/usr/bin:/sbin'], ...extra }));
  return file;
}

/** The container's processes (host pids), from its cgroup.procs via `tsrun ps`. */
function psCount(env: Env, id: string): number {
  return (JSON.parse(env.run(['ps', '--format', 'json', id]).stdout) as number[]).length;
}

const cpus = onlineCpus();
if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else if (cpus.length < 2) {
  t.plan(0, 'needs 2 CPUs to narrow the caller');
} else {
  const [first, second] = cpus.map(String);
  const all = cgroupCpus();

  t.test("the init and exec's process do not inherit the caller's affinity (runc 1.4)", async (t) => {
    const env = testEnv(t);
    const { id, pid } = running(env, second);
    t.equal(allowed(readFileSync(`/proc/${pid}/status`, 'utf8')), all, `init: ${all}, not the caller's ${second}`);
    const r = underTaskset(second, env.root, ['exec', id, ...PROBE]);
    t.equal(r.code, 0, r.stderr);
    t.equal(allowed(r.stdout), all, "exec'd process: what its cgroup allows, from inside");
    const init = underTaskset(second, env.root, ['exec', id, 'grep', 'Cpus_allowed_list', '/proc/1/status']);
    t.equal(allowed(init.stdout), all, 'the init, seen from inside');
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });

  t.test(
    "runc 1.1.5 beside it, on the same bundle (it inherits the caller's affinity: fixed in runc 1.2.7)",
    async (t) => {
      if (!hasRunc) return skipBecause(t, 'runc is not installed');
      const env = testEnv(t);
      const id = uniqueId('affrunc');
      const c = testConfig(id, PROBE);
      const runcRoot = join(env.dir, 'runc-state');
      const out = join(env.dir, 'runc.out');
      const r = underTaskset(second, runcRoot, ['run', '-b', env.bundle(c), id], { binary: 'runc', output: out });
      t.equal(r.code, 0, r.stdout);
      t.comment(`runc 1.1.5 under taskset -c ${second}: ${allowed(r.stdout)} (tsrun, as runc 1.2.7+: ${all})`);
      underTaskset(second, runcRoot, ['delete', '--force', id], { binary: 'runc' });
      env.done();
    },
  );

  t.test("execCPUAffinity is not applied to the init, and exec gets config.json's", async (t) => {
    const env = testEnv(t);
    const c = testConfig('x', ['sleep', '300']);
    c.process!.execCPUAffinity = { initial: first, final: first };
    const { id, pid } = running(env, second, c);
    t.equal(allowed(readFileSync(`/proc/${pid}/status`, 'utf8')), all, 'the init: not pinned');
    const r = underTaskset(second, env.root, ['exec', id, ...PROBE]);
    t.equal(r.code, 0, r.stderr);
    t.equal(allowed(r.stdout), first, "exec without --process: the container's process.execCPUAffinity.final");
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });

  t.test('initial: the process starts on those CPUs, before it joins the cgroup; final after', async (t) => {
    const env = testEnv(t);
    const { id } = running(env, first);
    // initial alone: config.md says the runtime then leaves the affinity alone, so the process
    // still runs where it was started (the kernel keeps a requested mask across a cpuset move).
    const log = join(env.dir, 'initial.log');
    const only = processFile(env, { execCPUAffinity: { initial: second } });
    const a = underTaskset(first, env.root, ['--log', log, '--debug', 'exec', '-p', only, id]);
    t.equal(a.code, 0, a.stderr);
    t.equal(allowed(a.stdout), second, `initial ${second} alone: the process runs on it (caller on ${first})`);
    const lines = readFileSync(log, 'utf8');
    const set = lines.indexOf(`exec: CPU affinity ${second} (initial, before the cgroup)`);
    const started = lines.indexOf('exec: process started');
    t.ok(set >= 0 && started > set, 'set on the cloning thread before the child existed (so before its cgroup)');
    // Both: final replaces it once the process is in the cgroup.
    const log2 = join(env.dir, 'final.log');
    const both = processFile(env, { execCPUAffinity: { initial: second, final: first } });
    const b = underTaskset(second, env.root, ['--log', log2, '--debug', 'exec', '-p', both, id]);
    t.equal(b.code, 0, b.stderr);
    t.equal(allowed(b.stdout), first, 'final, seen from inside');
    const l2 = readFileSync(log2, 'utf8');
    const order = ['(initial, before the cgroup)', 'exec: process started', '(final, in the cgroup)'].map((s) =>
      l2.indexOf(s),
    );
    t.ok(order[0] >= 0 && order[0] < order[1] && order[1] < order[2], `initial, then the child, then final: ${order}`);
    // Neither: reset like every new process, not the caller's.
    const none = underTaskset(first, env.root, ['exec', '-p', processFile(env, {}), id]);
    t.equal(allowed(none.stdout), all, 'no execCPUAffinity: what the cgroup allows');
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });

  t.test('exec honours process.scheduler and process.ioPriority (process.json, else config.json)', async (t) => {
    const env = testEnv(t);
    const c = testConfig('x', ['sleep', '300']);
    c.process!.scheduler = { policy: 'SCHED_BATCH', nice: 5 };
    c.process!.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 0 };
    const { id } = running(env, first, c);
    const probe = 'grep -E "^policy" /proc/self/sched; cut -d" " -f19 /proc/self/stat; ionice';
    const fromConfig = env.run(['exec', id, 'sh', '-c', probe]);
    t.equal(fromConfig.code, 0, fromConfig.stderr);
    t.match(fromConfig.stdout, /^policy\s+:\s+3$/m, "config.json's SCHED_BATCH");
    t.match(fromConfig.stdout, /^5$/m, "config.json's nice 5");
    t.match(fromConfig.stdout, /^idle$/m, "config.json's IOPRIO_CLASS_IDLE");
    const own = processFile(
      env,
      { scheduler: { policy: 'SCHED_IDLE' }, ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 6 } },
      ['sh', '-c', probe],
    );
    const fromFile = env.run(['exec', '-p', own, id]);
    t.equal(fromFile.code, 0, fromFile.stderr);
    t.match(fromFile.stdout, /^policy\s+:\s+5$/m, "process.json's SCHED_IDLE");
    t.match(fromFile.stdout, /^best-effort: prio 6$/m, "process.json's IOPRIO_CLASS_BE 6");
    // process.json without them: the container's (runc's exec does the same).
    const bare = env.run(['exec', '-p', processFile(env, {}, ['sh', '-c', probe]), id]);
    t.match(bare.stdout, /^policy\s+:\s+3$/m, "process.json without a scheduler: config.json's");
    t.match(bare.stdout, /^idle$/m, "process.json without ioPriority: config.json's");
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });

  t.test('bad execCPUAffinity or scheduler: exec fails with 255, names the JSON path, leaves nothing', async (t) => {
    const env = testEnv(t);
    const { id } = running(env, first);
    const before = psCount(env, id);
    const cases: [Partial<Process>, RegExp][] = [
      [
        { execCPUAffinity: { final: '1000' } },
        /: \/execCPUAffinity\/final "1000": no CPU of the list is online and allowed/,
      ],
      [
        { execCPUAffinity: { initial: '999' } },
        /: \/execCPUAffinity\/initial "999": no CPU of the list is online and allowed/,
      ],
      [{ execCPUAffinity: { initial: '3-1' } }, /: \/execCPUAffinity\/initial: invalid CPU range "3-1"/],
      [{ execCPUAffinity: { final: '0-2000' } }, /: \/execCPUAffinity\/final: invalid CPU range "0-2000"/],
      [{ execCPUAffinity: { final: '0-x' } }, /: \/execCPUAffinity\/final: must match pattern/],
      // The checks config.json's process gets at create, for exec's process.json.
      [{ scheduler: { policy: 'SCHED_OTHER', nice: 30 } }, /: \/scheduler\/nice: 30 is outside -20..19/],
    ];
    for (const [extra, want] of cases) {
      const file = processFile(env, extra);
      const r = env.run(['exec', '-p', file, id]);
      t.equal(r.code, 255, `${JSON.stringify(extra)}: exit 255`);
      t.match(r.stderr, want, `${JSON.stringify(extra)}: ${r.stderr.trim()}`);
      t.ok(r.stderr.includes(file), 'names the process file');
      t.equal(psCount(env, id), before, 'no process left in the container');
    }
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });
}
