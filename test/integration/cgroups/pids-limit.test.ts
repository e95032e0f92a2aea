// Small linux.resources.pids.limit values: the init and exec's process are
// the Bun executable, whose every thread is a task pids.max counts. They must
// work under every limit runc 1.1.5 works under (docs/cgroups.md, "pids.limit
// and the init's threads"): the container's shell script runs, and forks as
// far as the limit lets it, exactly as under runc on the same bundle.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testConfig, testEnv, uniqueId, waitStatus, type Env } from '../../helpers/harness';
import { cleanupRunc, runRunc, runTsrun } from '../../helpers/seccomp-container';
import type { Spec } from '../../../src/spec/types';

/** A shell script that forks: one child for `cat` and one for `echo b` of the pipeline. */
const SCRIPT = ['sh', '-c', 'echo a; echo b | cat; true'];
const LIMITS = [1, 2, 3, 5, 10];
/** What the init's crash would print (Bun's crash report). */
const CRASH_TEXT = /bun\.report|panic|oh no|Bun v\d/i;

function limited(id: string, limit: number, args: string[]): Spec {
  const c = testConfig(id, args);
  c.linux!.resources = { ...c.linux!.resources, pids: { limit } };
  return c;
}

/** The lines of a run's output, sorted: stdout and stderr share a file and may interleave either way. */
const lines = (out: string) => out.split('\n').filter(Boolean).sort();

/** What the kernel lets the script do with `limit` tasks (the shell is one). */
function expected(limit: number): { code: number; out: string[] } {
  if (limit >= 3) return { code: 0, out: ['a', 'b'] };
  return { code: 2, out: ['a', "sh: can't fork: Resource temporarily unavailable"] };
}

function createStart(env: Env, limit: number): { code: number | null; out: string } {
  const id = uniqueId('pc');
  const out = join(env.dir, `${id}.out`);
  const created = env.run(['create', '-b', env.bundle(limited(id, limit, SCRIPT)), id], { output: out });
  if (created.code !== 0) return { code: created.code, out: readFileSync(out, 'utf8') };
  const started = env.run(['start', id]);
  waitStatus(env, id, 'stopped');
  env.run(['delete', id]);
  return { code: started.code, out: readFileSync(out, 'utf8') + started.stderr };
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('run: every small pids.limit behaves as under runc', async (t) => {
    const env = testEnv(t);
    t.teardown(() => cleanupRunc(env));
    for (const limit of LIMITS) {
      const want = expected(limit);
      const ts = runTsrun(env, limited('x', limit, SCRIPT), SCRIPT);
      t.equal(ts.code, want.code, `limit ${limit}: tsrun run exits with the script's code`);
      t.same(lines(ts.out), want.out, `limit ${limit}: tsrun run: the script's output`);
      t.notMatch(ts.out, CRASH_TEXT, `limit ${limit}: no crash report`);
      const rc = runRunc(env, limited('x', limit, SCRIPT), SCRIPT);
      if (rc) {
        t.equal(rc.code, want.code, `limit ${limit}: runc run exits the same`);
        t.same(lines(rc.out), want.out, `limit ${limit}: runc run prints the same`);
      }
    }
    env.done();
  });

  t.test('create + start: every small pids.limit', async (t) => {
    const env = testEnv(t);
    for (const limit of LIMITS) {
      const r = createStart(env, limit);
      t.equal(r.code, 0, `limit ${limit}: create and start succeed`);
      t.same(lines(r.out), expected(limit).out, `limit ${limit}: the script's output`);
      t.notMatch(r.out, CRASH_TEXT, `limit ${limit}: no crash report`);
    }
    env.done();
  });

  // runc 1.1.5's exec fails below pids.limit 7 here (its Go runtime cannot
  // start a thread: "runtime/cgo: pthread_create failed"); tsrun's exec
  // process is one task, so the script gets what the limit leaves it.
  t.test('exec into a running container at each small pids.limit', async (t) => {
    const env = testEnv(t);
    for (const limit of LIMITS) {
      const id = uniqueId('pe');
      const out = join(env.dir, `${id}.out`);
      const bundle = env.bundle(limited(id, limit, ['sleep', '1000']));
      t.equal(env.run(['run', '-d', '-b', bundle, id], { output: out }).code, 0, `limit ${limit}: container runs`);
      const r = env.run(['exec', id, ...SCRIPT]);
      // The container's sleep is one task, exec's shell a second.
      const want = expected(limit - 1);
      t.equal(r.code, want.code, `limit ${limit}: exec exits with the script's code`);
      t.same(lines(r.stdout + r.stderr), want.out, `limit ${limit}: exec: the script's output`);
      t.notMatch(r.stdout + r.stderr, CRASH_TEXT, `limit ${limit}: no crash report`);
      t.equal(env.run(['delete', '--force', id]).code, 0);
    }
    env.done();
  });
}
