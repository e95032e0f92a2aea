// linux.resources.pids as runtime-spec 1.3 words it (config-linux.md#pids):
// `limit` is OPTIONAL (an empty `pids: {}` is valid and changes nothing),
// -1 means no limit ("max"), and 0 is a real limit, "SHOULD be treated as
// such". runc 1.4 follows the same guidance (writing 1 for 0, for systemd's
// sake); runc 1.1.5, installed here, still skips a 0. `update --pids-limit`
// takes 0 and -1 the same way. Each case reads pids.max from the container's
// cgroup, with runc 1.1.5 on the same bundle beside it.
import t from 'tap';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
import { runtimes, type Runtime } from '../../helpers/runc';
import type { LinuxResources } from '../../../src/spec/types';

type LinuxPids = NonNullable<LinuxResources['pids']>;

/** The container's directory in the pids hierarchy (v1 on this host, v2 elsewhere). */
function pidsDir(id: string): string {
  const dirs = cgroupPathsOf(testCgroupPath(id));
  return dirs.find((d) => d.startsWith('/sys/fs/cgroup/pids/')) ?? dirs.find((d) => d.includes('/unified/'))!;
}

const pidsMax = (id: string) => readFileSync(join(pidsDir(id), 'pids.max'), 'utf8').trim();

/** `run -d` of `sleep` with `pids` in linux.resources (absent when undefined). */
function runWith(env: Env, rt: Runtime, id: string, pids: LinuxPids | undefined): void {
  const c = testConfig(id, ['sleep', '300']);
  if (pids) c.linux!.resources = { ...c.linux!.resources, pids };
  const r = rt.run(['run', '-d', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
  if (r.code !== 0) throw new Error(`${rt.name} run -d: ${r.stderr}`);
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('create: absent, {}, -1, 0 and N as pids.max', async (t) => {
    const env = testEnv(t);
    const cases: [string, LinuxPids | undefined, Record<Runtime['name'], string>][] = [
      ['no pids', undefined, { tsrun: 'max', runc: 'max' }],
      ['pids: {}', {}, { tsrun: 'max', runc: 'max' }],
      ['limit -1', { limit: -1 }, { tsrun: 'max', runc: 'max' }],
      // runc 1.1.5 reads 0 as "not set" (docs/conformance.md); spec 1.3 and runc 1.4 as a limit.
      ['limit 0', { limit: 0 }, { tsrun: '0', runc: 'max' }],
      ['limit 7', { limit: 7 }, { tsrun: '7', runc: '7' }],
    ];
    for (const rt of runtimes(t, env)) {
      for (const [name, pids, want] of cases) {
        const id = uniqueId(`pl-${rt.name}`);
        runWith(env, rt, id, pids);
        t.equal(pidsMax(id), want[rt.name], `${rt.name}, ${name}: pids.max ${want[rt.name]}`);
        t.equal(rt.run(['delete', '--force', id]).code, 0);
      }
    }
    env.done();
  });

  t.test('pids: {} changes nothing: a pids.max the caller set on the cgroup stays', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(`pe-${rt.name}`);
      const dir = pidsDir(id);
      mkdirSync(dir, { recursive: true });
      // runc 1.1.5 removes a cgroup the caller made at delete; tsrun leaves it (docs/conformance.md).
      t.teardown(() => existsSync(dir) && rmdirSync(dir));
      writeFileSync(join(dir, 'pids.max'), '9');
      runWith(env, rt, id, {});
      t.equal(pidsMax(id), '9', `${rt.name}: untouched`);
      t.equal(rt.run(['delete', '--force', id]).code, 0);
    }
    env.done();
  });

  t.test('a limit of 0 is a limit: the container runs and cannot fork', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('p0');
    const c = testConfig(id, ['sh', '-c', 'echo a; echo b | cat']);
    c.linux!.resources = { ...c.linux!.resources, pids: { limit: 0 } };
    const out = join(env.dir, `${id}.out`);
    const r = env.run(['run', '-b', env.bundle(c), id], { output: out });
    t.equal(r.code, 2, 'the shell could not fork');
    t.match(readFileSync(out, 'utf8'), /a[\s\S]*can't fork/);
    env.done();
  });

  t.test('update --pids-limit and update -r: 0 is a limit, -1 is max, {} leaves it', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(`pu-${rt.name}`);
      runWith(env, rt, id, { limit: 7 });
      const steps: [string[], string | undefined, Record<Runtime['name'], string>][] = [
        [['--pids-limit', '0'], undefined, { tsrun: '0', runc: '7' }],
        [['--pids-limit', '-1'], undefined, { tsrun: 'max', runc: 'max' }],
        [['--pids-limit', '5'], undefined, { tsrun: '5', runc: '5' }],
        [['-r', '-'], '{"pids": {}}', { tsrun: '5', runc: '5' }],
        [['-r', '-'], '{"pids": {"limit": 0}}', { tsrun: '0', runc: '5' }],
        [['-r', '-'], '{"pids": {"limit": -1}}', { tsrun: 'max', runc: 'max' }],
      ];
      for (const [args, input, want] of steps) {
        const r = rt.run(['update', ...args, id], { input });
        t.equal(r.code, 0, `${rt.name} update ${args.join(' ')} ${input ?? ''}: ${r.stderr}`);
        t.equal(pidsMax(id), want[rt.name], `${rt.name} update ${args.join(' ')} ${input ?? ''}: ${want[rt.name]}`);
      }
      t.equal(rt.run(['delete', '--force', id]).code, 0);
    }
    env.done();
  });
}
