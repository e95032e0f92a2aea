// Strict seccomp profiles in real containers made by bin/tsrun, many times
// over under CPU load: allow-lists with only what busybox needs after execve
// (no futex, mmap, madvise, munmap, rt_sigprocmask), as the runtime-tools'
// default config has. Nothing of the JS runtime may run under the filter
// (docs/seccomp.md): when it did, Bun crashed in most runs and printed its
// crash report into the container's stderr.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testEnv, testConfig, uniqueId, cleanEnv, TSRUN, type Env } from '../../helpers/harness';
import type { LinuxSeccomp, Spec } from '../../../src/spec/types';
import { waitFor } from '../../helpers/wait';

/**
 * What busybox `sh -c 'echo ok'`, `true` and `sleep` call after execve (strace, and the audit log's
 * SIGSYS lines under SCMP_ACT_KILL_PROCESS; as a non-root user busybox calls setgid/setuid on its own
 * ids), nothing of a runtime's.
 */
const PROGRAM = [
  'execve',
  'brk',
  'arch_prctl',
  'set_tid_address',
  'set_robust_list',
  'rseq',
  'prlimit64',
  'readlink',
  'getrandom',
  'mprotect',
  'getuid',
  'geteuid',
  'getgid',
  'getegid',
  'getpid',
  'getppid',
  'getcwd',
  'uname',
  'newfstatat',
  'rt_sigaction',
  'prctl',
  'setgid',
  'setuid',
  'write',
  'nanosleep',
  'clock_nanosleep',
  'exit_group',
  'exit',
];
/** The user switch after the filter (no_new_privs off, as in runc); keep-caps is a prctl, which busybox calls too. */
const USER_SWITCH = ['setgroups', 'setresgid', 'setresuid', 'capget', 'capset'];
const NEVER = ['futex', 'mmap', 'madvise', 'munmap', 'rt_sigprocmask'];

const CRASH = /panic|bun\.report|crash|segmentation fault|illegal instruction|abort|oh no|SIGSEGV|SIGILL/i;

function strict(defaultAction: 'SCMP_ACT_ERRNO' | 'SCMP_ACT_KILL_PROCESS', names: string[]): LinuxSeccomp {
  return { defaultAction, architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }] };
}

interface Profile {
  name: string;
  edit(c: Spec): void;
}

const PROFILES: Profile[] = [
  {
    name: 'ERRNO default, no_new_privs off (filter before the user switch)',
    edit: (c) => {
      c.process!.noNewPrivileges = false;
      c.linux!.seccomp = strict('SCMP_ACT_ERRNO', [...PROGRAM, ...USER_SWITCH]);
    },
  },
  {
    name: 'ERRNO default, no_new_privs on (nothing but execve after the filter)',
    edit: (c) => {
      c.process!.noNewPrivileges = true;
      c.linux!.seccomp = strict('SCMP_ACT_ERRNO', PROGRAM);
    },
  },
  {
    name: 'ERRNO default, a non-root user with groups, no_new_privs off',
    edit: (c) => {
      c.process!.noNewPrivileges = false;
      c.process!.user = { uid: 1000, gid: 1000, additionalGids: [10, 20] };
      c.linux!.seccomp = strict('SCMP_ACT_ERRNO', [...PROGRAM, ...USER_SWITCH]);
    },
  },
  {
    name: 'KILL_PROCESS default, no_new_privs on',
    edit: (c) => {
      c.process!.noNewPrivileges = true;
      c.process!.user = { uid: 1000, gid: 1000 };
      c.linux!.seccomp = strict('SCMP_ACT_KILL_PROCESS', PROGRAM);
    },
  },
  {
    name: 'KILL_PROCESS default, no_new_privs off',
    edit: (c) => {
      c.process!.noNewPrivileges = false;
      c.linux!.seccomp = strict('SCMP_ACT_KILL_PROCESS', [...PROGRAM, ...USER_SWITCH]);
    },
  },
];

const RUNS_PER_PROFILE = Number(process.env.TSRUN_STRICT_RUNS ?? 40);
const PARALLEL = 3;

interface Ran {
  code: number | null;
  signal: string | null;
  out: string;
}

/** bin/tsrun with its stdio in a file (create and run hand theirs to the container). */
function tsrunAsync(env: Env, args: string[], output: string): Promise<Ran> {
  const fd = openSync(output, 'a');
  return new Promise((resolve, reject) => {
    const child = spawn(TSRUN, ['--root', env.root, ...args], { stdio: ['ignore', fd, fd], env: cleanEnv() });
    closeSync(fd);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out: readFileSync(output, 'utf8') });
    });
  });
}

/** `run` for even runs, create + start (+ delete once it stopped) for odd ones. */
async function oneRun(env: Env, c: Spec, n: number): Promise<Ran> {
  const id = uniqueId('strict');
  const bundle = env.bundle({ ...c, linux: { ...c.linux!, cgroupsPath: `${c.linux!.cgroupsPath}-${n}` } }, id);
  const out = join(env.dir, `${id}.out`);
  if (n % 2 === 0) return tsrunAsync(env, ['run', '-b', bundle, id], out);
  const created = await tsrunAsync(env, ['create', '-b', bundle, id], out);
  if (created.code !== 0) return created;
  const started = await tsrunAsync(env, ['start', id], join(env.dir, `${id}.start`));
  // The exit status is not in the state: the output says the program ran, `stopped` that it ended.
  const stopped =
    started.code !== 0 ||
    (await waitFor(async () => /"status":\s*"stopped"/.test(await state(env, id)), { timeoutMs: 20000 }));
  const deleted = await tsrunAsync(env, ['delete', '--force', id], join(env.dir, `${id}.delete`));
  const text = readFileSync(out, 'utf8') + started.out + deleted.out;
  return { code: stopped ? started.code || deleted.code : -1, signal: started.signal, out: text };
}

async function state(env: Env, id: string): Promise<string> {
  return (await tsrunAsync(env, ['state', id], join(env.dir, `${id}.state.${Date.now()}`))).out;
}

/** Two busy processes for the whole test: the init's threads get preempted at random points. */
function burnCpu(): ChildProcess[] {
  return [0, 1].map(() => spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  const burners = burnCpu();
  t.teardown(() => burners.forEach((b) => b.kill('SIGKILL')));

  t.test('the profiles allow none of the runtime calls', async (t) => {
    for (const p of PROFILES) {
      const c = testConfig('x', []);
      p.edit(c);
      const allowed = c.linux!.seccomp!.syscalls![0].names;
      t.same(
        NEVER.filter((n) => allowed.includes(n)),
        [],
        p.name,
      );
    }
  });

  for (const p of PROFILES) {
    t.test(`${p.name}: ${RUNS_PER_PROFILE} runs under CPU load`, async (t) => {
      const env = testEnv(t);
      const c = testConfig(uniqueId('strict'), ['sh', '-c', 'echo ok']);
      p.edit(c);
      const failures: string[] = [];
      let next = 0;
      const worker = async () => {
        while (next < RUNS_PER_PROFILE) {
          const n = next++;
          const r = await oneRun(env, c, n);
          const ok = r.code === 0 && /^ok$/m.test(r.out) && !CRASH.test(r.out);
          const how = n % 2 ? 'create+start' : 'run';
          if (!ok) failures.push(`run ${n} (${how}): code ${r.code} signal ${r.signal}: ${r.out.slice(0, 400)}`);
        }
      };
      await Promise.all(Array.from({ length: PARALLEL }, worker));
      const failed = `${failures.length}/${RUNS_PER_PROFILE} failed`;
      t.same(failures, [], `every run printed "ok", exited 0 and no crash text (${failed})`);
      env.done();
    });
  }

  t.test('/bin/true and exec into a container with a strict profile', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('strict');
    const c = testConfig(id, ['true']);
    PROFILES[1].edit(c);
    const r = await tsrunAsync(env, ['run', '-b', env.bundle(c), id], join(env.dir, 'true.out'));
    t.equal(r.code, 0, `true exits 0: ${r.out}`);
    t.notMatch(r.out, CRASH);

    c.process!.args = ['sleep', '60'];
    const created = await tsrunAsync(env, ['create', '-b', env.bundle(c), id], join(env.dir, 'sleep.out'));
    t.equal(created.code, 0, created.out);
    const started = await tsrunAsync(env, ['start', id], join(env.dir, 'start.out'));
    t.equal(started.code, 0, started.out);
    const failures: string[] = [];
    for (let i = 0; i < 10; i++) {
      const e = await tsrunAsync(env, ['exec', id, 'sh', '-c', 'echo exec-ok'], join(env.dir, `exec${i}.out`));
      const ok = e.code === 0 && /^exec-ok$/m.test(e.out) && !CRASH.test(e.out);
      if (!ok) failures.push(`exec ${i}: code ${e.code}: ${e.out.slice(0, 400)}`);
      const u = await tsrunAsync(env, ['exec', '--user', '1000:1000', id, 'true'], join(env.dir, `execu${i}.out`));
      if (u.code !== 0 || CRASH.test(u.out)) failures.push(`exec --user ${i}: code ${u.code}: ${u.out.slice(0, 400)}`);
    }
    t.same(failures, [], 'every exec ran its program');
    t.notMatch(readFileSync(join(env.dir, 'sleep.out'), 'utf8'), CRASH, 'nothing on the container stdio');
    t.equal((await tsrunAsync(env, ['delete', '--force', id], join(env.dir, 'delete.out'))).code, 0);
    env.done();
  });
}
