// The phase marks: TSRUN_PHASES is read once when the module loads, so each
// case runs the module in a child process of its own environment.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const mod = JSON.stringify(require.resolve('./phase'));
const script = `const p = require(${mod});
p.setPhaseRole('create');
p.phase('a');
p.phase('koffi', 'copy');
process.stdout.write(JSON.stringify({ on: p.phasesOn(), env: p.phaseEnv(), pid: process.pid }));`;

function runChild(env: Record<string, string>): { on: boolean; env: string[]; pid: number } {
  const base = { ...process.env };
  delete base.TSRUN_PHASES;
  delete base.TSRUN_PHASES_T0;
  delete base.NODE_EXTRA_CA_CERTS;
  const out = execFileSync(process.execPath, [...process.execArgv, '-e', script], {
    encoding: 'utf8',
    env: { ...base, ...env },
  });
  return JSON.parse(out);
}

const LINE = /^(\d+) (\S+) (\S+) (-?\d+\.\d{3}) (\d+\.\d{3})$/;

t.test('off: nothing written, nothing handed to a child', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-phase-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const env of [{}, { TSRUN_PHASES: '' }] as Record<string, string>[]) {
    const r = runChild(env);
    t.equal(r.on, false);
    t.same(r.env, []);
  }
  t.same(readdirSync(dir), [], 'no file appeared');
});

t.test('on: one line per mark appended, times since the given start', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-phase-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'marks');
  writeFileSync(file, 'earlier line\n');
  const t0 = Date.now() - 1000;
  const before = Date.now();
  const r = runChild({ TSRUN_PHASES: file, TSRUN_PHASES_T0: String(t0) });
  const after = Date.now();
  t.equal(r.on, true);
  t.equal(r.env[0], `TSRUN_PHASES=${file}`);
  t.match(r.env[1], /^TSRUN_PHASES_T0=\d+\.\d{3}$/);
  const lines = readFileSync(file, 'utf8').split('\n');
  t.equal(lines[0], 'earlier line', 'appended, not truncated');
  const marks = lines.slice(1, -1).map((l) => LINE.exec(l));
  t.same(
    marks.map((m) => m && [Number(m[1]), m[2], m[3]]),
    [
      [r.pid, 'cli', 'bun.origin'],
      [r.pid, 'cli', 'js'],
      [r.pid, 'create', 'a'],
      [r.pid, 'create', 'koffi.copy'],
      [r.pid, 'create', 'exit'],
    ],
  );
  const since = marks.map((m) => Number(m![4]));
  const epoch = marks.map((m) => Number(m![5]));
  t.ok(
    since.every((s, i) => s >= 1000 && (i === 0 || s >= since[i - 1])),
    `ms since start count from T0 and grow: ${since}`,
  );
  // Date.now() is whole ms; the marks' epoch has fractions.
  t.ok(
    epoch.every((e, i) => e >= before - 1 && e <= after + 1 && Math.abs(e - t0 - since[i]) < 0.01),
    `epoch times within the run: ${epoch}`,
  );
});

t.test('on without a start time: taken from /proc/self/stat (10 ms ticks)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-phase-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'marks');
  runChild({ TSRUN_PHASES: file });
  const since = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => Number(LINE.exec(l)![4]));
  // A node child reaches its first line after tens of ms; the tick rounding is at most 10 ms either way.
  t.ok(since[1] > -10 && since[1] < 10000, `first line of JS ${since[1]} ms after the process started`);
});
