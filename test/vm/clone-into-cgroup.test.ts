// Issue 19, item 3: on a cgroup v2 host the container's init and an exec'd
// process are cloned straight into their cgroup (clone3 CLONE_INTO_CGROUP),
// so they are in it from their first instruction. Seen three ways: the
// program's first action reads /proc/self/cgroup; nothing writes the
// cgroup's cgroup.procs (inotify; a case that must fall back writes it, which
// proves the watch); a limit holds for the process's very first child.
import t, { type Test } from 'tap';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmdirSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../../src/spec/types';
import { cgroupPathsOf, testCgroupPath, testConfig, testEnv, uniqueId, type Env } from '../helpers/harness';
import { waitFor } from '../helpers/wait';
import { requireV2Host } from '../helpers/v2';

/** Counts writes to DIR/cgroup.procs; `settled()` once every event before it has arrived. */
function procsWrites(env: Env, dir: string): { settled: () => Promise<number>; close: () => void } {
  const marker = join(env.dir, `${uniqueId('marker')}`);
  writeFileSync(marker, '');
  let writes = 0;
  let marks = 0;
  const procs = watch(join(dir, 'cgroup.procs'), () => writes++);
  // One inotify instance serves both (libuv's): the marker's event comes after every earlier write's.
  const mark = watch(marker, () => marks++);
  return {
    async settled() {
      const want = marks + 1;
      appendFileSync(marker, 'x');
      await waitFor(() => marks >= want, { timeoutMs: 5000 });
      return writes;
    },
    close() {
      procs.close();
      mark.close();
    },
  };
}

/** `--debug --log` of one command: its lines about the child's cgroup. */
function cgroupLines(log: string): string[] {
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => /CLONE_INTO_CGROUP|through cgroup\.procs/.test(l));
}

/** A pre-made, empty cgroup for the container (so that its cgroup.procs can be watched before create). */
function premade(t: Test, id: string): string {
  const dir = cgroupPathsOf(testCgroupPath(id))[0];
  mkdirSync(dir, { recursive: true });
  t.teardown(() => existsSync(dir) && rmdirSync(dir));
  return dir;
}

function withoutPidNs(c: Spec): Spec {
  c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'pid');
  return c;
}

// Its first action, with no fork: a builtin reads /proc/self/cgroup. Then its first child (not the
// last command, which busybox sh would exec without a fork; it exits 2 when it cannot fork).
const FIRST = 'read l < /proc/self/cgroup; echo "first: $l"; cat /proc/self/cgroup >/dev/null; echo forked';

if (requireV2Host(t)) {
  t.test('create: the init is cloned into its cgroup, its limits already in force', async (t) => {
    const env = testEnv(t);
    const cases = [
      // No pid namespace: one task, so pids.max 1 admits the init and nothing else: sh's first fork fails.
      { name: 'pids.max 1, no pid namespace', pids: 1, pidNs: false, cloned: true, noFork: true },
      // A pid namespace: the helper's second fork is a task too; 2 fit, and then sh may fork once.
      { name: 'pids.max 2, pid namespace', pids: 2, pidNs: true, cloned: true, noFork: false },
      // No room for both: forked outside and moved in through cgroup.procs, as before (and runc 1.1).
      { name: 'pids.max 1, pid namespace', pids: 1, pidNs: true, cloned: false, noFork: true },
      { name: 'pids.max 10', pids: 10, pidNs: true, cloned: true, noFork: false },
    ];
    for (const k of cases) {
      const id = uniqueId('ci');
      const dir = premade(t, id);
      const c = testConfig(id, ['sh', '-c', FIRST]);
      c.linux!.resources = { pids: { limit: k.pids }, memory: { limit: 64 << 20 } };
      const log = join(env.dir, `${id}.log`);
      const watcher = procsWrites(env, dir);
      const out = join(env.dir, `${id}.out`);
      const r = env.run(['--debug', '--log', log, 'run', '--bundle', env.bundle(k.pidNs ? c : withoutPidNs(c)), id], {
        output: out,
      });
      const writes = await watcher.settled();
      watcher.close();
      const text = readFileSync(out, 'utf8');
      const rel = dir.slice('/sys/fs/cgroup'.length);
      t.match(text, `first: 0::${rel}\n`, `${k.name}: its first action sees its cgroup (${r.stderr})`);
      t.equal(/can't fork/.test(text), k.noFork, `${k.name}: sh's first fork ${k.noFork ? 'fails' : 'works'}`);
      const lines = cgroupLines(log);
      if (k.cloned) {
        t.match(lines.join('\n'), `container init: cloned into cgroup ${dir} (CLONE_INTO_CGROUP)`, `${k.name}: log`);
        t.equal(writes, 0, `${k.name}: nothing wrote ${dir}/cgroup.procs`);
      } else {
        t.match(lines.join('\n'), `joins its cgroup through cgroup.procs (pids.max ${k.pids} has no room`, k.name);
        t.ok(writes > 0, `${k.name}: the init was moved in through cgroup.procs (${writes} write(s) seen)`);
      }
      t.equal(lines.length, 1, `${k.name}: one line says which way it went`);
    }
    env.done();
  });

  t.test('a create that fails before or after the clone leaves no cgroup and no state', async (t) => {
    const env = testEnv(t);
    const cases: [string, (c: Spec) => void, RegExp][] = [
      // A limit the kernel refuses: the cgroup was made before the clone, no process yet.
      ['cpuset.cpus 63', (c) => (c.linux!.resources = { cpu: { cpus: '63' } }), /cpuset\.cpus/],
      // After the init was cloned into its cgroup.
      ['a failing prestart hook', (c) => (c.hooks = { prestart: [{ path: '/bin/false' }] }), /prestart/],
    ];
    for (const [name, change, why] of cases) {
      const id = uniqueId('cf');
      const c = testConfig(id, ['true']);
      change(c);
      const r = env.run(['create', '--bundle', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
      t.not(r.code, 0, `${name}: create fails`);
      t.match(r.stderr, why, `${name}: ${r.stderr}`);
      const dir = cgroupPathsOf(testCgroupPath(id))[0];
      t.notOk(existsSync(dir), `${name}: no cgroup ${dir}`);
    }
    env.done();
  });

  t.test(
    'exec: cloned into the cgroup (and an --cgroup sub-cgroup); moved in where pids.max has no room',
    async (t) => {
      const env = testEnv(t);
      const id = uniqueId('ce');
      const c = testConfig(id, ['sleep', '300']);
      c.linux!.resources = { pids: { limit: 4 } };
      const r = env.run(['run', '-d', '--bundle', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
      t.equal(r.code, 0, `run -d: ${r.stderr}`);
      const dir = cgroupPathsOf(testCgroupPath(id))[0];
      const rel = dir.slice('/sys/fs/cgroup'.length);
      mkdirSync(join(dir, 'sub'));
      const exec = async (args: string[]) => {
        const log = join(env.dir, `${uniqueId('x')}.log`);
        const watcher = procsWrites(env, dir);
        const sub = procsWrites(env, join(dir, 'sub'));
        const x = env.run(['--debug', '--log', log, 'exec', ...args, id, 'sh', '-c', FIRST]);
        const writes = (await watcher.settled()) + (await sub.settled());
        watcher.close();
        sub.close();
        return { ...x, writes, lines: cgroupLines(log).join('\n') };
      };

      // sleep + the helper's two processes fit under 4.
      const a = await exec([]);
      t.equal(a.code, 0, a.stderr);
      t.match(a.stdout, `first: 0::${rel}\n`, "exec's first action sees the container's cgroup");
      t.notMatch(a.stderr, /can't fork/, 'and it may fork');
      t.match(a.lines, `exec: cloned into cgroup ${dir} (CLONE_INTO_CGROUP)`, 'log');
      t.equal(a.writes, 0, 'nothing wrote cgroup.procs');

      const b = await exec(['--cgroup', 'sub']);
      t.equal(b.code, 0, b.stderr);
      t.match(b.stdout, `first: 0::${rel}/sub\n`, 'exec --cgroup sub: in the sub-cgroup from the start');
      t.match(b.lines, `exec: cloned into cgroup ${dir}/sub (CLONE_INTO_CGROUP)`, 'log');
      t.equal(b.writes, 0, 'nothing wrote cgroup.procs');

      const full = env.run(['update', '--pids-limit', '2', id]);
      t.equal(full.code, 0, full.stderr);
      const f = await exec([]);
      t.match(f.stdout, `first: 0::${rel}\n`, 'moved in before it runs the program');
      t.equal(f.code, 2, 'and pids.max holds for its first child (sleep + sh: no room for cat)');
      t.match(f.stderr, /can't fork/);
      t.match(f.lines, 'exec: joins its cgroup through cgroup.procs (pids.max 2 has no room for 2 more task(s))');
      t.ok(f.writes > 0, `the watch sees that write (${f.writes})`);

      const missing = env.run(['exec', '--cgroup', 'nosuch', id, 'true']);
      t.not(missing.code, 0, 'exec --cgroup to a missing sub-cgroup fails');
      t.match(missing.stderr, /error adding pid \d+ to cgroups: .*nosuch\/cgroup\.procs: no such file or directory/);

      t.equal(env.run(['delete', '--force', id]).code, 0);
      t.notOk(existsSync(dir), 'the cgroup is gone');
      env.done();
    },
  );
}
