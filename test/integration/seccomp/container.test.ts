// seccomp in real containers made by bin/tsrun: what the program sees
// (busybox's own error messages and exit codes), and the same bundle under
// runc when it is installed, which must give the same output.
import t, { type Test } from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testEnv, testConfig, type Env } from '../../helpers/harness';
import type { LinuxSeccomp, Spec } from '../../../src/spec/types';
import { fromDockerProfile, DOCKER_DEFAULT_CAPS } from '../../../src/seccomp/docker-profile';
import { ARCHES } from '../../../src/seccomp/arch';
import {
  runTsrun,
  runRunc,
  cleanupRunc,
  hasRunc,
  buildProbes,
  withProbes,
  probeRet,
  type Outcome,
  type Probes,
} from '../../helpers/seccomp-container';
import { skipBecause } from '../../helpers/skip';

const DOCKER_PROFILE = '/usr/share/containers/seccomp.json';

function config(seccomp: LinuxSeccomp, edit?: (c: Spec) => void): Spec {
  const c = testConfig('x', []);
  c.linux!.seccomp = seccomp;
  edit?.(c);
  return c;
}

/** Lines in order: `runc run` copies stdout and stderr through two pipes, so their interleaving differs. */
// The container's output; the runtimes' own log lines (warnings differ on purpose) are checked apart.
const runtimeLog = /^time="[^"]*" level=/;
const lines = (o: Outcome) => ({
  code: o.code,
  lines: o.out
    .split('\n')
    .filter((l) => l && !runtimeLog.test(l))
    .sort(),
});

/** Run in tsrun, then in runc (if installed), and expect runc to agree. */
function both(t: Test, env: Env, c: Spec, args: string[]): Outcome {
  const mine = runTsrun(env, JSON.parse(JSON.stringify(c)), args);
  const theirs = runRunc(env, c, args);
  if (theirs) t.same(lines(theirs), lines(mine), 'runc gives the same exit code and output');
  else t.comment('runc is not installed: no comparison');
  return mine;
}

function setup(t: Test): Env {
  const env = testEnv(t);
  t.teardown(() => cleanupRunc(env));
  return env;
}

const field = (out: string, name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(out)?.[1];

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  if (!hasRunc) t.comment('runc is not installed: tsrun is checked alone');

  t.test('mkdir fails with EPERM, or with the errnoRet given', async (t) => {
    const env = setup(t);
    const script = 'mkdir /dev/shm/d; echo rc=$?; ls /dev/shm; grep ^Seccomp /proc/self/status';
    const eperm = both(
      t,
      env,
      config({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat', 'no_such_syscall'], action: 'SCMP_ACT_ERRNO' }],
      }),
      ['sh', '-c', script],
    );
    t.equal(eperm.code, 0, eperm.out);
    t.match(
      eperm.out,
      /^mkdir: can't create directory '\/dev\/shm\/d': Operation not permitted$/m,
      'busybox reports EPERM',
    );
    t.match(eperm.out, /^rc=1$/m);
    t.equal(field(eperm.out, 'Seccomp'), '2', 'the program runs in filter mode');
    t.equal(field(eperm.out, 'Seccomp_filters'), '1', 'one filter');

    const erofs = both(
      t,
      env,
      config({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 30 }],
      }),
      ['sh', '-c', script],
    );
    t.match(
      erofs.out,
      /^mkdir: can't create directory '\/dev\/shm\/d': Read-only file system$/m,
      'busybox reports EROFS (errnoRet 30)',
    );

    // Everything else denied with the default errno; the shell's own calls allowed by name.
    const deny = config({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    });
    const allowAll = Object.keys(ARCHES.x86_64.table).filter((n) => !['mkdir', 'mkdirat', 'unshare'].includes(n));
    deny.linux!.seccomp!.syscalls!.push({ names: allowAll, action: 'SCMP_ACT_ALLOW' });
    const def = both(t, env, deny, ['sh', '-c', 'mkdir /dev/shm/d; unshare -m true; echo done']);
    t.match(def.out, /Operation not permitted/, 'mkdir: its own errno');
    t.match(def.out, /^unshare: unshare\(0x20000\): Function not implemented$/m, 'unshare: defaultErrnoRet (ENOSYS)');
    t.match(def.out, /^done$/m);
    env.done();
  });

  t.test('listenerPath without SCMP_ACT_NOTIFY rules is ignored, as the spec says and runc does', async (t) => {
    const env = setup(t);
    const c = config({
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: join(env.dir, 'no-agent.sock'),
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }],
    });
    const r = both(t, env, c, ['sh', '-c', 'mkdir /dev/shm/d; echo rc=$?']);
    t.equal(r.code, 0, r.out);
    t.match(r.out, /Operation not permitted/, 'the filter is loaded');
    t.match(r.out, /^rc=1$/m);
    t.match(
      r.out,
      /level=warning msg="seccomp: linux\.seccomp\.listenerPath ignored: no rule uses SCMP_ACT_NOTIFY"/,
      'tsrun says so (runc is silent)',
    );
    t.notOk(existsSync(join(env.dir, 'no-agent.sock')), 'nothing was made or contacted at the path');
    env.done();
  });

  t.test('the filter is loaded before the user switch when noNewPrivileges is false', async (t) => {
    const env = setup(t);
    for (const nnp of [false, true]) {
      const c = config(
        {
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 30 }],
        },
        (c) => {
          c.process!.user = { uid: 1000, gid: 1000 };
          c.process!.noNewPrivileges = nnp;
          // No capabilities at all: loading the filter after the switch would need no_new_privs.
          c.process!.capabilities = { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] };
        },
      );
      const r = both(t, env, c, [
        'sh',
        '-c',
        'id -u; grep -E "^(Seccomp|NoNewPrivs|CapEff):" /proc/self/status; mkdir /dev/shm/d',
      ]);
      t.equal(r.code, 1, `noNewPrivileges ${nnp}: mkdir fails: ${r.out}`);
      t.match(r.out, /^1000$/m, 'runs as uid 1000');
      t.equal(field(r.out, 'NoNewPrivs'), nnp ? '1' : '0');
      t.equal(field(r.out, 'Seccomp'), '2');
      t.match(r.out, /Read-only file system/);
    }
    env.done();
  });

  t.test('SCMP_ACT_KILL_PROCESS, KILL and TRAP end the program with SIGSYS: exit status 159', async (t) => {
    const env = setup(t);
    for (const action of ['SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP'] as const) {
      const r = both(
        t,
        env,
        config({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action }] }),
        ['mkdir', '/dev/shm/d'],
      );
      t.equal(r.code, 128 + 31, `${action}: 128+SIGSYS (${r.out})`);
    }
    env.done();
  });

  t.test('argument rules: personality(0) allowed, personality(8) denied', async (t) => {
    const env = setup(t);
    // Everything but personality allowed by name; personality only by its argument.
    const others = Object.keys(ARCHES.x86_64.table).filter((n) => n !== 'personality');
    const rules: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      syscalls: [
        { names: others, action: 'SCMP_ACT_ALLOW' },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 0 }] },
        {
          names: ['personality'],
          action: 'SCMP_ACT_ERRNO',
          errnoRet: 1,
          args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 8 }],
        },
      ],
    };
    // busybox linux64 calls personality(PER_LINUX = 0), linux32 personality(PER_LINUX32 = 8).
    const script = 'linux64 true; echo linux64=$?; linux32 true; echo linux32=$?';
    const r = both(t, env, config(rules), ['sh', '-c', script]);
    t.match(r.out, /^linux64=0$/m, 'personality(0) allowed');
    t.match(
      r.out,
      /^linux32: personality\(0x8\): Operation not permitted$/m,
      'personality(8) denied with its errnoRet',
    );
    t.match(r.out, /^linux32=1$/m);

    // Without the ALLOW rule personality(0) gets the default: the allow above was the rule's doing.
    const noAllow = config({ ...rules, syscalls: [rules.syscalls![0], rules.syscalls![2]] });
    const d = both(t, env, noAllow, ['sh', '-c', script]);
    t.match(
      d.out,
      /^linux64: personality\(0x0\): Function not implemented$/m,
      'personality(0): the default errno without the rule',
    );

    const probes = buildProbes(join(env.dir, 'probes'));
    if (!probes.probe64) {
      skipBecause(t, `64-bit argument compare not checked: ${probes.why64}`);
    } else {
      // 0x100000000 is 0 to the kernel (an int), not to the filter: all 64 bits are compared on x86_64.
      const p = both(t, env, withProbes(config(rules), probes), ['/probe/probe64', '135', '0x100000000']);
      t.equal(probeRet(p.out), -38, `personality(0x100000000): no rule matches, the high half counts (${p.out})`);
      const q = both(t, env, withProbes(config(rules), probes), ['/probe/probe64', '135', '0xffffffff']);
      t.equal(probeRet(q.out), -38, 'personality(0xffffffff), a query: the default');
    }
    env.done();
  });

  t.test('two conditions on one argument are alternatives (runc\'s seccomp.bats "-ENOSYS handling")', async (t) => {
    const env = setup(t);
    const probes = buildProbes(join(env.dir, 'probes'));
    if (!probes.probe64) {
      skipBecause(t, `needs the raw-syscall probe: ${probes.why64}`);
      return;
    }
    const rules = ['process_vm_readv', 'process_vm_writev'];
    const others = Object.keys(ARCHES.x86_64.table).filter((n) => !rules.includes(n));
    const eq = (value: number) => ({ index: 0, op: 'SCMP_CMP_EQ' as const, value });
    const profile: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: others, action: 'SCMP_ACT_ALLOW' },
        { names: ['process_vm_readv'], action: 'SCMP_ACT_ALLOW', args: [eq(100), eq(9001)] },
        { names: ['process_vm_writev'], action: 'SCMP_ACT_ERRNO', errnoRet: 55, args: [eq(1337), eq(2020)] },
      ],
    };
    // process_vm_readv (310) / process_vm_writev (311) with pid a0 and invalid flags (~0): the kernel says EINVAL.
    const call = (nr: number, pid: number) => {
      const r = both(t, env, withProbes(config(profile), probes), [
        '/probe/probe64',
        String(nr),
        String(pid),
        '0',
        '0',
        '0',
        '0',
        '-1',
      ]);
      return probeRet(r.out);
    };
    t.equal(call(310, 100), -22, 'process_vm_readv(100, …): allowed, the kernel answers EINVAL');
    t.equal(call(310, 9001), -22, 'process_vm_readv(9001, …): allowed too');
    t.equal(call(310, 0), -1, 'process_vm_readv(0, …): neither value, the default EPERM');
    t.equal(call(311, 2020), -55, 'process_vm_writev(2020, …): its errnoRet');
    t.equal(call(311, 0), -1, 'process_vm_writev(0, …): the default EPERM');
    env.done();
  });

  t.test("syscalls newer than the profile get ENOSYS (runc's stub), others the default", async (t) => {
    const env = setup(t);
    const probes = buildProbes(join(env.dir, 'probes'));
    if (!probes.probe64) {
      skipBecause(t, `no test program: ${probes.why64}`);
      return;
    }
    // A profile that knows nothing past number 400 (clone3 435, faccessat2 439 … are newer), default EPERM.
    const known = Object.entries(ARCHES.x86_64.table)
      .filter(([n, nr]) => nr <= 400 && n !== 'acct')
      .map(([n]) => n);
    const profile = (architectures?: LinuxSeccomp['architectures']): Spec =>
      withProbes(
        config({
          defaultAction: 'SCMP_ACT_ERRNO',
          ...(architectures ? { architectures } : {}),
          syscalls: [{ names: known, action: 'SCMP_ACT_ALLOW' }],
        }),
        probes,
      );
    const faccessat2 = ['/probe/probe64', String(ARCHES.x86_64.table.faccessat2), '-100', '@/', '0', '0'];
    t.equal(
      probeRet(both(t, env, profile(['SCMP_ARCH_X86_64']), faccessat2).out),
      -38,
      'faccessat2, past the profile: ENOSYS, so programs fall back',
    );
    t.equal(
      probeRet(
        both(t, env, profile(['SCMP_ARCH_X86_64']), ['/probe/probe64', String(ARCHES.x86_64.table.acct), '0']).out,
      ),
      -1,
      'acct, left out of an older range: the default EPERM',
    );
    t.equal(
      probeRet(both(t, env, profile(), faccessat2).out),
      -1,
      'no architectures listed: no stub (as runc), the default EPERM',
    );
    const sh = both(t, env, profile(['SCMP_ARCH_X86_64']), ['sh', '-c', 'echo works']);
    t.match(sh.out, /^works$/m, 'busybox runs under it');
    env.done();
  });

  t.test('SCMP_ACT_LOG lets the call through; TRACE without a tracer and ERRNO(0)', async (t) => {
    const env = setup(t);
    const r = both(
      t,
      env,
      config({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_LOG' }] }),
      ['sh', '-c', 'mkdir /dev/shm/d && ls /dev/shm'],
    );
    t.equal(r.code, 0, r.out);
    t.match(r.out, /^d$/m, 'the directory was made');

    // No tracer attached: the kernel fails the call with ENOSYS.
    const trace = both(
      t,
      env,
      config({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_TRACE' }],
      }),
      ['sh', '-c', 'mkdir /dev/shm/d; ls /dev/shm'],
    );
    t.match(
      trace.out,
      /^mkdir: can't create directory '\/dev\/shm\/d': Function not implemented$/m,
      'SCMP_ACT_TRACE without a tracer: ENOSYS',
    );

    // errnoRet 0: the call "succeeds" without being made.
    const fake = both(
      t,
      env,
      config({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 0 }],
      }),
      ['sh', '-c', 'mkdir /dev/shm/d && echo made; ls /dev/shm | wc -l'],
    );
    t.match(fake.out, /^made\n\s*0$/m, 'ERRNO(0): mkdir reports success, nothing is made');
    env.done();
  });

  t.test("containers-common's default profile (Docker's, as podman hands it to the runtime)", async (t) => {
    if (!existsSync(DOCKER_PROFILE)) {
      skipBecause(t, `${DOCKER_PROFILE} is missing: apt-get install golang-github-containers-common`);
      return;
    }
    const env = setup(t);
    const profile = JSON.parse(readFileSync(DOCKER_PROFILE, 'utf8'));
    const probes: Probes = buildProbes(join(env.dir, 'probes'));
    const dockerLike = (profileCaps: string[], processCaps: string[]) =>
      config(fromDockerProfile(profile, ARCHES.x86_64, profileCaps), (c) => {
        c.process!.capabilities = {
          bounding: processCaps,
          effective: processCaps,
          permitted: processCaps,
          inheritable: [],
          ambient: [],
        };
        c.process!.noNewPrivileges = false; // Docker's default
        if (probes.probe64) withProbes(c, probes);
      });

    const everyday =
      'set -e; echo hello | wc -c; ls / >/dev/null; ps >/dev/null; date >/dev/null; ' +
      'mkdir -p /dev/shm/a/b; touch /dev/shm/a/b/c; ln -s c /dev/shm/a/l; chmod 600 /dev/shm/a/b/c; ' +
      'rm -r /dev/shm/a; sleep 0.1; id -u; uname -s; sh -c "exit 0"; echo ok';
    const plain = dockerLike(DOCKER_DEFAULT_CAPS, DOCKER_DEFAULT_CAPS);
    const ok = both(t, env, plain, ['sh', '-c', everyday]);
    t.equal(ok.code, 0, ok.out);
    t.match(ok.out, /^ok$/m, 'busybox sh and everyday applets run');

    const denied = both(t, env, plain, [
      'sh',
      '-c',
      'unshare -m true; echo unshare=$?; mount -t tmpfs t /tmp; echo mount=$?',
    ]);
    t.match(denied.out, /^unshare=1$/m, 'unshare refused without CAP_SYS_ADMIN');
    t.match(denied.out, /^mount=\d+$/m);
    t.notMatch(denied.out, /^mount=0$/m, 'mount refused without CAP_SYS_ADMIN');

    if (!probes.probe64) {
      skipBecause(t, `the filter's own answers (ENOSYS, EPERM) are not checked: ${probes.why64}`);
    } else {
      // add_key: in no rule, so the default errno (ENOSYS); the kernel itself would say EFAULT.
      t.equal(
        probeRet(both(t, env, plain, ['/probe/probe64', '248', '0', '0', '0', '0', '0']).out),
        -38,
        'add_key: ENOSYS from the profile',
      );
      // The issue-10 probe: process_vm_readv(100, NULL, 0, NULL, 0, ~0) is in the profile's allow list, so
      // the kernel answers (EINVAL for the flags), under the profile's ENOSYS default, exactly as with runc.
      t.equal(
        probeRet(both(t, env, plain, ['/probe/probe64', '310', '100', '0', '0', '0', '0', '-1']).out),
        -22,
        'process_vm_readv: reaches the kernel, EINVAL',
      );
      // sethostname with CAP_SYS_ADMIN (own uts namespace): the kernel allows it unless the filter says EPERM first.
      const admin = [...DOCKER_DEFAULT_CAPS, 'CAP_SYS_ADMIN'];
      const sethostname = ['/probe/probe64', '170', '@probe', '5'];
      t.equal(
        probeRet(both(t, env, dockerLike(DOCKER_DEFAULT_CAPS, admin), sethostname).out),
        -1,
        'sethostname: EPERM from the profile reduced without CAP_SYS_ADMIN',
      );
      t.equal(
        probeRet(both(t, env, dockerLike(admin, admin), sethostname).out),
        0,
        'sethostname: allowed by the profile reduced with CAP_SYS_ADMIN',
      );
    }
    env.done();
  });
}
