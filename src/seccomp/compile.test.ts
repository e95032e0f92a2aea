import t from 'tap';
import type { LinuxSeccomp } from '../spec/types';
import { compileSeccomp } from './compile';
import { decode, BPF_MAXINSNS } from './bpf';
import { run } from './interpret';
import { referenceVerdict } from '../../test/helpers/seccomp-reference';
import { TWO_CONDITIONS_PROFILE } from '../../test/helpers/seccomp-two-conditions';
import { ARCHES, type ArchDef } from './arch';
import { actionName } from './profile';

// A small deterministic PRNG so that a failure can be replayed from its seed.
function prng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  return {
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)],
    chance: (p: number) => next() < p,
  };
}

const ACTIONS = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
] as const;
const OPS = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
] as const;
const ARCH_NAMES = [
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_ARM',
] as const;
// Interesting 64-bit values: around 0, 2^31, 2^32, and "negative" ones.
const EDGES = [
  0n,
  1n,
  5n,
  8n,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x100000000n,
  0x100000005n,
  0xffffffff00000000n,
  0xffffffffffffff9cn,
  0xfffffffffffffffen,
  0xffffffffffffffffn,
];
const NAMES = [
  'read',
  'write',
  'openat',
  'mkdir',
  'mkdirat',
  'personality',
  'socket',
  'clone',
  'ioctl',
  'mmap',
  'fcntl',
  'arch_prctl',
  'set_tls',
  'no_such_call',
];

function randomValue(r: ReturnType<typeof prng>): bigint {
  if (r.chance(0.7)) return r.pick(EDGES);
  return (BigInt(r.int(2 ** 32)) << 32n) | BigInt(r.int(2 ** 32));
}
// JSON numbers are doubles: keep profile values exactly representable.
const toJsonNumber = (v: bigint) =>
  v < 2n ** 53n ? Number(v) : v >= 0xffffffffffffff00n ? Number(BigInt.asIntN(64, v)) : Number((v >> 11n) << 11n);

function randomProfile(r: ReturnType<typeof prng>): LinuxSeccomp {
  const syscalls: LinuxSeccomp['syscalls'] = [];
  const n = 1 + r.int(8);
  for (let i = 0; i < n; i++) {
    const names = [...new Set(Array.from({ length: 1 + r.int(3) }, () => r.pick(NAMES)))];
    const action = r.pick(ACTIONS);
    const args = r.chance(0.6)
      ? Array.from({ length: 1 + r.int(3) }, () => {
          const op = r.pick(OPS);
          return {
            index: r.int(6),
            op,
            value: toJsonNumber(randomValue(r)),
            valueTwo: op === 'SCMP_CMP_MASKED_EQ' ? toJsonNumber(randomValue(r)) : undefined,
          };
        })
      : undefined;
    syscalls.push({
      names,
      action,
      errnoRet: action === 'SCMP_ACT_ERRNO' && r.chance(0.5) ? r.int(4096) : undefined,
      args,
    });
  }
  return {
    defaultAction: r.pick(ACTIONS),
    defaultErrnoRet: r.chance(0.3) ? 38 : undefined,
    architectures: ARCH_NAMES.filter(() => r.chance(0.5)) as LinuxSeccomp['architectures'],
    syscalls,
  };
}

t.test('compiled programs agree with the reference evaluation of the profile', (t) => {
  const native = ARCHES.x86_64;
  let checked = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const r = prng(seed);
    const profile = randomProfile(r);
    const prog = decode(compileSeccomp(profile, { nativeArch: native }).program);
    const abis: ArchDef[] = Object.values(ARCHES);
    let bad = '';
    for (let k = 0; k < 150 && !bad; k++) {
      const abi = r.pick(abis);
      const nr = r.chance(0.8)
        ? (abi.table[r.pick(NAMES)] ?? r.int(500))
        : r.chance(0.5)
          ? r.int(2 ** 32)
          : (abi.lo + r.int(600)) >>> 0;
      const wide = abi.bits === 64 || r.chance(0.2);
      const args = Array.from({ length: 6 }, () => (wide ? randomValue(r) : randomValue(r) & 0xffffffffn));
      const got = run(prog, { arch: abi.audit, nr, args }).ret;
      const want = referenceVerdict(profile, native, abi.audit, nr, args);
      checked++;
      if (got !== want)
        bad =
          `seed ${seed}: ${abi.name} nr ${nr} args ${args.map((a) => '0x' + a.toString(16))}: ` +
          `program ${actionName(got)}, profile ${actionName(want)}\n${JSON.stringify(profile)}`;
    }
    if (bad) {
      t.fail(bad);
      break;
    }
  }
  t.ok(checked >= 300 * 150, `${checked} random (profile, arch, nr, args) cases agree`);
  t.end();
});

t.test('an i386 or unlisted-arch process gets KILL when its arch is not listed', (t) => {
  const prog = decode(compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, { nativeArch: ARCHES.x86_64 }).program);
  t.equal(run(prog, { arch: ARCHES.x86_64.audit, nr: 0 }).ret, 0x7fff0000, 'x86_64 read allowed');
  t.equal(run(prog, { arch: ARCHES.x86.audit, nr: 3 }).ret, 0, 'i386 killed');
  t.equal(run(prog, { arch: ARCHES.x86_64.audit, nr: 0x40000000 }).ret, 0, 'x32 killed');
  t.equal(run(prog, { arch: ARCHES.aarch64.audit, nr: 63 }).ret, 0, 'aarch64 killed');
  t.end();
});

t.test('long rule lists still fit jump offsets', (t) => {
  // Hundreds of conditional rules on one syscall force trampolines past 255 instructions.
  const syscalls = Array.from({ length: 200 }, (_, i) => ({
    names: ['personality'],
    action: 'SCMP_ACT_ERRNO' as const,
    errnoRet: i,
    args: [{ index: 0, op: 'SCMP_CMP_EQ' as const, value: i * 3 }],
  }));
  syscalls.push({ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 99, args: [] as never });
  const profile: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86'], syscalls };
  const prog = decode(compileSeccomp(profile, { nativeArch: ARCHES.x86_64 }).program);
  t.ok(prog.length > 600 && prog.length < BPF_MAXINSNS, `${prog.length} instructions`);
  for (const abi of [ARCHES.x86_64, ARCHES.x86]) {
    for (let v = 0n; v < 610n; v += 1n) {
      const got = run(prog, { arch: abi.audit, nr: abi.table.personality, args: [v] }).ret;
      const want = referenceVerdict(profile, ARCHES.x86_64, abi.audit, abi.table.personality, [v]);
      if (got !== want) {
        t.fail(`${abi.name} personality(${v}): ${actionName(got)} ≠ ${actionName(want)}`);
        return t.end();
      }
    }
    t.equal(run(prog, { arch: abi.audit, nr: abi.table.read }).ret, 0x50000 | 99, `${abi.name} read`);
  }
  t.end();
});

t.test('conditions on one argument are alternatives, on different arguments all must hold (runc 1.1.5)', (t) => {
  // The shape of runc's own seccomp.bats "-ENOSYS handling" profile: a call
  // allowed for two values of its first argument must reach the kernel (which
  // answers EINVAL to the invalid flags) for either value, not be refused.
  const profile: LinuxSeccomp = TWO_CONDITIONS_PROFILE;
  const eq = (index: number, value: number) => ({ index, op: 'SCMP_CMP_EQ' as const, value });
  const prog = decode(compileSeccomp(profile, { nativeArch: ARCHES.x86_64 }).program);
  const ALLOW = 0x7fff0000;
  const EPERM = 0x50001;
  const cases: [string, bigint[], number][] = [
    ['process_vm_readv', [100n, 0n, 0n, 0n, 0n, 0xffffffffffffffffn], ALLOW],
    ['process_vm_readv', [9001n, 0n, 0n, 0n, 0n, 0xffffffffffffffffn], ALLOW],
    ['process_vm_readv', [0n, 0n, 0n, 0n, 0n, 0xffffffffffffffffn], EPERM],
    ['process_vm_writev', [1337n], 0x50000 | 55],
    ['process_vm_writev', [2020n], 0x50000 | 55],
    ['process_vm_writev', [0n], EPERM],
    ['kcmp', [0n, 1337n], ALLOW],
    ['kcmp', [0n, 0n], EPERM],
    ['kcmp', [500n, 1337n], EPERM],
    ['personality', [2n, 0n], ALLOW],
    ['personality', [7n, 5n], ALLOW],
    ['personality', [7n, 0n], EPERM],
  ];
  for (const abi of [ARCHES.x86_64, ARCHES.x86]) {
    for (const [name, args, want] of cases) {
      const nr = abi.table[name];
      const what = `${abi.name} ${name}(${args.join(', ')})`;
      t.equal(actionName(run(prog, { arch: abi.audit, nr, args }).ret), actionName(want), what);
      t.equal(referenceVerdict(profile, ARCHES.x86_64, abi.audit, nr, args), want, `${what}: the reference agrees`);
    }
  }
  t.throws(
    () =>
      compileSeccomp(
        {
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [
            { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [eq(0, 1), eq(0, 2)] },
            { names: ['personality'], action: 'SCMP_ACT_KILL', args: [eq(0, 2)] },
          ],
        },
        { nativeArch: ARCHES.x86_64 },
      ),
    /linux\.seccomp\.syscalls\[1\]: conflicts with linux\.seccomp\.syscalls\[0\]\.args\[1\]/,
    'an alternative is a rule of its own: a conflict names the condition',
  );
  t.end();
});

t.test('bad input is an error naming the JSON path', (t) => {
  const ok: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
  };
  // The profile as plain JSON, so that the cases can write what LinuxSeccomp's type forbids.
  type RawProfile = Record<string, unknown> & { syscalls: Record<string, unknown>[] };
  const bad = (mutate: (s: RawProfile) => void, re: RegExp, what: string) => {
    const s = structuredClone(ok) as unknown as RawProfile;
    mutate(s);
    t.throws(() => compileSeccomp(s as unknown as LinuxSeccomp), re, what);
  };
  bad(
    (s) => (s.defaultAction = 'SCMP_ACT_NOPE'),
    /^linux\.seccomp\.defaultAction: unknown action "SCMP_ACT_NOPE"/,
    'unknown default action',
  );
  bad(
    (s) => (s.syscalls[0].action = 'ALLOW'),
    /^linux\.seccomp\.syscalls\[0\]\.action: unknown action/,
    'unknown rule action',
  );
  bad(
    (s) => (s.syscalls[0].args = [{ index: 0, op: 'SCMP_CMP_XX', value: 1 }]),
    /^linux\.seccomp\.syscalls\[0\]\.args\[0\]\.op: unknown operator/,
    'unknown operator',
  );
  bad(
    (s) => (s.architectures = ['SCMP_ARCH_Z80']),
    /^linux\.seccomp\.architectures\[0\]: unknown architecture/,
    'unknown arch',
  );
  bad((s) => (s.flags = ['SECCOMP_FILTER_FLAG_FOO']), /^linux\.seccomp\.flags\[0\]: unknown flag/, 'unknown flag');
  bad(
    (s) => (s.syscalls[0].errnoRet = 4096),
    /^linux\.seccomp\.syscalls\[0\]\.errnoRet: must be an integer from 0 to 4095/,
    'errnoRet too big',
  );
  bad((s) => (s.syscalls[0].errnoRet = -1), /^linux\.seccomp\.syscalls\[0\]\.errnoRet:/, 'negative errnoRet');
  bad(
    (s) => ((s.defaultAction = 'SCMP_ACT_ERRNO'), (s.defaultErrnoRet = 70000)),
    /^linux\.seccomp\.defaultErrnoRet:/,
    'defaultErrnoRet too big',
  );
  bad(
    (s) => (s.syscalls[0].args = [{ index: 6, op: 'SCMP_CMP_EQ', value: 1 }]),
    /^linux\.seccomp\.syscalls\[0\]\.args\[0\]\.index: must be 0 to 5/,
    'arg index 6',
  );
  bad(
    (s) => (s.syscalls[0].names = []),
    /^linux\.seccomp\.syscalls\[0\]\.names: must list at least one syscall/,
    'empty names',
  );
  bad(
    (s) =>
      s.syscalls.push(
        { names: ['read'], action: 'SCMP_ACT_KILL', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 3 }] },
        { names: ['read'], action: 'SCMP_ACT_LOG', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 3 }] },
      ),
    /^linux\.seccomp\.syscalls\[2\]: conflicts with linux\.seccomp\.syscalls\[1\]/,
    'conflicting duplicate with args',
  );
  bad(
    (s) => (s.syscalls[0].action = 'SCMP_ACT_NOTIFY'),
    /^linux\.seccomp\.listenerPath: is required/,
    'NOTIFY without listenerPath',
  );
  bad(
    (s) => (s.defaultAction = 'SCMP_ACT_NOTIFY'),
    /^linux\.seccomp\.defaultAction: SCMP_ACT_NOTIFY cannot be the default/,
    'NOTIFY as default',
  );
  bad(
    (s) => ((s.syscalls[0].action = 'SCMP_ACT_NOTIFY'), (s.syscalls[0].names = ['write']), (s.listenerPath = '/x')),
    /^linux\.seccomp\.syscalls\[0\]\.names: SCMP_ACT_NOTIFY cannot be used for the write syscall: the runtime/,
    'NOTIFY on write',
  );
  t.throws(
    () =>
      compileSeccomp(ok, { path: 'seccomp' } as never) &&
      compileSeccomp({ ...ok, architectures: ['SCMP_ARCH_FOO' as never] }, { path: 'x.y' }),
    /^x\.y\.architectures\[0\]/,
    'path prefix is configurable',
  );
  t.end();
});

t.test('accepted odd input', (t) => {
  const c = compileSeccomp(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_S390X'],
      flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
      syscalls: [{ names: ['no_such_syscall', 'mkdir'], action: 'SCMP_ACT_ERRNO' }],
    },
    { nativeArch: ARCHES.x86_64 },
  );
  t.equal(c.flags, 2 | 4, 'flags');
  t.equal(c.notify, false);
  const listener = compileSeccomp(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: '/run/agent.sock',
      listenerMetadata: 'm',
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
    },
    { nativeArch: ARCHES.x86_64 },
  );
  t.equal(
    listener.notify,
    false,
    'listenerPath without NOTIFY rules: accepted (config-linux.md: "this value is ignored")',
  );
  t.equal(listener.listenerPath, undefined, 'and not kept, so nothing connects to it');
  const dup = decode(
    compileSeccomp(
      {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [
          { names: ['mkdir'], action: 'SCMP_ACT_ERRNO' },
          { names: ['mkdir'], action: 'SCMP_ACT_KILL' },
        ],
      },
      { nativeArch: ARCHES.x86_64 },
    ).program,
  );
  t.equal(
    run(dup, { arch: ARCHES.x86_64.audit, nr: ARCHES.x86_64.table.mkdir }).ret,
    0x50001,
    'of two unconditional rules the first wins (libseccomp)',
  );
  const prog = decode(c.program);
  t.equal(
    run(prog, { arch: ARCHES.x86_64.audit, nr: ARCHES.x86_64.table.mkdir }).ret,
    0x50001,
    'unknown names are skipped, known ones kept',
  );
  t.end();
});
