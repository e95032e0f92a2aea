// Whose cgroups these are. A caller (the kubelet's pod cgroup, a test's
// parent) may make cgroups before create: tsrun puts the container there,
// warns as runc 1.1 does when they already hold processes, refuses a frozen
// one instead of parking a frozen init in it, and on delete removes only the
// directories it made itself.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  cgroupPathsOf,
  isRoot,
  ROOT_REASON,
  testCgroupPath,
  testConfig,
  testEnv,
  uniqueId,
  type Env,
} from '../../helpers/harness';

/**
 * Make the cgroup in every hierarchy, as a caller would; removed at teardown with the parents it made, children
 * first.
 */
function premade(t: { teardown(fn: () => void): unknown }, relative: string): string[] {
  const dirs = cgroupPathsOf(relative);
  const made: string[] = [];
  for (const d of dirs) {
    const first = mkdirSync(d, { recursive: true });
    for (let p = d; first && p.length >= first.length; p = dirname(p)) made.push(p);
  }
  t.teardown(() => made.sort((a, b) => b.length - a.length).forEach((d) => existsSync(d) && rmdirSync(d)));
  return dirs;
}

const freezerOf = (dirs: string[]) => dirs.find((d) => d.startsWith('/sys/fs/cgroup/freezer/'))!;

function runIn(
  env: Env,
  cgroupsPath: string,
  args: string[],
  extra: string[] = [],
  globals: string[] = [],
  output?: string,
) {
  const id = uniqueId('own');
  const c = testConfig(id, args);
  c.linux!.cgroupsPath = cgroupsPath;
  // A detached container keeps the pipes open: its output goes to a file then.
  return { id, r: env.run([...globals, 'run', ...extra, '-b', env.bundle(c), id], { output }) };
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('a parent the caller made survives delete, delete --force and a failed create', async (t) => {
    const env = testEnv(t);
    const parent = testCgroupPath(uniqueId('parent'));
    const dirs = premade(t, parent);
    const d = runIn(env, `${parent}/c1`, ['sleep', '1000'], ['-d'], [], join(env.dir, 'c1.out'));
    t.equal(d.r.code, 0, `run -d: ${d.r.stderr}`);
    t.equal(env.run(['delete', '--force', d.id]).code, 0);
    t.same(cgroupPathsOf(`${parent}/c1`).filter(existsSync), [], "the container's own cgroups are gone");
    const f = runIn(env, `${parent}/c2`, ['/no/such/program']);
    t.equal(f.r.code, 1, 'create fails');
    t.same(cgroupPathsOf(`${parent}/c2`).filter(existsSync), [], 'the failed container left no cgroup');
    t.equal(runIn(env, `${parent}/c3`, ['true']).r.code, 0, 'run in the foreground');
    t.same(
      dirs.filter((dir) => !existsSync(dir)),
      [],
      'the parent exists in every hierarchy',
    );
    env.done();
  });

  t.test('a cgroup the caller made and names as cgroupsPath is left to the caller', async (t) => {
    const env = testEnv(t);
    const leaf = testCgroupPath(uniqueId('leaf'));
    const dirs = premade(t, leaf);
    const { r } = runIn(env, leaf, ['sh', '-c', 'cat /proc/self/cgroup']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, new RegExp(`memory:/.*${leaf}`), 'the container ran in it');
    t.same(
      dirs.filter((dir) => !existsSync(dir)),
      [],
      'it still exists in every hierarchy after delete',
    );
    env.done();
  });

  t.test(
    'a cgroup that already holds a process: runc 1.1 warning, the container runs, the process is not ours',
    async (t) => {
      const env = testEnv(t);
      const leaf = testCgroupPath(uniqueId('busy'));
      const dirs = premade(t, leaf);
      const other = spawn('sleep', ['1000'], { stdio: 'ignore' });
      t.teardown(() => other.kill('SIGKILL'));
      await new Promise((ok) => other.once('spawn', ok));
      // cpuset is left out: a new v1 cpuset has no cpus and takes no task.
      for (const d of dirs.filter((d) => !d.includes('/cpuset/')))
        writeFileSync(join(d, 'cgroup.procs'), String(other.pid));
      const log = join(env.dir, 'busy.log');
      const { r } = runIn(env, leaf, ['echo', 'ran'], [], ['--log', log]);
      t.equal(r.code, 0, r.stderr);
      t.equal(r.stdout, 'ran\n');
      t.match(
        readFileSync(log, 'utf8'),
        /level=warning msg="container's cgroup is not empty: 1 process\(es\) found"/,
        'the warning, in runc 1.1 words',
      );
      t.equal(other.exitCode, null, "the caller's process still runs");
      const holding = dirs.filter(
        (d) =>
          !d.includes('/cpuset/') &&
          readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').includes(String(other.pid)),
      );
      t.same(
        holding,
        dirs.filter((d) => !d.includes('/cpuset/')),
        'and is still in its cgroups',
      );
      other.kill('SIGKILL');
      await new Promise((ok) => other.once('exit', ok));
      env.done();
    },
  );

  t.test(
    "delete --force of a container in a cgroup that holds the caller's process kills only the container",
    async (t) => {
      const env = testEnv(t);
      const leaf = testCgroupPath(uniqueId('shared'));
      const dirs = premade(t, leaf).filter((d) => !d.includes('/cpuset/'));
      const other = spawn('sleep', ['1000'], { stdio: 'ignore' });
      t.teardown(() => other.kill('SIGKILL'));
      await new Promise((ok) => other.once('spawn', ok));
      for (const d of dirs) writeFileSync(join(d, 'cgroup.procs'), String(other.pid));
      const { id, r } = runIn(env, leaf, ['sleep', '1000'], ['-d'], [], join(env.dir, 'shared.out'));
      t.equal(r.code, 0, r.stderr);
      t.equal(env.run(['delete', '--force', id]).code, 0, 'delete --force');
      t.equal(other.exitCode, null, "the caller's process still runs (found dead in a systemd service on cgroup v2)");
      t.equal(other.signalCode, null);
      t.same(
        dirs.map((d) => readFileSync(join(d, 'cgroup.procs'), 'utf8').trim()),
        dirs.map(() => String(other.pid)),
        'and it is all that is left in the cgroup',
      );
      other.kill('SIGKILL');
      await new Promise((ok) => other.once('exit', ok));
      env.done();
    },
  );

  for (const where of ['the cgroup itself', 'its parent'] as const) {
    t.test(`a frozen cgroup (${where}): create fails at once, nothing left`, async (t) => {
      const env = testEnv(t);
      const parent = testCgroupPath(uniqueId('frozen'));
      const leaf = `${parent}/c`;
      const dirs = premade(t, where === 'its parent' ? parent : leaf);
      const freezer = freezerOf(dirs);
      writeFileSync(join(freezer, 'freezer.state'), 'FROZEN');
      t.teardown(() => writeFileSync(join(freezer, 'freezer.state'), 'THAWED'));
      const started = Date.now();
      const { id, r } = runIn(env, leaf, ['true'], ['-d']);
      t.equal(r.code, 1, 'run -d fails');
      t.match(r.stderr, /container's cgroup unexpectedly frozen/);
      t.ok(Date.now() - started < 10000, 'without hanging');
      t.notOk(existsSync(join(env.root, id)), 'no state dir');
      if (where === 'its parent')
        t.same(cgroupPathsOf(leaf).filter(existsSync), [], 'no cgroup made below the frozen parent');
      env.done();
    });
  }
}
