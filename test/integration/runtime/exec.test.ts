// tsrun exec through the executable, on real containers: checked from
// inside the exec'd process (namespaces, cgroup, ids, caps, env, cwd, fds,
// rlimits, seccomp) and from outside (exit codes, pid file, paused
// containers, many at once, kill --all, delete --force, bad input).
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync, writeFileSync, existsSync, mkdirSync, openSync, closeSync } from 'node:fs';
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
  TSRUN,
  cleanEnv,
  type Env,
} from '../../helpers/harness';
import type { Spec } from '../../../src/spec/types';
import { drive, SHELL_SESSION, SHELL_SESSION_SIZE, checkShellSession } from '../../helpers/pty';
import { waitFor } from '../../helpers/wait';

/** A running container (sleep) to exec into; returns its id and init pid. */
function running(env: Env, config?: Spec): { id: string; pid: number; config: Spec } {
  const id = uniqueId('ex');
  const c = config ?? testConfig(id, ['sleep', '300']);
  c.linux!.cgroupsPath = testConfig(id, []).linux!.cgroupsPath;
  const r = env.run(['run', '-d', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
  if (r.code !== 0) throw new Error(`run -d: ${r.stderr}`);
  return { id, pid: parseState(env.run(['state', id])).pid as number, config: c };
}

const field = (text: string, name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)?.[1];

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test("the exec'd process is in the container: namespaces, cgroup, pid", async (t) => {
    const env = testEnv(t);
    const { id, pid } = running(env);
    const r = env.run([
      'exec',
      id,
      'sh',
      '-c',
      'for n in ipc mnt net pid uts; do echo "$n $(readlink /proc/self/ns/$n)"; done; echo "pid $$"; ' +
        'cat /proc/self/cgroup',
    ]);
    t.equal(r.code, 0, r.stderr);
    for (const n of ['ipc', 'mnt', 'net', 'pid', 'uts']) {
      t.match(
        r.stdout,
        new RegExp(`^${n} ${readlinkSync(`/proc/${pid}/ns/${n}`).replace(/[[\]]/g, '\\$&')}$`, 'm'),
        `${n} namespace is the init's`,
      );
    }
    t.notMatch(r.stdout, /^pid 1$/m, "not pid 1: a second process of the container's pid namespace");
    const own = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim();
    t.ok(r.stdout.includes(own), "its /proc/self/cgroup is the init's");
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });

  t.test('exec into a container with a user namespace: joined first, as its root', async (t) => {
    const env = testEnv(t);
    const c = testConfig('x', ['sleep', '300']);
    c.linux!.namespaces!.push({ type: 'user' });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const { id, pid } = running(env, c);
    const r = env.run([
      'exec',
      id,
      'sh',
      '-c',
      'id -u; cat /proc/self/uid_map; readlink /proc/self/ns/user; readlink /proc/self/ns/mnt',
    ]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^0\n\s*0\s+100000\s+65536\n/, "root of the container's mapping");
    t.match(
      r.stdout,
      new RegExp(readlinkSync(`/proc/${pid}/ns/user`).replace(/[[\]]/g, '\\$&')),
      "the init's user namespace",
    );
    t.match(
      r.stdout,
      new RegExp(readlinkSync(`/proc/${pid}/ns/mnt`).replace(/[[\]]/g, '\\$&')),
      'and its mount namespace, entered from there',
    );
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });

  t.test('the process as asked: user, gids, caps, env, cwd, umask, rlimits, no_new_privs, seccomp, fds', async (t) => {
    const env = testEnv(t);
    const c = testConfig('x', ['sleep', '300']);
    c.process!.env = ['PATH=/bin', 'KEEP=1', 'FOO=old'];
    c.process!.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 200, soft: 100 }];
    c.process!.noNewPrivileges = false;
    c.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdirat', 'mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    };
    const { id } = running(env, c);
    const script =
      'id; echo "env FOO=$FOO KEEP=$KEEP"; echo "cwd $(pwd)"; echo "umask $(umask)"; ' +
      'echo "nofile $(ulimit -n)"; grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp|SigIgn):" /proc/self/status; ' +
      'mkdir /tmp/x 2>&1 | head -1; ls /proc/self/fd | tr "\\n" " "; echo';
    const r = env.run([
      'exec',
      '--user',
      '1000:1001',
      '-g',
      '5',
      '-g',
      '7',
      '--cap',
      'CAP_SYS_ADMIN',
      '--env',
      'FOO=new',
      '-e',
      'BAR=2',
      '--cwd',
      '/bin',
      '--no-new-privs',
      id,
      'sh',
      '-c',
      script,
    ]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^uid=1000 gid=1001 groups=5,7/m, 'uid, gid, additional gids');
    t.match(r.stdout, /^env FOO=new KEEP=1$/m, "--env replaces, the config's env stays");
    t.match(r.stdout, /^cwd \/bin$/m);
    t.match(r.stdout, /^nofile 100$/m, "the config's rlimits");
    t.equal(
      BigInt(`0x${field(r.stdout, 'CapBnd')}`) & (1n << 21n),
      1n << 21n,
      'bit 21 (CAP_SYS_ADMIN) is in the bounding set',
    );
    t.equal(field(r.stdout, 'NoNewPrivs'), '1', '--no-new-privs');
    t.equal(field(r.stdout, 'Seccomp'), '2', "the container's seccomp filter");
    t.match(r.stdout, /Operation not permitted/, 'and it acts: mkdir fails with its errno');
    t.equal(field(r.stdout, 'SigIgn'), '0000000000000000', 'no signal ignored');
    t.match(r.stdout, /^0 1 2 3 $/m, 'only stdio reaches it (3 is ls reading the directory)');
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });

  t.test("HOME, when the env has none, from the container's /etc/passwd for the exec user, as runc", async (t) => {
    const env = testEnv(t);
    const { id } = running(env);
    const home = (args: string[]) =>
      env.run(['exec', ...args, id, 'sh', '-c', 'echo "home=${HOME-unset}"']).stdout.trim();
    t.equal(home([]), 'home=/root', "the config's user, uid 0");
    t.equal(home(['--user', '65534:65534']), 'home=/nonexistent', "--user: that user's entry");
    t.equal(home(['--user', '4321']), 'home=/', 'no entry: /');
    t.equal(home(['--env', 'HOME=/mine']), 'home=/mine', 'an explicit HOME is kept');
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });

  t.test('umask, preserved fds, forwarded signals', async (t) => {
    const env = testEnv(t);
    const c = testConfig('x', ['sleep', '300']);
    c.process!.user = { uid: 0, gid: 0, umask: 0o027 };
    const { id } = running(env, c);
    t.equal(env.run(['exec', id, 'sh', '-c', 'umask']).stdout, '0027\n', "the config's umask");
    // fd 3 of tsrun, a file of the test's, handed over with --preserve-fds 1.
    const file = join(env.dir, 'preserved');
    const fd = openSync(file, 'w');
    const r = spawnSync(
      TSRUN,
      [
        '--root',
        env.root,
        'exec',
        '--preserve-fds',
        '1',
        id,
        'sh',
        '-c',
        'ls /proc/self/fd | tr "\\n" " "; echo written >&3',
      ],
      { stdio: ['ignore', 'pipe', 'pipe', fd], encoding: 'utf8', env: cleanEnv() },
    );
    closeSync(fd);
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /^0 1 2 3 4 $/, 'stdio, the preserved fd 3 (and 4, ls reading the directory)');
    t.equal(readFileSync(file, 'utf8'), 'written\n', 'the process wrote to the preserved fd');
    const fg = spawn(
      TSRUN,
      [
        '--root',
        env.root,
        'exec',
        id,
        'sh',
        '-c',
        'trap "echo got-term; exit 7" TERM; echo armed >&2; while :; do sleep 0.05; done',
      ],
      { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    fg.stdout.on('data', (d) => (out += d));
    fg.stderr.on('data', (d) => (err += d));
    // Once the trap is set (a fixed delay was too short on a loaded machine).
    t.ok(await waitFor(() => err.includes('armed'), { timeoutMs: 30000 }), 'the process runs, its trap set');
    fg.kill('SIGTERM');
    t.equal(
      await new Promise((res) => fg.on('close', res)),
      7,
      "SIGTERM to tsrun reached the process, whose status is tsrun's",
    );
    t.equal(out, 'got-term\n');
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });

  t.test('--preserve-fds 2: fd 4 is handed over too (runc\'s exec.bats "runc exec --preserve-fds")', async (t) => {
    // Bun marks every inherited fd from 4 up close-on-exec before tsrun runs a
    // line: the flag no longer tells the caller's fds from tsrun's own there.
    const env = testEnv(t);
    const { id } = running(env);
    const file = join(env.dir, 'preserve-fds.test');
    writeFileSync(file, 'hello\n');
    const fd3 = openSync('/dev/null', 'w');
    const fd4 = openSync(file, 'r');
    const stdio = (...extra: number[]) => ['ignore', 'pipe', 'pipe', ...extra] as ('ignore' | 'pipe' | number)[];
    const exec = (args: string[], extra: number[]) =>
      spawnSync(TSRUN, ['--root', env.root, 'exec', ...args], {
        stdio: stdio(...extra),
        encoding: 'utf8',
        env: cleanEnv(),
      });
    try {
      const r = exec(['--preserve-fds=2', id, 'cat', '/proc/self/fd/4'], [fd3, fd4]);
      t.equal(r.status, 0, r.stderr);
      t.equal(r.stdout, 'hello\n', 'the process reads the file the caller opened at fd 4');
      const five = exec(
        ['--preserve-fds', '3', id, 'sh', '-c', 'cat <&5; ls /proc/self/fd | tr "\\n" " "'],
        [fd3, fd4, fd4],
      );
      t.equal(five.status, 0, five.stderr);
      t.equal(five.stdout, 'hello\n0 1 2 3 4 5 6 ', "fds 3, 4 and 5 (and ls's own)");
      // The caller passes fd 3 only: fd 4 is the first tsrun made for itself (Bun's event loop).
      const gap = exec(['--preserve-fds', '2', id, 'true'], [fd3]);
      t.equal(gap.status, 255, 'exec itself failed: 255, as runc exec');
      t.match(gap.stderr, /--preserve-fds 2: fd 4 was not passed to tsrun \(it is tsrun's own: its event loop\)/);
      const none = exec(['--preserve-fds', '1', id, 'true'], []);
      t.match(none.stderr, /--preserve-fds 1: fd 3 was not passed to tsrun \(it is tsrun's own: close-on-exec\)/);
      // create takes the same check: run --preserve-fds 2.
      const runId = uniqueId('pf');
      const c = testConfig(runId, ['sh', '-c', 'cat /proc/self/fd/4']);
      const run = spawnSync(TSRUN, ['--root', env.root, 'run', '--preserve-fds', '2', '-b', env.bundle(c), runId], {
        stdio: stdio(fd3, fd4),
        encoding: 'utf8',
        env: cleanEnv(),
      });
      t.equal(run.status, 0, run.stderr);
      t.equal(run.stdout, 'hello\n', "run --preserve-fds 2: fd 4 reaches the container's process");
    } finally {
      closeSync(fd3);
      closeSync(fd4);
    }
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });

  t.test('exit codes, --detach and --pid-file, --process', async (t) => {
    const env = testEnv(t);
    const { id } = running(env);
    t.equal(env.run(['exec', id, 'sh', '-c', 'exit 42']).code, 42, 'its exit status');
    t.equal(
      env.run(['exec', '--user', 'nobody', id, 'sh', '-c', 'echo $(id -u):$(id -g)']).stdout,
      '65534:65534\n',
      "--user NAME: the container's passwd",
    );
    t.equal(
      env.run(['exec', '--user', 'nobody:root', id, 'sh', '-c', 'echo $(id -u):$(id -g)']).stdout,
      '65534:0\n',
      '--user NAME:GROUP',
    );
    t.equal(
      env.run(['exec', '--user', '65534', id, 'sh', '-c', 'echo $(id -u):$(id -g)']).stdout,
      '65534:65534\n',
      'a uid alone takes its passwd gid',
    );
    t.equal(env.run(['exec', id, 'sh', '-c', 'kill -KILL $$']).code, 137, '128+signal when killed');
    const pidFile = join(env.dir, 'exec.pid');
    t.equal(env.run(['exec', '-d', '--pid-file', pidFile, id, 'sleep', '100']).code, 0, '-d returns');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    t.equal(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), 'sleep\x00100\x00', 'the pid file names the running process');
    const proc = join(env.dir, 'process.json');
    writeFileSync(
      proc,
      JSON.stringify({
        args: ['sh', '-c', 'echo "from $0 $X"'],
        env: ['X=json', 'PATH=/bin'],
        cwd: '/',
        user: { uid: 0, gid: 0 },
      }),
    );
    const p = env.run(['exec', '--process', proc, id]);
    t.equal(p.code, 0, p.stderr);
    t.equal(p.stdout, 'from sh json\n', 'the process.json is the process');
    t.equal(env.run(['delete', '--force', id]).code, 0);
    t.notOk(
      existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')),
      'delete --force killed the detached exec',
    );
    env.done();
  });

  t.test('paused containers, kill --all, many execs at once, delete --force during an exec', async (t) => {
    const env = testEnv(t);
    const { id, config } = running(env);
    t.equal(env.run(['pause', id]).code, 0);
    const paused = env.run(['exec', id, 'true']);
    t.equal(paused.code, 255, 'exec itself failed: 255, as runc');
    t.match(paused.stderr, /cannot exec in a paused container/);
    // Allowed, and frozen with the container until it resumes.
    const ignoring = spawn(TSRUN, ['--root', env.root, 'exec', '--ignore-paused', id, 'echo', 'thawed'], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let thawed = '';
    ignoring.stdout.on('data', (d) => (thawed += d));
    await new Promise((r) => setTimeout(r, 300));
    t.equal(env.run(['resume', id]).code, 0);
    t.equal(await new Promise((resolve) => ignoring.on('close', resolve)), 0, '--ignore-paused');
    t.equal(thawed, 'thawed\n', 'it ran once resumed');

    const runs = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) =>
          new Promise<string>((resolve) => {
            let out = '';
            const c = spawn(TSRUN, ['--root', env.root, 'exec', id, 'sh', '-c', `echo n${i}`], {
              env: cleanEnv(),
              stdio: ['ignore', 'pipe', 'pipe'],
            });
            c.stdout.on('data', (d) => (out += d));
            c.on('close', (code) => resolve(`${code}:${out.trim()}`));
          }),
      ),
    );
    t.same(
      runs,
      Array.from({ length: 20 }, (_, i) => `0:n${i}`),
      '20 concurrent execs all complete',
    );
    const zombies = env.run(['exec', id, 'sh', '-c', 'cat /proc/[0-9]*/stat 2>/dev/null | grep -c ") Z " || true']);
    t.equal(zombies.stdout.trim(), '0', 'no zombie left in the container');

    const pidFile = join(env.dir, 'long.pid');
    t.equal(env.run(['exec', '-d', '--pid-file', pidFile, id, 'sleep', '200']).code, 0);
    const long = Number(readFileSync(pidFile, 'utf8'));
    t.equal(env.run(['kill', '--all', id, 'KILL']).code, 0);
    t.equal(waitStatus(env, id, 'stopped').status, 'stopped');
    await waitFor(() => !existsSync(`/proc/${long}`) || /\) Z /.test(readFileSync(`/proc/${long}/stat`, 'utf8')), {
      timeoutMs: 5000,
    });
    t.notOk(
      existsSync(`/proc/${long}/status`) && !/\) Z /.test(readFileSync(`/proc/${long}/stat`, 'utf8')),
      "kill --all killed the exec'd process too",
    );
    t.equal(env.run(['delete', id]).code, 0);

    const second = running(env);
    const fg = spawn(TSRUN, ['--root', env.root, 'exec', second.id, 'sleep', '200'], {
      env: cleanEnv(),
      stdio: 'ignore',
    });
    await new Promise((r) => setTimeout(r, 300));
    t.equal(env.run(['delete', '--force', second.id]).code, 0, 'delete --force with an exec running');
    const code = await new Promise<number | null>((resolve) => fg.on('exit', (c, s) => resolve(c ?? (s ? 128 : null))));
    t.not(code, 0, 'the foreground exec ends with its killed process');
    t.same(cgroupDirsOf(second.config.linux!.cgroupsPath!), [], 'no cgroup left');
    t.same(cgroupDirsOf(config.linux!.cgroupsPath!), [], 'no cgroup left of the first either');
    env.done();
  });

  t.test('bad input: a clear error, nothing left running', async (t) => {
    const env = testEnv(t);
    const { id, pid } = running(env);
    const procs = () =>
      readFileSync(join(cgroupDirsOf(testConfig(id, []).linux!.cgroupsPath!)[0], 'cgroup.procs'), 'utf8')
        .trim()
        .split('\n')
        .sort();
    const before = procs();
    const bad = join(env.dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ args: ['true'], cwd: 'relative', user: { uid: 'x' } }));
    const notJson = join(env.dir, 'not.json');
    writeFileSync(notJson, '{');
    const cases: [string[], RegExp][] = [
      [['exec', 'nope', 'true'], /container does not exist: nope/],
      [['exec', id], /args must not be empty/],
      [['exec', '--process', notJson, id], /--process .*not\.json: .*JSON/],
      [['exec', '--process', bad, id], /bad\.json: \/cwd: must match pattern/],
      [['exec', '--process', bad, id], /bad\.json: \/user\/uid: must be integer/],
      [
        ['exec', '--user', 'nosuchuser', id, 'true'],
        /--user "nosuchuser": no user "nosuchuser" in the container's \/etc\/passwd/,
      ],
      [['exec', '--user', '0:nosuchgroup', id, 'true'], /no group "nosuchgroup" in the container's \/etc\/group/],
      [['exec', '--user', 'a:b:c', id, 'true'], /--user "a:b:c": must be user\[:group\]/],
      [['exec', '--preserve-fds', '3', id, 'true'], /--preserve-fds 3: fd \d+ (is not open|was not passed to tsrun)/],
      [['exec', id, '/nonexistent'], /exec: "\/nonexistent": /],
      [['exec', '--cwd', '/proc/self/fd/4', id, 'true'], /cwd/],
      [['exec', id, '/proc/self/exe', 'init', '3'], /is tsrun's own executable; refusing/],
      [['exec', '--console-socket', join(env.dir, 'none.sock'), '-t', id, 'true'], /--console-socket .*none\.sock/],
    ];
    for (const [args, pattern] of cases) {
      const r = env.run(args);
      t.not(r.code, 0, `${args.join(' ')}: fails`);
      t.match(r.stderr, pattern, `${args.join(' ')}: says why`);
    }
    // Issue 18: an unknown --cap is ignored with a warning, as runc does (it used to be refused).
    const cap = env.run(['exec', '--cap', 'CAP_NOPE', id, 'true']);
    t.equal(cap.code, 0, 'exec --cap CAP_NOPE runs');
    t.match(
      cap.stderr,
      /process: \/capabilities\/bounding\/\d+: ignoring unknown or unavailable capabilities: \\"CAP_NOPE\\" is not/,
    );
    t.same(procs(), before, 'nothing left running in the container');
    t.ok(existsSync(`/proc/${pid}`), 'the container still runs');
    t.equal(env.run(['delete', '--force', id]).code, 0);
    const stopped = env.run(['exec', id, 'true']);
    t.match(stopped.stderr, /container does not exist/, 'after delete');
    env.done();
  });

  t.test("exec -t without a console socket: the caller's terminal, as runc", async (t) => {
    const env = testEnv(t);
    const { id } = running(env);
    const r = drive([TSRUN, '--root', env.root, 'exec', '-t', id, 'sh'], SHELL_SESSION, SHELL_SESSION_SIZE);
    checkShellSession(t, r, 'tsrun exec -t');
    t.equal(r.termiosRestored, true, "the caller's terminal is restored");
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });

  t.test("--cgroup: a sub-cgroup of the container's, in every hierarchy or one controller's", async (t) => {
    const env = testEnv(t);
    const { id, config } = running(env);
    const dirs = cgroupDirsOf(config.linux!.cgroupsPath!);
    for (const d of dirs) {
      mkdirSync(join(d, 'sub'));
      // A v1 cpuset starts empty and takes no process until it has cpus and mems.
      for (const f of ['cpuset.cpus', 'cpuset.mems'])
        if (existsSync(join(d, f))) writeFileSync(join(d, 'sub', f), readFileSync(join(d, f)));
    }
    const all = env.run(['exec', '--cgroup', 'sub', id, 'cat', '/proc/self/cgroup']);
    t.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trim().split('\n');
    t.ok(lines.length > 0 && lines.every((l) => l.endsWith('/sub')), `every hierarchy: ${all.stdout}`);
    const one = env.run(['exec', '--cgroup', 'memory:sub', id, 'cat', '/proc/self/cgroup']);
    t.equal(one.code, 0, one.stderr);
    t.match(one.stdout, /^\d+:memory:.*\/sub$/m, 'memory: the sub-cgroup');
    t.match(one.stdout, /^\d+:pids:.*[^b]$/m, "the others: the container's");
    for (const [flag, pattern] of [
      ['../x', /leaves the container's cgroup/],
      [
        'nosuch',
        /error adding pid \d+ to cgroups: write \/.*\/nosuch\/cgroup\.procs: no such file or directory \(ENOENT\)/,
      ],
      ['nope:sub', /unknown controller nope: the container's cgroup has no such controller/],
    ] as const) {
      const r = env.run(['exec', '--cgroup', flag, id, 'true']);
      t.not(r.code, 0, `--cgroup ${flag} fails`);
      t.match(r.stderr, pattern);
    }
    t.equal(env.run(['delete', '--force', id]).code, 0);
    t.same(cgroupDirsOf(config.linux!.cgroupsPath!), [], 'delete removed the sub-cgroups too');
    env.done();
  });

  t.test('a leaked fd cannot be the cwd (CVE-2024-21626): --cwd /proc/self/fd/N for N = 3..15', async (t) => {
    const env = testEnv(t);
    const { id } = running(env);
    for (let n = 3; n <= 15; n++) {
      const r = env.run(['exec', '--cwd', `/proc/self/fd/${n}`, id, 'pwd']);
      t.not(r.code, 0, `fd ${n}: refused (${r.stderr.trim()})`);
    }
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });
}
