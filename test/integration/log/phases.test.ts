// TSRUN_PHASES through the built executable: create, its init, start and
// delete each append their marks to the one file; the container's
// program never sees the variable (the init gets it, the program's
// environment is the config's).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, TSRUN, cleanEnv, testEnv, testConfig, uniqueId } from '../../helpers/harness';
import { waitForSync } from '../../helpers/wait';

const LINE = /^(\d+) (\S+) (\S+) (-?\d+\.\d{3}) (\d+\.\d{3})$/;

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('create, init, start and delete mark their phases; the program does not see TSRUN_PHASES', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('phases');
    const marks = join(env.dir, 'marks');
    const out = join(env.dir, 'out');
    const bundle = env.bundle(testConfig(id, ['sh', '-c', 'env']));
    const run = (args: string[]) => {
      const fd = openSync(out, 'a');
      try {
        const r = spawnSync(TSRUN, ['--root', env.root, ...args], {
          stdio: ['ignore', fd, fd],
          encoding: 'utf8',
          timeout: 60000,
          // As the benchmark: the start is the moment before the spawn (whole ms: never after it).
          env: cleanEnv({ TSRUN_PHASES: marks, TSRUN_PHASES_T0: String(Date.now()) }),
        });
        return r.status;
      } finally {
        closeSync(fd);
      }
    };
    t.equal(run(['create', '--bundle', bundle, id]), 0, 'create');
    t.equal(run(['start', id]), 0, 'start');
    const stopped = waitForSync(() => env.run(['state', id]).stdout, {
      timeoutMs: 10000,
      done: (s) => s.includes('"stopped"'),
    });
    t.match(stopped, /"stopped"/);
    t.equal(run(['delete', id]), 0, 'delete');

    const output = readFileSync(out, 'utf8');
    t.match(output, /^PATH=/m, "the program's environment was printed");
    t.notMatch(output, /TSRUN_PHASES/, 'neither TSRUN_PHASES nor TSRUN_PHASES_T0 reached the program');

    const lines = readFileSync(marks, 'utf8').trim().split('\n');
    const parsed = lines.map((l) => LINE.exec(l));
    t.same(
      lines.filter((_, i) => !parsed[i]),
      [],
      'every line is "<pid> <role> <name> <ms since start> <epoch ms>"',
    );
    const byPid = new Map<string, { role: string; names: string[]; since: number[] }>();
    for (const m of parsed) {
      const p = byPid.get(m![1]) ?? { role: m![2], names: [], since: [] };
      p.role = m![2];
      p.names.push(m![3]);
      p.since.push(Number(m![4]));
      byPid.set(m![1], p);
    }
    const procs = [...byPid.values()];
    const of = (role: string) => procs.find((p) => p.role === role);
    const expected: Record<string, string[]> = {
      create: ['js', 'cli.parsed', 'koffi.loaded', 'create.config', 'spawn.ready', 'create.state-created', 'exit'],
      init: ['js', 'koffi.loaded', 'tsrun-helper.bound', 'init.loaded', 'init.rootfs', 'init.ready', 'init.released'],
      start: ['js', 'start.locked', 'start.released', 'exit'],
      delete: ['js', 'delete.locked', 'delete.cgroup-removed', 'delete.removed', 'exit'],
    };
    for (const [role, names] of Object.entries(expected)) {
      const p = of(role);
      t.ok(p, `${role} wrote marks`);
      if (!p) continue;
      t.same(
        names.filter((n) => !p.names.includes(n)),
        [],
        `${role}: ${names.join(', ')} among ${p.names.join(', ')}`,
      );
      t.ok(
        p.since.every((s, i) => s >= 0 && (i === 0 || s >= p.since[i - 1])),
        `${role}: times since its start grow: ${p.since.join(' ')}`,
      );
    }
    env.done();
  });
}
