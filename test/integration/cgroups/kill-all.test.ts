// `kill --all … KILL` and `delete --force` empty the container's cgroup, also
// while its processes fork as fast as they can, and they do it through
// cgroup.kill where the container's cgroup v2 directory has it (kernel 5.14+,
// as runc 1.2+ does; on this hybrid host the container's directory in the
// cgroup2 tree has it). runc 1.1.5 signals one by one; it empties the cgroup
// too, on the same bundle.
import t, { type Test } from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cgroupDirsOf,
  cgroupPathsOf,
  isRoot,
  ROOT_REASON,
  testCgroupPath,
  testConfig,
  testEnv,
  uniqueId,
  type Env,
} from '../../helpers/harness';
import { runtimes, type Runtime } from '../../helpers/runc';
import { waitFor } from '../../helpers/wait';

/** Forks without pause; the pids limit bounds it (forks past it fail and the loop goes on). */
const FORK_LOOP = ['sh', '-c', 'while :; do sh -c "sleep 300" & true & done'];

/** Every process in a cgroup directory and below it. */
function procsBelow(dir: string): number[] {
  if (!existsSync(dir)) return [];
  const own = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  const subs = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory());
  return [...own, ...subs.flatMap((e) => procsBelow(join(dir, e.name)))];
}

const pidsDir = (id: string) => cgroupPathsOf(testCgroupPath(id)).find((d) => d.startsWith('/sys/fs/cgroup/pids/'))!;
const unifiedDir = (id: string) => cgroupPathsOf(testCgroupPath(id)).find((d) => d.includes('/cgroup/unified/'));

async function forking(t: Test, env: Env, rt: Runtime, tag: string): Promise<string> {
  const id = uniqueId(`${tag}-${rt.name}`);
  const c = testConfig(id, FORK_LOOP);
  c.linux!.resources = { ...c.linux!.resources, pids: { limit: 200 } };
  const r = rt.run(['run', '-d', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
  t.equal(r.code, 0, `${rt.name} run -d: ${r.stderr}`);
  t.ok(await waitFor(() => procsBelow(pidsDir(id)).length >= 50), `${rt.name}: the loop is forking`);
  return id;
}

const usedCgroupKill = (log: string, id: string) =>
  new RegExp(`kill: SIGKILL through \\S*${id}/cgroup\\.kill`).test(readFileSync(log, 'utf8'));

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  const hasKill = (id: string) => {
    const u = unifiedDir(id);
    return u !== undefined && existsSync(join(u, 'cgroup.kill'));
  };

  t.test('kill --all KILL empties the cgroup of a fork loop', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const id = await forking(t, env, rt, 'ka');
      const log = join(env.dir, `${id}.log`);
      const withKill = hasKill(id);
      const r = rt.run(['--debug', '--log', log, 'kill', '--all', id, 'KILL']);
      t.equal(r.code, 0, `${rt.name} kill --all: ${r.stderr}`);
      t.ok(await waitFor(() => procsBelow(pidsDir(id)).length === 0), `${rt.name}: the cgroup is empty`);
      if (rt.name === 'tsrun')
        t.equal(usedCgroupKill(log, id), withKill, `cgroup.kill used: ${withKill} (the cgroup has it: ${withKill})`);
      t.ok(await waitFor(() => /"stopped"/.test(rt.run(['state', id]).stdout)), `${rt.name}: stopped`);
      t.equal(rt.run(['delete', id]).code, 0);
    }
    env.done();
  });

  t.test('delete --force empties and removes the cgroup of a fork loop, running or paused', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      for (const paused of [false, true]) {
        const id = await forking(t, env, rt, paused ? 'dp' : 'df');
        if (paused) t.equal(rt.run(['pause', id]).code, 0, `${rt.name}: paused`);
        const log = join(env.dir, `${id}.log`);
        const withKill = hasKill(id);
        const r = rt.run(['--debug', '--log', log, 'delete', '--force', id]);
        t.equal(r.code, 0, `${rt.name} delete --force (paused: ${paused}): ${r.stderr}`);
        t.same(cgroupDirsOf(testCgroupPath(id)), [], `${rt.name}: every cgroup directory is gone`);
        if (rt.name === 'tsrun') t.equal(usedCgroupKill(log, id), withKill, `cgroup.kill used: ${withKill}`);
      }
    }
    env.done();
  });

  t.test('kill --all with another signal still signals one by one', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('kt');
    const c = testConfig(id, ['sh', '-c', 'sleep 300 & sleep 300 & wait']);
    const r = env.run(['run', '-d', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
    t.equal(r.code, 0, r.stderr);
    t.ok(await waitFor(() => procsBelow(pidsDir(id)).length === 3), 'three processes');
    const log = join(env.dir, `${id}.log`);
    t.equal(env.run(['--debug', '--log', log, 'kill', '--all', id, 'TERM']).code, 0);
    t.ok(await waitFor(() => procsBelow(pidsDir(id)).length <= 1), 'the sleeps got SIGTERM');
    t.notOk(usedCgroupKill(log, id), 'no cgroup.kill for SIGTERM');
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });
}
