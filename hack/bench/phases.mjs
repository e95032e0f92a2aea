// `node hack/bench.mjs --phases`: where tsrun's time goes, phase by phase.
// N lifecycles (create, start, state until stopped, delete) with
// TSRUN_PHASES set (src/log/phase.ts): every tsrun process, the container
// init included, appends its marks to one file, and each CLI command gets
// TSRUN_PHASES_T0, the moment just before it is spawned, so its marks count
// from its exec (the init's count from create's clone request). Beside them,
// Bun's own floor: a one-line program compiled by the same pinned Bun with
// the flags hack/compile.mjs uses.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { median, epochMs } from './stats.mjs';
import { compileCputime, cpuOf } from './cpu.mjs';

const ROLES = ['create', 'init', 'start', 'state', 'delete'];

/** One lifecycle with marks; returns, per CLI pid, the command and when the caller had it reaped (ms since T0). */
function markedLifecycle(rt, bundle, marks) {
  const id = rt.id();
  const reaped = new Map();
  const cmd = (args) => {
    const t0 = epochMs();
    const r = rt.sync(args, true, {
      extraEnv: () => ({ TSRUN_PHASES: marks, TSRUN_PHASES_T0: t0.toFixed(3) }),
    });
    reaped.set(r.pid, epochMs() - t0);
    return r;
  };
  cmd(['create', '--bundle', bundle, id]);
  cmd(['start', id]);
  while (JSON.parse(cmd(['state', id]).stdout).status !== 'stopped');
  cmd(['delete', id]);
  return reaped;
}

/** The marks of one lifecycle, per process (file order): its role (its last line's) and [name, ms since start]. */
function parseMarks(text, reaped) {
  const procs = new Map();
  for (const line of text.trim().split('\n')) {
    const [pid, role, name, since] = line.split(' ');
    const p = procs.get(pid) ?? { role, marks: [] };
    p.role = role;
    p.marks.push([name, Number(since)]);
    procs.set(pid, p);
  }
  for (const [pid, p] of procs) {
    const r = reaped.get(Number(pid));
    if (r !== undefined) p.marks.push(['(reaped by the caller)', r]);
  }
  return [...procs.values()];
}

/** Per mark of one role: the medians of its time since start and of its delta from the mark before it. */
function table(procs) {
  const rows = new Map();
  for (const p of procs) {
    p.marks.forEach(([name, since], i) => {
      const row = rows.get(name) ?? { since: [], delta: [] };
      row.since.push(since);
      row.delta.push(i ? since - p.marks[i - 1][1] : since);
      rows.set(name, row);
    });
  }
  return [...rows].sort((x, y) => median(x[1].since) - median(y[1].since));
}

/** Bun's floor: a one-line program compiled as hack/compile.mjs compiles tsrun; returns a sampler of it. */
function buildFloor(base, repo) {
  const src = path.join(base, 'hello.mjs');
  fs.writeFileSync(
    src,
    "import { writeSync } from 'node:fs';\n" +
      'writeSync(1, `${performance.timeOrigin} ${performance.timeOrigin + performance.now()}`);\n',
  );
  const out = path.join(base, 'hello');
  const bun = path.join(repo, 'node_modules', '.bin', 'bun');
  const args = ['build', '--compile', '--bytecode', '--format=esm', '--minify', '--target=bun', src, '--outfile', out];
  const b = spawnSync(bun, args, { encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`bench: bun build of the floor program: ${b.stderr}`);
  const wrapper = compileCputime(base);
  const cpuFile = path.join(base, 'hello-cpu');
  const s = { origin: [], js: [], whole: [], cpu: [] };
  return {
    version: spawnSync(bun, ['--version'], { encoding: 'utf8' }).stdout.trim(),
    size: fs.statSync(out).size / 1e6,
    samples: s,
    /** One run timed (spawned to engine start, to first line, to reaped), one through the wait4 wrapper. */
    sample() {
      const t0 = epochMs();
      const r = spawnSync(out, { encoding: 'utf8' });
      const whole = epochMs() - t0;
      const [origin, js] = r.stdout.split(' ').map(Number);
      spawnSync(wrapper, [cpuFile, out], { stdio: 'ignore' });
      s.origin.push(origin - t0);
      s.js.push(js - t0);
      s.whole.push(whole);
      s.cpu.push(cpuOf(cpuFile));
    },
  };
}

export async function phases({ runs, rt, bundle, base, repo }) {
  const marks = path.join(base, 'marks');
  const byRole = Object.fromEntries(ROLES.map((r) => [r, []]));
  const floor = buildFloor(base, repo);
  for (let i = 0; i <= runs; i++) {
    fs.rmSync(marks, { force: true });
    const reaped = markedLifecycle(rt, bundle, marks);
    if (i === 0) continue; // warm-up
    for (const p of parseMarks(fs.readFileSync(marks, 'utf8'), reaped)) byRole[p.role]?.push(p);
    // Bun's floor in the same moment as the lifecycle: the machine's speed moves between rounds.
    floor.sample();
    process.stderr.write(`run ${i}/${runs}\r`);
  }
  process.stderr.write('\n');
  const f = Object.fromEntries(Object.entries(floor.samples).map(([k, v]) => [k, median(v)]));
  console.log(`${runs} lifecycles of ${rt.binary}, medians; ms since the process's exec (the init: since create asked`);
  console.log(`for the clone); Δ = since the mark before it in the same process.\n`);
  console.log(
    `Bun's floor, a one-line program compiled by Bun ${floor.version} (${floor.size.toFixed(1)} MB), run once`,
  );
  console.log(
    `after each lifecycle: spawned to Bun's engine start (its time origin) ${f.origin.toFixed(1)} ms, to its`,
  );
  console.log(`first line ${f.js.toFixed(1)} ms, to reaped ${f.whole.toFixed(1)} ms;`);
  console.log(`CPU (user+sys, wait4) ${f.cpu.toFixed(1)} ms.\n`);
  for (const role of ROLES) {
    const procs = byRole[role];
    if (!procs.length) continue;
    console.log(`\n${role} (${procs.length} processes)\n`);
    console.log('| mark | ms since start | Δ ms |');
    console.log('|---|---:|---:|');
    for (const [name, row] of table(procs))
      console.log(`| ${name} | ${median(row.since).toFixed(2)} | ${median(row.delta).toFixed(2)} |`);
  }
}
