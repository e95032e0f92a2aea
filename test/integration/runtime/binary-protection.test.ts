// The executable a container's init runs from cannot be written through
// /proc/PID/exe (CVE-2019-5736), the image cannot make tsrun run its own
// binary on its behalf, and the init waits in `created` holding nothing of
// the host's. Plus the ways the executable itself meets a hostile or
// unusual host: the mount API missing (the memfd fallback), a read-only,
// noexec /tmp, and a damaged copy of the file.
import t from 'tap';
type Tap = typeof t;
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
  mkdtempSync,
  openSync,
  closeSync,
  writeSync,
  chmodSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  isRoot,
  ROOT_REASON,
  testEnv,
  testConfig,
  uniqueId,
  parseState,
  waitStatus,
  cgroupDirsOf,
  cleanEnv,
  REPO,
  type Env,
} from '../../helpers/harness';
import type { Spec } from '../../../src/spec/types';
import { waitFor, waitForSync } from '../../helpers/wait';

const EXECUTABLE = join(REPO, 'dist', 'tsrun');
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The error code of opening path for writing and writing one byte; undefined if that worked. */
function writeError(path: string): string | undefined {
  try {
    const fd = openSync(path, 'r+');
    try {
      writeSync(fd, 'x', 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  }
  return undefined;
}

const ST_RDONLY = 1;
/** statvfs(2) f_flag of the mount a path (magic links followed) is on. */
function mountFlags(path: string): number {
  return Number(
    execFileSync('python3', ['-c', 'import os, sys; print(os.statvfs(sys.argv[1]).f_flag)', path], {
      encoding: 'utf8',
    }),
  );
}

/**
 * A copy of the executable that only this test runs: while any process
 * executes a file, writing it fails with ETXTBSY anyway, so the protection
 * itself shows only on a file nothing else (other tests' tsrun) runs.
 */
function privateCopy(env: Env): string {
  const copy = join(env.dir, 'tsrun-private');
  execFileSync('install', ['-m', '755', EXECUTABLE, copy]);
  return copy;
}

/** `create` through the given executable; its combined output in the env's dir. */
function createWith(exe: string, env: Env, id: string, extra: string[] = [], prefix: string[] = []) {
  const out = openSync(join(env.dir, `${id}.out`), 'a');
  try {
    const [cmd, ...args] = [
      ...prefix,
      exe,
      '--root',
      env.root,
      ...extra,
      'create',
      '-b',
      env.bundle(testConfig(id, ['true'])),
      id,
    ];
    const r = spawnSync(cmd, args, { stdio: ['ignore', out, out], env: cleanEnv(), timeout: 60000 });
    return { code: r.status, output: readFileSync(join(env.dir, `${id}.out`), 'utf8') };
  } finally {
    closeSync(out);
  }
}

function initPid(env: Env, id: string): number {
  return parseState(env.run(['state', id])).pid as number;
}

/** Until pid has exited (a zombie no longer runs its executable). */
function waitExited(pid: number, timeoutMs = 10000): boolean {
  return waitForSync(
    () => {
      try {
        return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return true;
      }
    },
    { timeoutMs },
  );
}

function waitForFile(path: string, timeoutMs = 10000): boolean {
  return waitForSync(() => existsSync(path), { timeoutMs });
}

/** A container in the host's pid namespace with CAP_SYS_PTRACE and a shared directory at /shared: the attacker. */
function attackerConfig(id: string, shared: string, script: string, args: string[]): Spec {
  const c = testConfig(id, ['sh', '-c', script, 'sh', ...args]);
  c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'pid');
  const caps = c.process!.capabilities!;
  for (const set of ['bounding', 'effective', 'permitted'] as const)
    caps[set] = [...(caps[set] ?? []), 'CAP_SYS_PTRACE'];
  c.mounts!.push({ destination: '/shared', type: 'bind', source: shared, options: ['rbind', 'rw'] });
  return c;
}

// Holds the init's exe open, tries to write it while the init waits in
// `created`, then, once the host says the init is gone, reopens its fd for
// writing (the 2019 exploit's second step). Results land in /shared.
const ATTACK = `
P=$1
exec 3< /proc/$P/exe || { echo open-failed > /shared/result; exit 0; }
readlink /proc/$P/exe > /shared/link
(echo x >> /proc/$P/exe) 2> /shared/err-created; echo $? > /shared/code-created
touch /shared/opened
while [ ! -e /shared/go ]; do sleep 0.05; done
(echo x >> /proc/self/fd/3) 2> /shared/err-after; echo $? > /shared/code-after
touch /shared/done
sleep 100
`;

/** Runs the attack against a created container; returns what the attacker saw. */
function attack(t: Pick<Tap, 'ok' | 'equal'>, env: Env, victim: string): Record<string, string> {
  const seen = attackPid(t, env, initPid(env, victim), victim, () => {
    t.equal(env.run(['start', victim]).code, 0, 'the victim starts');
    t.equal(waitStatus(env, victim, 'stopped').status, 'stopped', 'and its init is gone');
  });
  t.equal(env.run(['delete', victim]).code, 0);
  return seen;
}

/** The attack on any runtime process `pid`; `release` makes it exec and exit. */
function attackPid(
  t: Pick<Tap, 'ok' | 'equal'>,
  env: Env,
  pid: number,
  name: string,
  release: () => void,
): Record<string, string> {
  const shared = join(env.dir, `shared-${name}`);
  mkdirSync(shared);
  const attacker = uniqueId('attacker');
  const r = env.run(
    ['run', '-d', '-b', env.bundle(attackerConfig(attacker, shared, ATTACK, [String(pid)])), attacker],
    { output: join(env.dir, `${attacker}.out`) },
  );
  t.equal(r.code, 0, `attacker runs: ${r.stderr}`);
  t.ok(
    waitForFile(join(shared, 'opened')) || existsSync(join(shared, 'result')),
    'the attacker got as far as opening the exe',
  );
  release();
  writeFileSync(join(shared, 'go'), '');
  t.ok(waitForFile(join(shared, 'done')) || existsSync(join(shared, 'result')), 'the attacker finished');
  const seen: Record<string, string> = {};
  for (const f of readdirSync(shared)) seen[f] = readFileSync(join(shared, f), 'utf8').trim();
  t.equal(env.run(['delete', '--force', attacker]).code, 0);
  return seen;
}

/** A `tsrun init` process other than `init` in init's cgroup (an exec on its way in), or 0. */
function execInCgroupOf(init: number): number {
  let pid = 0;
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d) && Number(d) !== init)) {
    try {
      if (
        readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('tsrun\0init\0') &&
        readFileSync(`/proc/${p}/cgroup`, 'utf8') === readFileSync(`/proc/${init}/cgroup`, 'utf8')
      )
        pid = Number(p);
    } catch {
      // gone meanwhile
    }
  }
  return pid;
}

/**
 * A running container (from `exe`) with an exec'd process held frozen while
 * it is still tsrun: paused, the container freezes the process as soon as
 * it joins the cgroup, before it gets its plan — the window an attacker
 * would race for, held open. Resume the container to let it finish.
 */
async function frozenExec(t: Pick<Tap, 'ok' | 'equal'>, env: Env, exe: string) {
  const id = uniqueId('execvictim');
  const out = openSync(join(env.dir, `${id}.out`), 'a');
  const run = spawnSync(
    exe,
    ['--root', env.root, 'run', '-d', '-b', env.bundle(testConfig(id, ['sleep', '300'])), id],
    { stdio: ['ignore', out, out], env: cleanEnv() },
  );
  closeSync(out);
  t.equal(run.status, 0, 'the victim runs');
  t.equal(env.run(['pause', id]).code, 0);
  const ex = spawn(exe, ['--root', env.root, 'exec', '--ignore-paused', id, 'true'], {
    env: cleanEnv(),
    stdio: 'ignore',
  });
  const exited = new Promise<number | null>((resolve) => ex.on('exit', (code) => resolve(code)));
  const init = initPid(env, id);
  // It stays frozen until resumed: wait as long as a loaded machine needs to get it there.
  const pid = await waitFor(() => execInCgroupOf(init), { timeoutMs: 20000 });
  t.ok(pid > 0, `the exec'd process, frozen before its execve: ${pid}`);
  return { id, ex, exited, pid };
}

/** A seccomp filter that fails open_tree(2) with ENOSYS, around a command: a host without the new mount API. */
const NO_OPEN_TREE = `
import ctypes, struct, sys, os
libc = ctypes.CDLL(None, use_errno=True)
AUDIT_ARCH_X86_64, NR_OPEN_TREE, ENOSYS = 0xC000003E, 428, 38
def insn(code, jt, jf, k): return struct.pack('HBBI', code, jt, jf, k)
prog = b''.join([
  insn(0x20, 0, 0, 4),                      # ld arch
  insn(0x15, 1, 0, AUDIT_ARCH_X86_64),      # jeq x86_64 -> next+1
  insn(0x06, 0, 0, 0x7fff0000),             # other arch: allow
  insn(0x20, 0, 0, 0),                      # ld nr
  insn(0x15, 0, 1, NR_OPEN_TREE),           # jeq open_tree
  insn(0x06, 0, 0, 0x00050000 | ENOSYS),    # errno(ENOSYS)
  insn(0x06, 0, 0, 0x7fff0000),             # allow
])
buf = ctypes.create_string_buffer(prog)
fprog = struct.pack('HxxxxxxQ', len(prog) // 8, ctypes.addressof(buf))
fbuf = ctypes.create_string_buffer(fprog)
assert libc.prctl(38, 1, 0, 0, 0) == 0      # PR_SET_NO_NEW_PRIVS
# PR_SET_SECCOMP, FILTER
assert libc.prctl(22, 2, ctypes.c_void_p(ctypes.addressof(fbuf)), 0, 0) == 0, ctypes.get_errno()
os.execv(sys.argv[1], sys.argv[1:])
`;

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('the init in created: its exe is read-only, its fds are its own', async (t) => {
    const env = testEnv(t);
    const before = sha256(EXECUTABLE);
    const id = uniqueId('created');
    const stdio = join(env.dir, `${id}.out`);
    t.equal(env.run(['create', '-b', env.bundle(testConfig(id, ['true'])), id], { output: stdio }).code, 0);
    const pid = initPid(env, id);

    const fds = readdirSync(`/proc/${pid}/fd`)
      .map(Number)
      .filter((fd) => fd > 2);
    const links = fds.map((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`));
    // The program's stderr is held above 2 while fd 2 is /dev/null (no crash report of the runtime reaches it).
    t.same(
      links.filter(
        (l) =>
          l !== join(env.root, id, 'exec.fifo') &&
          l !== stdio &&
          !/^anon_inode:\[(eventpoll|eventfd|timerfd)\]$/.test(l),
      ),
      [],
      `beyond stdio only the exec fifo, the program's stderr and Bun's event loop: ${links.join(', ')}`,
    );
    t.equal(readlinkSync(`/proc/${pid}/fd/2`), '/dev/null', 'fd 2 is /dev/null while it runs as tsrun');
    t.same(
      fds.filter((fd) => statSync(`/proc/${pid}/fd/${fd}`).isDirectory()),
      [],
      'no directory of the host',
    );
    t.match(
      readFileSync(`/proc/${pid}/cmdline`, 'utf8'),
      /^tsrun\0init\0\d+\0$/,
      'the executable, entered as its init',
    );

    t.match(writeError(`/proc/${pid}/exe`), /^(ETXTBSY|EROFS)$/, 'even host root cannot open it for writing');
    t.equal(
      mountFlags(`/proc/${pid}/exe`) & ST_RDONLY,
      ST_RDONLY,
      'it is on a read-only mount of its own, which outlives the init',
    );
    t.equal(env.run(['delete', id]).code, 0);
    t.equal(sha256(EXECUTABLE), before, 'the executable is unchanged');
    env.done();
  });

  t.test("CVE-2019-5736: a container with CAP_SYS_PTRACE cannot write the init's executable", async (t) => {
    const env = testEnv(t);
    const exe = privateCopy(env);
    const before = sha256(exe);
    const victim = uniqueId('victim');
    const c = createWith(exe, env, victim);
    t.equal(c.code, 0, `the victim is created: ${c.output}`);
    const seen = attack(t, env, victim);
    t.notOk(
      seen.result,
      `the attacker could open the exe for reading (${seen.result ?? ''}), so the writes below are the real test`,
    );
    t.not(seen['code-created'], '0', 'writing /proc/PID/exe while the init waits fails');
    t.match(seen['err-created'], /Text file busy|Read-only file system/, 'with ETXTBSY or EROFS');
    t.not(seen['code-after'], '0', 'reopening it for writing after the init exited fails');
    t.match(seen['err-after'], /Read-only file system/, 'with EROFS');
    t.equal(sha256(exe), before, 'the executable is unchanged');
    env.done();
  });

  t.test('CVE-2019-5736 for exec: the process exec enters with cannot be written either', async (t) => {
    const env = testEnv(t);
    const exe = privateCopy(env);
    const before = sha256(exe);
    const { id, ex, exited, pid } = await frozenExec(t, env, exe);
    const seen = attackPid(t, env, pid, id, () => {
      t.equal(env.run(['resume', id]).code, 0, 'resumed, the exec finishes');
      // The exec command itself runs from the copy too: until it is gone,
      // a write would fail with ETXTBSY whatever the protection.
      t.ok(waitExited(ex.pid!), 'and the exec command has exited');
    });
    t.equal(await exited, 0, 'the exec returned');
    t.notOk(seen.result, `the attacker could open its exe for reading (${seen.result ?? ''})`);
    t.not(seen['code-created'], '0', 'writing it while it waits fails');
    t.not(seen['code-after'], '0', "reopening it for writing after it exec'd fails");
    t.match(seen['err-after'], /Read-only file system/, 'with EROFS');
    t.equal(env.run(['delete', '--force', id]).code, 0);
    t.equal(sha256(exe), before, 'the executable is unchanged');
    env.done();
  });

  t.test("a container process without privileges cannot signal or trace exec's process before it execs", async (t) => {
    const env = testEnv(t);
    const { id, exited, pid } = await frozenExec(t, env, EXECUTABLE);
    const shared = join(env.dir, 'shared-signal');
    mkdirSync(shared, { mode: 0o777 });
    chmodSync(shared, 0o777); // the attacker is uid 1000
    const attacker = uniqueId('unpriv');
    const c = attackerConfig(
      attacker,
      shared,
      'kill -KILL $1 2> /shared/err; echo $? > /shared/kill; ' +
        'cat /proc/$1/environ > /dev/null 2>> /shared/err; echo $? > /shared/read; touch /shared/done; ' +
        'sleep 100',
      [String(pid)],
    );
    c.process!.user = { uid: 1000, gid: 1000 };
    c.process!.capabilities = {};
    t.equal(
      env.run(['run', '-d', '-b', env.bundle(c), attacker], { output: join(env.dir, `${attacker}.out`) }).code,
      0,
      'the attacker runs (uid 1000, no capabilities)',
    );
    t.ok(waitForFile(join(shared, 'done')), 'it tried');
    t.equal(
      readFileSync(join(shared, 'kill'), 'utf8').trim(),
      '1',
      `kill fails: ${readFileSync(join(shared, 'err'), 'utf8').trim()}`,
    );
    t.equal(readFileSync(join(shared, 'read'), 'utf8').trim(), '1', 'and so does reading its memory-backed files');
    t.ok(existsSync(`/proc/${pid}/status`), 'the process is still there');
    t.equal(env.run(['resume', id]).code, 0);
    t.equal(await exited, 0, 'and the exec finishes');
    t.equal(env.run(['delete', '--force', attacker]).code, 0);
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });

  t.test('an image whose entrypoint is /proc/self/exe does not get tsrun to run', async (t) => {
    const env = testEnv(t);
    const before = sha256(EXECUTABLE);
    const id = uniqueId('selfexe');
    const c = testConfig(id, ['/proc/self/exe', 'init', '3']);
    c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'pid');
    const r = env.run(['create', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
    t.equal(r.code, 1, 'create fails');
    t.match(
      r.stderr,
      /exec: "\/proc\/self\/exe": is tsrun's own executable; refusing to run it as the container's process/,
    );
    t.notOk(existsSync(join(env.root, id)), 'no state left');
    t.same(cgroupDirsOf(c.linux!.cgroupsPath!), [], 'no cgroup left');
    t.equal(sha256(EXECUTABLE), before, 'the executable is unchanged');
    env.done();
  });

  t.test('without open_tree (no mount API): a sealed memfd copy, said at debug level', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('memfd');
    const log = join(env.dir, 'debug.log');
    const exe = privateCopy(env);
    const r = createWith(exe, env, id, ['--debug', '--log', log], ['python3', '-c', NO_OPEN_TREE]);
    t.equal(r.code, 0, `create under the filter: ${r.output}`);
    t.match(
      readFileSync(log, 'utf8'),
      /level=debug msg=".*copying the executable to a sealed memfd \(open_tree: ENOSYS\)/,
      'the fallback is logged at debug level, naming the call and errno',
    );
    t.match(readlinkSync(`/proc/${initPid(env, id)}/exe`), /^\/memfd:/, 'the init runs from a memfd');
    const before = sha256(exe);
    const seen = attack(t, env, id);
    t.notOk(seen.result, 'the attacker could open it for reading');
    t.not(seen['code-created'], '0', 'writing it while the init waits fails');
    t.not(seen['code-after'], '0', 'writing it after the init exited fails');
    t.match(seen['err-after'], /Operation not permitted/, 'with EPERM: the copy is sealed');
    t.equal(sha256(exe), before, 'the executable is unchanged');
    env.done();
  });

  t.test('a read-only, noexec /tmp: nothing is extracted there', async (t) => {
    const env = testEnv(t);
    // Everything this test needs lives outside /tmp, which it covers up.
    const base = mkdtempSync('/run/tsrun-test-');
    t.teardown(() => rmSync(base, { recursive: true, force: true }));
    const rootfs = join(base, 'rootfs');
    execFileSync(join(REPO, 'hack', 'mkrootfs.sh'), [rootfs], { stdio: 'ignore' });
    const id = uniqueId('rotmp');
    const c = testConfig(id, ['sh', '-c', 'echo ran-$((6*7))']);
    c.root = { path: rootfs, readonly: true };
    mkdirSync(join(base, 'bundle'));
    writeFileSync(join(base, 'bundle', 'config.json'), JSON.stringify(c));
    // The executable too: the repository may itself be under /tmp.
    const exe = join(base, 'tsrun');
    execFileSync('install', ['-m', '755', EXECUTABLE, exe]);
    const bunFiles = () =>
      readdirSync('/tmp')
        .filter((f) => f.startsWith('.bun-'))
        .sort();
    const bunBefore = bunFiles();
    const script = 'mount -t tmpfs -o ro,noexec,nosuid tmpfs /tmp && exec "$@"';
    const r = spawnSync(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        script,
        'sh',
        exe,
        '--root',
        join(base, 'state'),
        'run',
        '-b',
        join(base, 'bundle'),
        id,
      ],
      {
        encoding: 'utf8',
        env: { ...cleanEnv(), TMPDIR: '/tmp' },
        timeout: 60000,
      },
    );
    t.equal(r.status, 0, `run with /tmp read-only and noexec: ${r.stderr}`);
    t.match(r.stdout, /^ran-42$/m, 'the container ran');
    t.same(readdirSync(join(base, 'state')), [], 'and was deleted');
    t.same(cgroupDirsOf(c.linux!.cgroupsPath!), [], 'no cgroup left');
    t.same(bunFiles(), bunBefore, 'no .bun-* file appeared in the real /tmp either');
    env.done();
  });

  t.test('a copy of the executable alone runs containers', async (t) => {
    const env = testEnv(t);
    // Elsewhere, run from /, with a PATH that has no node: nothing of the
    // repository (build/, node_modules/, dist/*.js) may be needed.
    const copy = join(env.dir, 'bin', 'tsrun');
    mkdirSync(join(env.dir, 'bin'));
    execFileSync('install', ['-m', '755', EXECUTABLE, copy]);
    const id = uniqueId('alone');
    const r = spawnSync(copy, ['--root', env.root, 'create', '-b', env.bundle(testConfig(id, ['true'])), id], {
      cwd: '/',
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
      timeout: 60000,
    });
    t.equal(r.status, 0, `create with the copy: ${r.stderr}`);
    const pid = initPid(env, id);
    const mapped = readFileSync(`/proc/${pid}/maps`, 'utf8')
      .split('\n')
      .map((l) => l.split(/\s+/).slice(5).join(' '))
      .filter((f) => f.startsWith(REPO) || f.startsWith('/tmp/.bun-'));
    t.same([...new Set(mapped)], [], 'its init maps nothing from the repository or /tmp');
    t.equal(
      spawnSync(copy, ['--root', env.root, 'start', id], { env: { PATH: '/usr/bin:/bin' } }).status,
      0,
      'start with the copy',
    );
    t.equal(waitStatus(env, id, 'stopped').status, 'stopped');
    t.equal(env.run(['delete', id]).code, 0);
    env.done();
  });

  t.test('a damaged copy of the executable fails clearly and leaves nothing', async (t) => {
    const env = testEnv(t);
    const size = statSync(EXECUTABLE).size;
    // The payload (Bun's .bun section) is where readelf says; cutting into
    // it is a copy interrupted late, cutting at half one interrupted early.
    const sections = execFileSync('readelf', ['-S', '-W', EXECUTABLE], { encoding: 'utf8' });
    const payload = Number.parseInt(/\s\.bun\s+PROGBITS\s+[0-9a-f]+\s+([0-9a-f]+)/.exec(sections)?.[1] ?? '', 16);
    t.ok(payload > 0 && payload < size, `the payload starts at ${payload}`);
    for (const [name, length, expect] of [
      ['cut into the payload', payload + 1_000_000, 'message'],
      ['cut at half', Math.floor(size / 2), 'signal'],
    ] as const) {
      const copy = join(env.dir, 'tsrun-damaged');
      execFileSync('sh', ['-c', `head -c ${length} "$1" > "$2" && chmod 755 "$2"`, 'sh', EXECUTABLE, copy]);
      const id = uniqueId('damaged');
      const config = testConfig(id, ['true']);
      const r = spawnSync(copy, ['--root', env.root, 'create', '-b', env.bundle(config), id], {
        encoding: 'utf8',
        env: cleanEnv(),
        timeout: 30000,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      if (expect === 'message') {
        t.equal(r.status, 1, `${name}: exit 1`);
        t.match(r.stderr, /is truncated\. Part of its embedded program is missing/, `${name}: Bun says what is wrong`);
      } else {
        t.ok(r.status !== 0, `${name}: it does not run (${r.status ?? r.signal})`);
      }
      t.notOk(existsSync(join(env.root, id)), `${name}: no state left`);
      t.same(cgroupDirsOf(config.linux!.cgroupsPath!), [], `${name}: no cgroup left`);
      rmSync(copy);
    }
    env.done();
  });
}
