// Small linux.resources.pids.limit values: the init and exec's process are
// the Bun executable, whose every thread is a task pids.max counts. They must
// work under every limit runc 1.1.5 works under (docs/cgroups.md, "pids.limit
// and the init's threads"): the container's shell script runs, and forks as
// far as the limit lets it, exactly as under runc on the same bundle.
// And an init that crashes all the same is one tsrun error: Bun's crash
// report never reaches stdout, stderr or --log, and nothing is left behind.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cgroupDirsOf,
  isRoot,
  parseState,
  ROOT_REASON,
  testCgroupPath,
  testConfig,
  testEnv,
  uniqueId,
  waitStatus,
  type Env,
} from '../../helpers/harness';
import { waitFor } from '../../helpers/wait';
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

const FORK_FAILED = "can't fork: Resource temporarily unavailable";

/**
 * A run's output as what the script printed and whether a fork failed:
 * stdout and stderr share a file, and busybox's "sh: " and its message are
 * two writes that the echo's buffered "a" may land between (seen with runc).
 */
function lines(out: string): string[] {
  const words = out.replace(/sh: /g, '').split(FORK_FAILED);
  const printed = words.join(' ').split(/\s+/).filter(Boolean).sort();
  return words.length > 1 ? [...printed, FORK_FAILED] : printed;
}

/** What the kernel lets the script do with `limit` tasks (the shell is one). */
function expected(limit: number): { code: number; out: string[] } {
  if (limit >= 3) return { code: 0, out: ['a', 'b'] };
  return { code: 2, out: ['a', FORK_FAILED] };
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

/** A createRuntime hook (run while the init waits for its answer) that crashes the init with SIGSEGV. */
function crashingInit(id: string): Spec {
  const c = testConfig(id, ['true']);
  const pidOf = 'pid=$(sed -n \'s/.*"pid":\\([0-9]*\\).*/\\1/p\'); kill -SEGV $pid; sleep 0.2';
  c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', pidOf] }] };
  return c;
}

function gone(pid: number): boolean {
  try {
    return /\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
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

  t.test("an init that crashes: one clear tsrun error, never Bun's crash report, nothing left", async (t) => {
    const env = testEnv(t);
    for (const cmd of ['create', 'run']) {
      const id = uniqueId('crash');
      const out = join(env.dir, `${id}.out`);
      const log = join(env.dir, `${id}.log`);
      const r = env.run(['--log', log, cmd, '-b', env.bundle(crashingInit(id)), id], { output: out });
      const text = readFileSync(out, 'utf8');
      t.equal(r.code, 1, `${cmd} fails`);
      // run reaps the init as subreaper and names the signal; create cannot wait for it (pid namespace).
      const want =
        cmd === 'run'
          ? /^tsrun: container init crashed \(SIG[A-Z]+\) during setup\n$/
          : /^tsrun: container init exited during setup\n$/;
      t.match(text, want, `${cmd}: one line, the tsrun error`);
      t.notMatch(text, CRASH_TEXT, `${cmd}: no crash report on stdout or stderr`);
      t.notMatch(readFileSync(log, 'utf8'), CRASH_TEXT, `${cmd}: no crash report in --log`);
      t.match(
        readFileSync(log, 'utf8'),
        /level=error msg="container init (crashed|exited)/,
        `${cmd}: --log has the error`,
      );
      t.same(cgroupDirsOf(testCgroupPath(id)), [], `${cmd}: no cgroup left`);
    }
    // Crashed while it waits for start: the container's stdio never sees the report.
    const id = uniqueId('crash');
    const out = join(env.dir, `${id}.out`);
    t.equal(env.run(['create', '-b', env.bundle(testConfig(id, ['true'])), id], { output: out }).code, 0);
    const pid = Number(parseState(env.run(['state', id])).pid);
    process.kill(pid, 'SIGSEGV');
    t.ok(await waitFor(() => gone(pid), { timeoutMs: 5000 }), 'the init died');
    t.match(env.run(['start', id]).stderr, /cannot start a container that has stopped/);
    t.equal(env.run(['delete', id]).code, 0, 'delete removes it');
    t.notMatch(readFileSync(out, 'utf8'), CRASH_TEXT, "no crash report on the container's stdio");
    t.same(cgroupDirsOf(testCgroupPath(id)), [], 'no cgroup left');
    env.done();
  });
}
