// What the program sees from inside the container: ids, capabilities,
// hostname, rlimits, mounts, fds, env, cwd, signal dispositions.
import t from 'tap';
import { readFileSync, writeFileSync, openSync, closeSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  isRoot,
  ROOT_REASON,
  testEnv,
  testConfig,
  uniqueId,
  TSRUN,
  cleanEnv,
  type Env,
  testCgroupPath,
} from '../../helpers/harness';
import type { Spec } from '../../../src/spec/types';

/** Run `script` in a container made from `config` in the foreground; return its output and exit code. */
function inside(env: Env, config: Spec, script: string): { code: number | null; out: string } {
  const id = uniqueId('in');
  config.process!.args = ['sh', '-c', script];
  config.linux!.cgroupsPath = testCgroupPath(id);
  const out = join(env.dir, `${id}.out`);
  const r = env.run(['run', '-b', env.bundle(config), id], { output: out });
  return { code: r.code, out: readFileSync(out, 'utf8') };
}

function statusField(out: string, field: string): string {
  return new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(out)?.[1]?.trim() ?? '';
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('identity, capabilities, hostname, env, cwd', async (t) => {
    const env = testEnv(t);
    const c = testConfig('x', []);
    c.hostname = 'tsrun-host';
    c.process!.user = { uid: 1000, gid: 1000, additionalGids: [10, 20], umask: 0o027 };
    c.process!.env = ['PATH=/bin', 'FOO=bar baz'];
    c.process!.cwd = '/work/dir';
    // A non-root program keeps capabilities across execve only through the ambient set.
    c.process!.capabilities = {
      bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      effective: ['CAP_KILL', 'CAP_CHOWN'],
      permitted: ['CAP_KILL', 'CAP_CHOWN'],
      inheritable: ['CAP_KILL'],
      ambient: ['CAP_KILL'],
    };
    c.process!.noNewPrivileges = true;
    c.process!.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 512, soft: 256 }];
    c.root!.readonly = false;
    const r = inside(
      env,
      c,
      'cat /proc/$$/status; echo host=$(hostname); echo foo=$FOO; echo cwd=$(pwd); echo nofile=$(ulimit -n); ' +
        'echo fds=$(ls /proc/self/fd | tr "\\n" " ")',
    );
    t.equal(r.code, 0, r.out);
    t.equal(statusField(r.out, 'Uid'), '1000\t1000\t1000\t1000');
    t.equal(statusField(r.out, 'Gid'), '1000\t1000\t1000\t1000');
    t.equal(statusField(r.out, 'Groups'), '10 20');
    t.equal(statusField(r.out, 'Umask'), '0027');
    // CAP_CHOWN=0, CAP_KILL=5, CAP_NET_BIND_SERVICE=10
    t.equal(statusField(r.out, 'CapBnd'), (1n | (1n << 5n) | (1n << 10n)).toString(16).padStart(16, '0'));
    const kill = (1n << 5n).toString(16).padStart(16, '0');
    t.equal(statusField(r.out, 'CapEff'), kill, 'effective after execve: the ambient set');
    t.equal(statusField(r.out, 'CapPrm'), kill);
    t.equal(statusField(r.out, 'CapInh'), kill);
    t.equal(statusField(r.out, 'CapAmb'), kill);
    t.equal(statusField(r.out, 'NoNewPrivs'), '1');
    t.equal(statusField(r.out, 'Pid'), '1', 'the program is pid 1 of its pid namespace');
    t.match(r.out, /^host=tsrun-host$/m);
    t.match(r.out, /^foo=bar baz$/m);
    t.match(r.out, /^cwd=\/work\/dir$/m, 'cwd is created when missing');
    t.match(r.out, /^nofile=256$/m);
    // ls itself opens one fd (3, the directory it reads); nothing else may be open.
    t.match(r.out, /^fds=0 1 2 3\s*$/m, 'only stdio reaches the program (3 is ls reading the directory)');
    env.done();
  });

  t.test("HOME, when the env has none, from the container's /etc/passwd, as runc", async (t) => {
    const env = testEnv(t);
    const passwd = join(env.dir, 'passwd');
    writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/sh\napp:x:1234:1234:app:/home/app:/bin/sh\n');
    const home = (uid: number, extraEnv: string[] = [], customPasswd = false) => {
      const c = testConfig('x', []);
      c.process!.user = { uid, gid: uid };
      c.process!.env = ['PATH=/bin', ...extraEnv];
      if (customPasswd)
        c.mounts!.push({ destination: '/etc/passwd', type: 'bind', source: passwd, options: ['bind', 'ro'] });
      const r = inside(env, c, 'echo "home=${HOME-unset}"');
      t.equal(r.code, 0, r.out);
      return /^home=(.*)$/m.exec(r.out)?.[1];
    };
    t.equal(home(0), '/root', "uid 0: the image's entry");
    t.equal(home(65534), '/nonexistent', 'another entry of the image');
    t.equal(home(1234, [], true), '/home/app', 'an entry only the container has: read inside it');
    t.equal(home(4321), '/', 'no entry: /');
    t.equal(home(0, ['HOME=/mine']), '/mine', 'an explicit HOME is kept');
    env.done();
  });

  t.test('signal dispositions and mask are reset', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('sig');
    // No shell in between: busybox sh ignores SIGQUIT itself.
    const c = testConfig(id, ['cat', '/proc/self/status']);
    const out = join(env.dir, 'sig.out');
    const r = env.run(['run', '-b', env.bundle(c), id], { output: out });
    const text = readFileSync(out, 'utf8');
    t.equal(r.code, 0, text);
    t.equal(
      statusField(text, 'SigIgn'),
      '0000000000000000',
      'no signal ignored (node ignores SIGPIPE and SIGXFSZ; the program must not)',
    );
    t.equal(statusField(text, 'SigBlk'), '0000000000000000', 'no signal blocked');
    env.done();
  });

  t.test('stdio pipes reach the program blocking', async (t) => {
    // Bun's process.stdout/stderr (and node's) set O_NONBLOCK on the pipe
    // description they wrap; the program shares it, and would see EAGAIN.
    const env = testEnv(t);
    const id = uniqueId('nonblock');
    const r = env.run([
      'run',
      '-b',
      env.bundle(
        testConfig(id, ['sh', '-c', 'grep ^flags: /proc/self/fdinfo/0 /proc/self/fdinfo/1 /proc/self/fdinfo/2']),
      ),
      id,
    ]);
    t.equal(r.code, 0, r.stderr);
    const flags = [...r.stdout.matchAll(/fdinfo\/(\d):flags:\s+([0-7]+)/g)].map(
      (m) => [m[1], Number.parseInt(m[2], 8)] as const,
    );
    t.equal(flags.length, 3, `fdinfo of 0, 1 and 2: ${r.stdout}`);
    const O_NONBLOCK = 0o4000;
    for (const [fd, f] of flags) t.equal(f & O_NONBLOCK, 0, `fd ${fd} is blocking`);
    env.done();
  });

  t.test('mounts, read-only root, masked and read-only paths', async (t) => {
    const env = testEnv(t);
    const c = testConfig('x', []);
    c.root!.readonly = true;
    const r = inside(
      env,
      c,
      'cat /proc/self/mountinfo; echo tl=$(wc -c < /proc/timer_list); touch /x 2>/dev/null && echo rootrw ' +
        '|| echo rootro; echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo sysrw || echo sysro; ' +
        'ls -l /dev/null /dev/zero /dev/ptmx /dev/fd',
    );
    t.equal(r.code, 0, r.out);
    const mounts = r.out.split('\n').filter((l) => /^\d+ \d+ /.test(l));
    const at = (p: string) => mounts.find((l) => l.split(' ')[4] === p);
    t.match(at('/') ?? '', / ro[, ]/, 'root is read-only');
    t.match(at('/proc') ?? '', / - proc /, '/proc is procfs');
    t.match(at('/dev') ?? '', / - tmpfs /, '/dev is a tmpfs');
    t.match(at('/dev/pts') ?? '', / - devpts /, '/dev/pts is devpts');
    t.match(at('/dev/shm') ?? '', / - tmpfs /, '/dev/shm is a tmpfs');
    t.match(r.out, /^tl=0$/m, 'masked /proc/timer_list reads empty');
    t.match(r.out, /^rootro$/m, 'writing the root fails');
    t.match(r.out, /^sysro$/m, '/proc/sys is read-only');
    t.match(r.out, /crw-rw-rw-\s+1 root\s+root\s+1,\s+3 .* \/dev\/null/, '/dev/null is the null device');
    t.match(r.out, /\/dev\/fd -> \/proc\/self\/fd/, '/dev/fd symlink');
    t.match(r.out, /\/dev\/ptmx -> pts\/ptmx/, '/dev/ptmx symlink');
    env.done();
  });

  t.test('time namespace with offsets', async (t) => {
    const env = testEnv(t);
    const c = testConfig('x', []);
    c.linux!.namespaces!.push({ type: 'time' });
    c.linux!.timeOffsets = { boottime: { secs: 10 * 86400, nanosecs: 0 }, monotonic: { secs: 5 * 86400, nanosecs: 0 } };
    const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const r = inside(env, c, 'cut -d" " -f1 /proc/uptime; cat /proc/self/timens_offsets');
    t.equal(r.code, 0, r.out);
    const uptime = Number(r.out.split('\n')[0]);
    t.ok(uptime >= hostUptime + 10 * 86400 - 1, `boottime shifted by 10 days (${uptime} vs host ${hostUptime})`);
    t.match(r.out, /^monotonic\s+432000\s+0$/m, 'monotonic offset');
    env.done();
  });

  t.test('scheduler, CPU affinity and personality', async (t) => {
    const env = testEnv(t);
    const c = testConfig('x', []);
    c.process!.scheduler = { policy: 'SCHED_BATCH', nice: 5 };
    // config.md 1.3: "not applicable to the container's init process" (exec's: runtime/cpu-affinity.test.ts).
    c.process!.execCPUAffinity = { initial: '0', final: '0' };
    c.linux!.personality = { domain: 'LINUX32' };
    const r = inside(
      env,
      c,
      'grep -E "^policy" /proc/self/sched; grep Cpus_allowed_list /proc/self/status; uname -m; ' +
        'cut -d" " -f19 /proc/self/stat',
    );
    t.equal(r.code, 0, r.out);
    t.match(r.out, /^policy\s+:\s+3$/m, 'SCHED_BATCH');
    const ours = statusField(readFileSync('/proc/self/status', 'utf8'), 'Cpus_allowed_list');
    t.equal(statusField(r.out, 'Cpus_allowed_list'), ours, 'execCPUAffinity does not pin the init');
    t.match(r.out, /^i686$/m, 'LINUX32 personality');
    t.match(r.out, /^5$/m, 'nice 5');
    env.done();
  });

  t.test('start reports what stopped the init after it was released', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('startfail');
    const c = testConfig(id, ['true']);
    c.hooks = { startContainer: [{ path: '/bin/false' }] };
    const out = join(env.dir, 'sf.out');
    t.equal(env.run(['create', '-b', env.bundle(c), id], { output: out }).code, 0, 'create succeeds');
    const r = env.run(['start', id]);
    t.equal(r.code, 1, 'start fails when a startContainer hook fails');
    t.match(r.stderr, /startContainer hook 0 \(\/bin\/false\)/);
    t.equal(env.run(['delete', id]).code, 0);
    env.done();
  });

  t.test("without a mount namespace the caller's root and mounts are left alone", async (t) => {
    const env = testEnv(t);
    const c = testConfig('x', []);
    c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'mount');
    c.linux!.maskedPaths = [];
    c.linux!.readonlyPaths = [];
    c.root!.readonly = false;
    c.mounts = [{ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' }];
    const mountsBefore = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => / \/ \/ /.test(l));
    const r = inside(env, c, 'ls /bin/busybox && grep -c " /tmp " /proc/self/mountinfo || true');
    t.equal(r.code, 0, r.out);
    t.match(r.out, /^\/bin\/busybox$/m, "the program ran chroot'ed in the rootfs");
    t.ok(existsSync('/usr/bin') && existsSync('/etc/passwd'), 'the caller still sees the host root');
    t.same(
      readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .filter((l) => / \/ \/ /.test(l)),
      mountsBefore,
      'the host root mount is unchanged',
    );
    env.done();
  });

  t.test('--preserve-fds hands extra fds to the program', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('fds');
    const c = testConfig(id, ['sh', '-c', 'cat <&3; ls /proc/self/fd | tr "\\n" " "']);
    const bundle = env.bundle(c);
    const extra = join(env.dir, 'extra');
    writeFileSync(extra, 'from fd 3\n');
    const out = join(env.dir, 'out');
    const outFd = openSync(out, 'a');
    const extraFd = openSync(extra, 'r');
    const r = spawnSync(TSRUN, ['--root', env.root, 'run', '--preserve-fds', '1', '-b', bundle, id], {
      stdio: ['ignore', outFd, outFd, extraFd],
      env: cleanEnv(),
    });
    closeSync(outFd);
    closeSync(extraFd);
    const text = readFileSync(out, 'utf8');
    t.equal(r.status, 0, text);
    t.match(text, /^from fd 3$/m);
    t.match(text, /^0 1 2 3 4 $/m, "stdio, the preserved fd and ls's own");
    env.done();
  });

  t.test('user namespace with id mappings', async (t) => {
    const env = testEnv(t);
    const c = testConfig('x', []);
    c.linux!.namespaces!.push({ type: 'user' });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.root!.readonly = false;
    const r = inside(env, c, 'cat /proc/self/uid_map /proc/self/gid_map; id -u; grep CapEff /proc/self/status');
    t.equal(r.code, 0, r.out);
    t.match(r.out, /^\s*0\s+100000\s+65536$/m, 'uid_map as configured');
    t.match(r.out, /^0$/m, 'uid 0 inside');
    t.notMatch(r.out, /CapEff:\s+0000000000000000/, 'keeps capabilities inside its user namespace');
    env.done();
  });
}
