// The profile semantics written as a plain evaluator, with no BPF in sight:
// the oracle the property tests hold the compiled programs to. Kept apart
// from resolve.ts/compile.ts on purpose, so that a shared mistake is unlikely.
import type { LinuxSeccomp } from '../../src/spec/types';
import { ARCHES, X32_SYSCALL_BIT, type ArchDef } from '../../src/seccomp/arch';

const RET: Record<string, number> = {
  SCMP_ACT_KILL: 0,
  SCMP_ACT_KILL_THREAD: 0,
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x30000,
  SCMP_ACT_ERRNO: 0x50000,
  SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_ALLOW: 0x7fff0000,
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_NOTIFY: 0x7fc00000,
};

function ret(action: string, errnoRet: number | undefined): number {
  const base = RET[action];
  if (action === 'SCMP_ACT_ERRNO' || action === 'SCMP_ACT_TRACE') return (base | (errnoRet ?? 1)) >>> 0;
  return base;
}

const asU64 = (v: number) => BigInt.asUintN(64, BigInt(v));

function holds(op: string, arg: bigint, value: bigint, valueTwo: bigint): boolean {
  switch (op) {
    case 'SCMP_CMP_EQ':
      return arg === value;
    case 'SCMP_CMP_NE':
      return arg !== value;
    case 'SCMP_CMP_LT':
      return arg < value;
    case 'SCMP_CMP_LE':
      return arg <= value;
    case 'SCMP_CMP_GT':
      return arg > value;
    case 'SCMP_CMP_GE':
      return arg >= value;
    case 'SCMP_CMP_MASKED_EQ':
      return (arg & value) === (valueTwo & value); // as libseccomp
  }
  throw new Error(op);
}

/** The ABI a (audit arch, nr) pair belongs to, if the filter lists it. */
function abiOf(arches: ArchDef[], audit: number, nr: number): ArchDef | undefined {
  return arches.find(
    (a) =>
      a.audit === audit &&
      (a.name === 'x86_64' ? nr < X32_SYSCALL_BIT : a.name === 'x32' ? nr >= X32_SYSCALL_BIT : true),
  );
}

type Syscall = NonNullable<LinuxSeccomp['syscalls']>[number];

/** runc 1.1.5: a rule testing one argument twice is one rule per condition (any may hold). */
function alternatives(r: Syscall): Syscall[] {
  const args = r.args ?? [];
  const repeated = args.some((a, i) => args.findIndex((b) => b.index === a.index) !== i);
  return repeated ? args.map((a) => ({ ...r, args: [a] })) : [r];
}

export function referenceVerdict(s: LinuxSeccomp, native: ArchDef, audit: number, nr: number, args: bigint[]): number {
  const arches = [
    native,
    ...(s.architectures ?? [])
      .map((n) => Object.values(ARCHES).find((a) => a.scmp === n))
      .filter((a): a is ArchDef => !!a),
  ];
  const abi = abiOf(arches, audit, nr >>> 0);
  if (!abi) return 0; // bad arch: KILL
  const mask = abi.bits === 32 ? (1n << 32n) - 1n : (1n << 64n) - 1n;
  const dflt = ret(s.defaultAction, s.defaultErrnoRet);
  // Rules with the default action are dropped (libseccomp refuses them).
  const rules = (s.syscalls ?? [])
    .filter((r) => r.names.some((n) => abi.table[n] === nr >>> 0) && ret(r.action, r.errnoRet) !== dflt)
    .flatMap(alternatives);
  const uncond = rules.find((r) => !r.args || r.args.length === 0);
  if (uncond) return ret(uncond.action, uncond.errnoRet);
  for (const r of rules) {
    const ok = r.args!.every((a) =>
      holds(a.op, (args[a.index] ?? 0n) & mask, asU64(a.value) & mask, asU64(a.valueTwo ?? 0) & mask),
    );
    if (ok) return ret(r.action, r.errnoRet);
  }
  // runc's -ENOSYS stub: numbers past the last one the profile names, on listed architectures.
  const permissive = ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].includes(s.defaultAction);
  if (!permissive && s.defaultErrnoRet !== 38 && (s.architectures ?? []).includes(abi.scmp as never)) {
    const named = (s.syscalls ?? [])
      .flatMap((r) => r.names.map((n) => abi.table[n]))
      .filter((n) => n !== undefined && abiOf([abi], audit, n) === abi);
    if (named.length && nr >>> 0 > Math.max(...named)) return ret('SCMP_ACT_ERRNO', 38);
  }
  return dflt;
}
