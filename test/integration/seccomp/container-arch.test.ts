// Other ABIs of an x86_64 host in real containers: i386 programs (IA32
// emulation) and x32-numbered calls (bit 30 set). The filter must treat
// each ABI by its own table, and kill an ABI the profile does not list.
// The programs are built from test/fixtures/seccomp/sysprobe.c at test time.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testEnv, testConfig, type Env } from '../../helpers/harness';
import type { LinuxSeccomp, Spec } from '../../../src/spec/types';
import { ARCHES } from '../../../src/seccomp/arch';
import {
  runTsrun,
  runRunc,
  cleanupRunc,
  buildProbes,
  withProbes,
  probeRet,
  type Outcome,
  type Probes,
} from '../../helpers/seccomp-container';
import { skipBecause } from '../../helpers/skip';

type Arch = NonNullable<LinuxSeccomp['architectures']>[number];
const SIGSYS_EXIT = 128 + 31;

function both(t: Test, env: Env, probes: Probes, seccomp: LinuxSeccomp, args: string[]): Outcome {
  const c: Spec = withProbes(testConfig('x', []), probes);
  c.linux!.seccomp = seccomp;
  const mine = runTsrun(env, JSON.parse(JSON.stringify(c)), args);
  const theirs = runRunc(env, c, args);
  if (theirs) t.same(theirs, mine, 'runc gives the same exit code and output');
  return mine;
}

const mkdirRule = (architectures: Arch[]): LinuxSeccomp => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures,
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 30 }],
});

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else if (process.arch !== 'x64') {
  t.plan(0, `x86_64 hosts only (this is ${process.arch})`);
} else {
  t.test('i386 programs', async (t) => {
    const env = testEnv(t);
    t.teardown(() => cleanupRunc(env));
    const probes = buildProbes(join(env.dir, 'probes'));
    if (!probes.probe32) {
      skipBecause(t, `no i386 test program: ${probes.why32}`);
      return;
    }
    const getpid = spawnSync(probes.probe32, ['20'], { encoding: 'utf8' });
    if (getpid.status !== 0 || !/^ret=\d+$/m.test(getpid.stdout)) {
      skipBecause(
        t,
        `this kernel runs no i386 programs (IA32 emulation off?): ${getpid.error?.message ?? `status ${getpid.status}, signal ${getpid.signal}`}`,
      );
      return;
    }
    const nr = String(ARCHES.x86.table.mkdir); // 39, not x86_64's 83
    const mkdir = ['/probe/probe32', nr, '@/dev/shm/d', '493'];
    const listed = both(t, env, probes, mkdirRule(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']), mkdir);
    t.equal(probeRet(listed.out), -30, `i386 mkdir (39) gets the rule's EROFS (${listed.out})`);

    // i386 getpid (20) is x86_64's writev (20): a rule on writev must not catch it.
    const writev: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      syscalls: [{ names: ['writev'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    };
    const gp = both(t, env, probes, writev, ['/probe/probe32', '20']);
    t.equal(probeRet(gp.out), 1, 'i386 getpid is not x86_64 writev: the program is pid 1');

    // Only the low 32 bits of arguments exist on i386: personality(8) matches EQ 8.
    const pers: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86'],
      syscalls: [
        {
          names: ['personality'],
          action: 'SCMP_ACT_ERRNO',
          errnoRet: 1,
          args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 8 }],
        },
      ],
    };
    t.equal(probeRet(both(t, env, probes, pers, ['/probe/probe32', '136', '8']).out), -1, 'i386 personality(8): EPERM');
    t.equal(
      probeRet(both(t, env, probes, pers, ['/probe/probe32', '136', '0xffffffff']).out),
      0,
      'i386 personality(query): allowed (current persona 0)',
    );

    const unlisted = both(t, env, probes, mkdirRule(['SCMP_ARCH_X86_64']), mkdir);
    t.equal(unlisted.code, SIGSYS_EXIT, `SCMP_ARCH_X86 not listed: the i386 program is killed (${unlisted.out})`);
    env.done();
  });

  t.test('x32 system call numbers', async (t) => {
    const env = testEnv(t);
    t.teardown(() => cleanupRunc(env));
    const probes = buildProbes(join(env.dir, 'probes'));
    if (!probes.probe64) {
      skipBecause(t, `no test program: ${probes.why64}`);
      return;
    }
    // An x86_64 program can make x32 calls (number | 0x40000000); seccomp sees them before the kernel's dispatch.
    const x32getpid = spawnSync(probes.probe64, [String(ARCHES.x32.table.getpid)], { encoding: 'utf8' });
    const kernelX32 = /^ret=\d+$/m.test(x32getpid.stdout);
    t.comment(
      kernelX32
        ? 'the kernel has the x32 ABI'
        : 'the kernel has no x32 ABI (CONFIG_X86_X32_ABI off): allowed x32 calls return ENOSYS',
    );

    const mkdir = ['/probe/probe64', String(ARCHES.x32.table.mkdir), '@/dev/shm/d', '493'];
    const listed = both(t, env, probes, mkdirRule(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32']), mkdir);
    t.equal(probeRet(listed.out), -30, `x32 mkdir gets the rule's EROFS (${listed.out})`);

    const getpid = both(t, env, probes, mkdirRule(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32']), [
      '/probe/probe64',
      String(ARCHES.x32.table.getpid),
    ]);
    t.equal(probeRet(getpid.out), kernelX32 ? 1 : -38, 'x32 getpid: allowed by the filter, then the kernel answers');

    const unlisted = both(t, env, probes, mkdirRule(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']), mkdir);
    t.equal(unlisted.code, SIGSYS_EXIT, `SCMP_ARCH_X32 not listed: an x32 call kills the program (${unlisted.out})`);

    const native = both(t, env, probes, mkdirRule(['SCMP_ARCH_X86_64']), [
      '/probe/probe64',
      String(ARCHES.x86_64.table.mkdir),
      '@/dev/shm/d',
      '493',
    ]);
    t.equal(probeRet(native.out), -30, 'x86_64 mkdir still gets its rule');
    env.done();
  });
}
