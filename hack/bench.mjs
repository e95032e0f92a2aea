#!/usr/bin/env node
// Benchmark two OCI runtimes on the same busybox bundle, alternating runs.
//
//   node hack/bench.mjs [--runs N] [--runtime-a PATH|NAME] [--runtime-b PATH|NAME] [--no-cold]
//   node hack/bench.mjs --phases [--runs N] [--runtime-a PATH]
//
// Defaults: A = bin/tsrun of this repo, B = runc. Prints a markdown table of
// medians and the ratio A/B. --phases: tsrun's own phase marks
// (TSRUN_PHASES, src/log/phase.ts) over N lifecycles, and Bun's floor.
// Not a test: it only measures (docs/benchmark.md).
import { spawn, spawnSync } from 'node:child_process';
import { phases } from './bench/phases.mjs';
import { compileCputime, cpuOf } from './bench/cpu.mjs';
import { mean, median } from './bench/stats.mjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const PARALLEL = 20;

function parseArgs(argv) {
  const o = { runs: 10, a: path.join(repo, 'bin/tsrun'), b: 'runc', cold: true, phases: false };
  for (let i = 0; i < argv.length; i++) {
    const next = () => {
      if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
      return argv[++i];
    };
    if (argv[i] === '--runs') o.runs = Number(next());
    else if (argv[i] === '--runtime-a') o.a = next();
    else if (argv[i] === '--runtime-b') o.b = next();
    else if (argv[i] === '--no-cold') o.cold = false;
    else if (argv[i] === '--phases') o.phases = true;
    else if (argv[i] === '-h' || argv[i] === '--help') usage();
    else usage(`unknown argument ${argv[i]}`);
  }
  if (!Number.isInteger(o.runs) || o.runs < 1) usage('--runs must be a positive integer');
  return o;
}
function usage(err) {
  if (err) console.error(`bench: ${err}`);
  console.error(
    'usage: node hack/bench.mjs [--runs N] [--runtime-a PATH|NAME] [--runtime-b PATH|NAME] [--no-cold]\n' +
      '       node hack/bench.mjs --phases [--runs N] [--runtime-a PATH]',
  );
  process.exit(err ? 2 : 0);
}

function resolve(spec) {
  if (spec.includes('/')) return path.resolve(spec);
  for (const d of (process.env.PATH || '').split(':')) {
    const p = path.join(d, spec);
    if (d && fs.existsSync(p)) return p;
  }
  throw new Error(`${spec} not found on PATH`);
}

// Every measured command runs without NODE_EXTRA_CA_CERTS (~37 ms per node start here).
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

class Runtime {
  constructor(label, binary, root) {
    Object.assign(this, { label, binary, root, seq: 0 });
    fs.mkdirSync(root, { recursive: true });
  }
  args(a) {
    return ['--root', this.root, ...a];
  }
  /** `a` run to its end; with `cpu`, through the cputime wrapper, whose report `r.cpu` is (ms, user+sys). */
  sync(a, check = true, { cpu, extraEnv } = {}) {
    // create/run hand their stdio to the container: pipes would stay open
    // until the container exits, so those get /dev/null and a stderr file.
    const handsStdio = a[0] === 'create' || a[0] === 'run';
    const errFile = path.join(this.root, '..', `stderr-${this.label}`);
    const errFd = handsStdio ? fs.openSync(errFile, 'w') : null;
    const cpuFile = path.join(this.root, '..', `cpu-${this.label}`);
    const [file, args] = cpu ? [cpu, [cpuFile, this.binary, ...this.args(a)]] : [this.binary, this.args(a)];
    let r;
    try {
      r = spawnSync(file, args, {
        env: extraEnv ? { ...env, ...extraEnv() } : env,
        stdio: handsStdio ? ['ignore', 'ignore', errFd] : ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
        timeout: 60000,
      });
    } finally {
      if (errFd !== null) fs.closeSync(errFd);
    }
    if (check && r.status !== 0) {
      const err = handsStdio ? fs.readFileSync(errFile, 'utf8') : r.stderr;
      throw new Error(
        `${this.label}: ${a.join(' ')} exited ${r.status}${r.error ? ` (${r.error.message})` : ''}: ${err}`,
      );
    }
    if (cpu) r.cpu = cpuOf(cpuFile);
    return r;
  }
  async(a) {
    return new Promise((res, rej) => {
      // stdio 'ignore': the container inherits /dev/null, nothing to wait on.
      const c = spawn(this.binary, this.args(a), { env, stdio: 'ignore' });
      c.on('error', rej);
      c.on('exit', (code) => (code === 0 ? res() : rej(new Error(`${this.label}: ${a.join(' ')} exited ${code}`))));
    });
  }
  id() {
    return `bench-${process.pid}-${this.label}-${++this.seq}`;
  }
  status(id) {
    const r = this.sync(['state', id], false);
    return r.status === 0 ? JSON.parse(r.stdout).status : null;
  }
}

function writeBundle(dir, rootfs, cgroupsPath, args = ['/bin/true']) {
  fs.mkdirSync(dir, { recursive: true });
  const config = {
    ociVersion: '1.2.0',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/bin'],
      cwd: '/',
      capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
      noNewPrivileges: true,
    },
    root: { path: rootfs, readonly: true },
    hostname: 'bench',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      {
        destination: '/dev',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      },
    ],
    linux: {
      // Relative: below the benchmark's own cgroup, never at a hierarchy root.
      cgroupsPath,
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
    },
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const now = () => process.hrtime.bigint();

// CPU time (user + sys) of our waited-for children so far, in ms: fields
// cutime and cstime of /proc/self/stat, in clock ticks (100 per second on
// Linux). Wall time on a shared 2-CPU machine moves with everything else
// running; CPU time is what the runtime itself costs.
const TICK_MS = 10;
function childCpuMs() {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * TICK_MS;
}

/**
 * CPU time (ms) a live process has burnt so far: the first field of each of
 * its threads' /proc/PID/task/TID/schedstat (ns on the CPU). Threads that
 * already exited are not counted (Bun's start-up threads mostly live on).
 */
function taskCpuMs(pid) {
  let ns = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`))
    ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  return ns / 1e6;
}

// --- measurements (each returns one sample) ---

/** Wall time (ms) of one command of `rt`, run to its end. */
function timedSync(rt, args) {
  const t = now();
  rt.sync(args);
  return ms(t);
}

/** One lifecycle, timed as a whole and per command. */
function lifecycle(rt, bundle) {
  const id = rt.id();
  const c0 = childCpuMs();
  const t0 = now();
  const timed = (args) => timedSync(rt, args);
  const create = timed(['create', '--bundle', bundle, id]);
  const start = timed(['start', id]);
  while (rt.status(id) !== 'stopped');
  const del = timed(['delete', id]);
  return { wall: ms(t0), cpu: childCpuMs() - c0, create, start, delete: del };
}

function run(rt, bundle) {
  const id = rt.id();
  const t0 = now();
  rt.sync(['run', '--bundle', bundle, id]);
  return ms(t0);
}

/**
 * VmHWM and VmRSS (kB) of the container init while the container is
 * created, the CPU it burnt until then (all its threads' schedstat, ns
 * precise), and the median of STATE_CALLS `state` calls on it meanwhile.
 */
const STATE_CALLS = 5;
function initMemory(rt, bundle) {
  const id = rt.id();
  rt.sync(['create', '--bundle', bundle, id]);
  try {
    const states = [];
    let pid;
    for (let i = 0; i < STATE_CALLS; i++) {
      const t = now();
      pid = JSON.parse(rt.sync(['state', id]).stdout).pid;
      states.push(ms(t));
    }
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(status.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm'))?.[1]);
    return { hwm: kb('VmHWM'), rss: kb('VmRSS'), anon: kb('RssAnon'), state: median(states), initCpu: taskCpuMs(pid) };
  } finally {
    rt.sync(['delete', '--force', id], false);
  }
}

/**
 * One running container (`run --detach` of a sleep): the median of EXEC_CALLS
 * `exec <id> /bin/true` and of PS_CALLS `ps <id>`, then `kill <id> KILL`,
 * `state` polled until stopped, and `delete` of the stopped container.
 */
const EXEC_CALLS = 5;
const PS_CALLS = 3;
function running(rt, bundle) {
  const id = rt.id();
  rt.sync(['run', '--detach', '--bundle', bundle, id]);
  let deleted = false;
  try {
    const timed = (args) => timedSync(rt, args);
    const exec = median(Array.from({ length: EXEC_CALLS }, () => timed(['exec', id, '/bin/true'])));
    const ps = median(Array.from({ length: PS_CALLS }, () => timed(['ps', id])));
    const kill = timed(['kill', id, 'KILL']);
    while (rt.status(id) !== 'stopped');
    const del = timed(['delete', id]);
    deleted = true;
    return { exec, ps, kill, deleteKilled: del };
  } finally {
    if (!deleted) rt.sync(['delete', '--force', id], false);
  }
}

/**
 * The CPU time (ms, user+sys) of each command of a lifecycle that is killed
 * (a sleep: create, start, state, kill KILL, delete), each run through the
 * cputime wrapper (wait4's rusage, µs). The `state` polls until stopped are
 * not counted; the one `state` on the running container is.
 */
function cpuLifecycle(rt, bundle, wrapper) {
  const id = rt.id();
  const cpu = (args) => rt.sync(args, true, { cpu: wrapper }).cpu;
  let deleted = false;
  try {
    const out = { create: cpu(['create', '--bundle', bundle, id]), start: cpu(['start', id]) };
    out.state = cpu(['state', id]);
    out.kill = cpu(['kill', id, 'KILL']);
    while (rt.status(id) !== 'stopped');
    out.delete = cpu(['delete', id]);
    deleted = true;
    return out;
  } finally {
    if (!deleted) rt.sync(['delete', '--force', id], false);
  }
}

/** Whether the page cache can be dropped here (root, a writable /proc/sys). */
function canDropCaches() {
  try {
    fs.accessSync('/proc/sys/vm/drop_caches', fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** A lifecycle right after the page cache is dropped: the runtime's executable and libraries come from disk. */
function coldLifecycle(rt, bundle) {
  spawnSync('sync');
  fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
  return lifecycle(rt, bundle);
}

async function parallelCreate(rt, bundles) {
  const ids = bundles.map(() => rt.id());
  const t0 = now();
  try {
    await Promise.all(bundles.map((b, i) => rt.async(['create', '--bundle', b, ids[i]])));
    return ms(t0);
  } finally {
    for (const id of ids) rt.sync(['delete', '--force', id], false);
  }
}

/** The rootfs, both runtimes and their bundles under `base`. */
function setUp(o, base) {
  const rootfs = path.join(base, 'rootfs');
  const mk = spawnSync(path.join(repo, 'hack/mkrootfs.sh'), [rootfs], { encoding: 'utf8' });
  if (mk.status !== 0) throw new Error(`hack/mkrootfs.sh: ${mk.stderr}`);
  const tag = `tsrun-bench-${process.pid}`;
  const rts = [
    new Runtime('a', resolve(o.a), path.join(base, 'state-a')),
    new Runtime('b', resolve(o.b), path.join(base, 'state-b')),
  ];
  const bundles = {};
  for (const rt of rts) {
    const bundle = (name, args) =>
      writeBundle(path.join(base, `${rt.label}-${name}`), rootfs, `${tag}-${rt.label}-${name}`, args);
    bundles[rt.label] = {
      seq: bundle('seq'),
      sleeper: bundle('sleeper', ['/bin/sleep', '1000']),
      par: Array.from({ length: PARALLEL }, (_, i) => bundle(`par-${i}`)),
    };
  }
  return { rootfs, rts, bundles };
}

/** One round of every measurement for one runtime, pushed onto its samples `s`. */
async function measure(rt, b, s, wrapper) {
  const l = lifecycle(rt, b.seq);
  s.lifecycle.push(l.wall);
  s.lifecycleCpu.push(l.cpu);
  for (const k of ['create', 'start', 'delete']) s[k].push(l[k]);
  const c = cpuLifecycle(rt, b.sleeper, wrapper);
  for (const k of CPU_COMMANDS) s[`cpu-${k}`].push(c[k]);
  s['cpu-sum'].push(CPU_COMMANDS.reduce((sum, k) => sum + c[k], 0));
  s.run.push(run(rt, b.seq));
  const r = running(rt, b.sleeper);
  for (const k of ['exec', 'ps', 'kill', 'deleteKilled']) s[k].push(r[k]);
  const m = initMemory(rt, b.seq);
  for (const k of ['hwm', 'rss', 'anon', 'state', 'initCpu']) s[k].push(m[k]);
  s.parallel.push(await parallelCreate(rt, b.par));
}

const CPU_COMMANDS = ['create', 'start', 'state', 'kill', 'delete'];
const ROWS = [
  ['lifecycle of /bin/true (create, start, state until stopped, delete)', 'lifecycle', 'ms'],
  ["CPU time (user+sys) of the lifecycle's commands, mean", 'lifecycleCpu', 'ms', 'mean'],
  ['… of which `create`', 'create', 'ms'],
  ['… of which `start`', 'start', 'ms'],
  ['… of which `delete` (of the stopped container)', 'delete', 'ms'],
  ['lifecycle of /bin/true with a cold page cache (dropped just before)', 'cold', 'ms'],
  ['… its CPU time (user+sys), mean', 'coldCpu', 'ms', 'mean'],
  ['CPU time (user+sys) per command (wait4, µs): `create`', 'cpu-create', 'ms'],
  ['… `start`', 'cpu-start', 'ms'],
  ['… `state` (of the running container)', 'cpu-state', 'ms'],
  ['… `kill <id> KILL`', 'cpu-kill', 'ms'],
  ['… `delete` (of the killed container)', 'cpu-delete', 'ms'],
  ['… the five together', 'cpu-sum', 'ms'],
  ['CPU time of the container init until `created` (schedstat, its live threads)', 'initCpu', 'ms'],
  ['`state` of a created container', 'state', 'ms'],
  ['`run` of /bin/true', 'run', 'ms'],
  ['`exec <id> /bin/true` into a running container', 'exec', 'ms'],
  ['`ps <id>` of a running container', 'ps', 'ms'],
  ['`kill <id> KILL` of a running container', 'kill', 'ms'],
  ['`delete` of the killed (stopped) container', 'deleteKilled', 'ms'],
  ['container init VmHWM while created', 'hwm', 'kB'],
  ['container init VmRSS while created', 'rss', 'kB'],
  ['container init RssAnon (private memory) while created', 'anon', 'kB'],
  [`${PARALLEL} containers created in parallel`, 'parallel', 'ms'],
];

const fmt = (v, unit) =>
  unit === 'ms' ? `${v.toFixed(1)} ms` : unit === 'MB' ? `${v.toFixed(1)} MB` : `${Math.round(v)} kB`;

function printTable(o, rts, samples) {
  const version = (rt) => rt.sync(['--version'], false).stdout.split('\n')[0].trim() || path.basename(rt.binary);
  const [a, b] = rts;
  console.log(`A = ${a.binary} (${version(a)})`);
  console.log(`B = ${b.binary} (${version(b)})`);
  console.log(
    `${o.runs} alternating runs, medians (CPU time from ticks: mean); ${os.cpus().length} CPUs, ${os.release()}, ` +
      `load average ${os.loadavg()[0].toFixed(1)} at the end\n`,
  );
  console.log('| measurement | A | B | A/B |');
  console.log('|---|---:|---:|---:|');
  for (const [name, key, unit, stat] of ROWS) {
    if (!samples.a[key].length) continue; // --no-cold, or no drop_caches here
    // Tick-granular CPU times are averaged; everything else is a median.
    const agg = stat === 'mean' ? mean : median;
    const ma = agg(samples.a[key]);
    const mb = agg(samples.b[key]);
    console.log(`| ${name} | ${fmt(ma, unit)} | ${fmt(mb, unit)} | ${(ma / mb).toFixed(2)} |`);
  }
  const size = (rt) => fs.statSync(rt.binary).size / 1e6;
  console.log(
    `| executable size | ${fmt(size(a), 'MB')} | ${fmt(size(b), 'MB')} | ${(size(a) / size(b)).toFixed(2)} |`,
  );
}

/** Both runtimes' cold lifecycles, each after its own drop, then both warmed again (unmeasured). */
function coldRound(order, bundles, samples) {
  for (const rt of order) {
    const l = coldLifecycle(rt, bundles[rt.label].seq);
    samples[rt.label].cold.push(l.wall);
    samples[rt.label].coldCpu.push(l.cpu);
  }
  for (const rt of order) lifecycle(rt, bundles[rt.label].seq);
}

async function compare(o, base) {
  const { rts, bundles } = setUp(o, base);
  const wrapper = compileCputime(base);
  const keys = ROWS.map((r) => r[1]);
  const samples = Object.fromEntries(rts.map((rt) => [rt.label, Object.fromEntries(keys.map((k) => [k, []]))]));
  const cold = o.cold && canDropCaches();
  if (o.cold && !cold) console.error('bench: /proc/sys/vm/drop_caches is not writable: no cold-cache row');

  // Warm up page cache and binaries once, unmeasured.
  for (const rt of rts) lifecycle(rt, bundles[rt.label].seq);

  for (let i = 0; i < o.runs; i++) {
    // Alternate which runtime goes first so drift hits both equally.
    const order = i % 2 ? [...rts].reverse() : rts;
    for (const rt of order) await measure(rt, bundles[rt.label], samples[rt.label], wrapper);
    if (cold) coldRound(order, bundles, samples);
    process.stderr.write(`run ${i + 1}/${o.runs}\r`);
  }
  process.stderr.write('\n');
  printTable(o, rts, samples);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (process.getuid() !== 0) usage('must run as root');
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-bench-'));
  fs.chmodSync(base, 0o755);
  try {
    if (o.phases) {
      const { rts, bundles } = setUp(o, base);
      await phases({ runs: o.runs, rt: rts[0], bundle: bundles.a.seq, base, repo });
    } else await compare(o, base);
  } finally {
    // Anything a failed measurement left behind (its cgroups too).
    for (const label of ['a', 'b']) {
      const root = path.join(base, `state-${label}`);
      if (!fs.existsSync(root)) continue;
      for (const id of fs.readdirSync(root))
        spawnSync(label === 'a' ? resolve(o.a) : resolve(o.b), ['--root', root, 'delete', '--force', id], {
          env,
          stdio: 'ignore',
        });
    }
    fs.rmSync(base, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`bench: ${e.stack || e}`);
  process.exit(1);
});
