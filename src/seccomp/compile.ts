// OCI linux.seccomp → a classic BPF program for seccomp(2).
//
// Layout: load seccomp_data.arch and dispatch on it (native architecture
// first; an unlisted one gets the bad-arch action, KILL as with libseccomp);
// per architecture, load the syscall number and walk a balanced binary search
// over number ranges, where neighbouring numbers with the same verdict share
// one range. x86_64 and x32 share AUDIT_ARCH_X86_64 and are told apart by bit
// 30 of the number, as libseccomp does. A range leads to a return, or to the
// argument checks of its syscall's rules (64-bit compares on two 32-bit
// halves; low halves only on 32-bit ABIs, as libseccomp does).
import type { LinuxSeccomp } from '../spec/types';
import { debug } from '../log';
import { BPF, DATA, BPF_MAXINSNS, SECCOMP_RET, encode, type Insn } from './bpf';
import { X32_SYSCALL_BIT, type ArchDef } from './arch';
import { checkPolicy, ENOSYS, type Cond, type Policy, type PolicyOptions } from './profile';
import { resolveArch, unknownNames, type Leaf, type CondRule } from './resolve';
import { Emitter, type Label } from './emit';

export interface CompiledSeccomp {
  /** struct sock_filter[], in host byte order. */
  program: Buffer;
  /** SECCOMP_FILTER_FLAG_* for seccomp(2); NEW_LISTENER is added at load when `notify`. */
  flags: number;
  flagNames: string[];
  notify: boolean;
  listenerPath?: string;
  listenerMetadata?: string;
}

/** The JSON form of CompiledSeccomp (program in base64), e.g. to hand it to the container init. */
export type CompiledSeccompJSON = Omit<CompiledSeccomp, 'program'> & { program: string };

export type CompileOptions = PolicyOptions;

const LD_ABS = BPF.LD | BPF.W | BPF.ABS;
const M32 = 0xffffffffn;

export function compileSeccomp(seccomp: LinuxSeccomp, opts: CompileOptions = {}): CompiledSeccomp {
  const policy = checkPolicy(seccomp, opts);
  for (const name of unknownNames(policy)) debug(`seccomp: unknown syscall ${JSON.stringify(name)} skipped`);
  const prog = compilePolicy(policy);
  return {
    program: encode(prog),
    flags: policy.flags,
    flagNames: policy.flagNames,
    notify: policy.notify,
    listenerPath: policy.listenerPath,
    listenerMetadata: policy.listenerMetadata,
  };
}

export function compiledToJSON(c: CompiledSeccomp): CompiledSeccompJSON {
  return { ...c, program: c.program.toString('base64') };
}

export function compiledFromJSON(j: CompiledSeccompJSON | CompiledSeccomp): CompiledSeccomp {
  return typeof j.program === 'string' ? { ...j, program: Buffer.from(j.program, 'base64') } : (j as CompiledSeccomp);
}

export function compilePolicy(policy: Policy): Insn[] {
  const e = new Emitter();
  const badArch = e.ret(policy.badArchRet);

  // Architectures sharing an audit value (x86_64 and x32) form one section.
  const groups = new Map<number, ArchDef[]>();
  for (const a of policy.arches) groups.set(a.audit, [...(groups.get(a.audit) ?? []), a]);

  const sections: { audit: number; label: Label }[] = [];
  for (const [audit, abis] of [...groups].reverse()) {
    sections.unshift({ audit, label: section(e, policy, abis, badArch) });
  }
  let next = badArch;
  for (const s of [...sections].reverse()) next = e.cond(BPF.JEQ, s.audit, s.label, next);
  e.fallInto(next);
  e.stmt(LD_ABS, DATA.arch);
  const prog = e.finish();
  if (prog.length > BPF_MAXINSNS)
    throw new Error(
      `seccomp: the profile compiles to ${prog.length} BPF instructions, above the kernel's limit of ${BPF_MAXINSNS}`,
    );
  return prog;
}

function section(e: Emitter, policy: Policy, abis: ArchDef[], badArch: Label): Label {
  let entry: Label;
  if (abis.length === 1 && abis[0].lo === 0 && abis[0].hi === 0xffffffff) {
    entry = tree(e, intervals(policy, abis[0]), abis[0].bits);
  } else {
    // x86_64 / x32: bit 30 of the number picks the ABI; an ABI not in the filter is a bad arch.
    const high = abis.find((a) => a.lo === X32_SYSCALL_BIT);
    const low = abis.find((a) => a.lo === 0);
    const highLabel = high ? tree(e, intervals(policy, high), high.bits) : badArch;
    const lowLabel = low ? tree(e, intervals(policy, low), low.bits) : badArch;
    entry = e.cond(BPF.JGE, X32_SYSCALL_BIT, highLabel, lowLabel);
  }
  // Every syscall of this architecture gets the same verdict: no need to look at the number.
  if (entry !== e.next - 1 && e.isRet(entry)) return entry;
  e.fallInto(entry);
  e.stmt(LD_ABS, DATA.nr);
  return e.next - 1;
}

interface Interval {
  lo: number;
  hi: number;
  leaf: Leaf;
  key: string;
}

const leafKey = (l: Leaf) =>
  'ret' in l ? `r${l.ret}` : JSON.stringify(l, (_, v) => (typeof v === 'bigint' ? v.toString() : v));

/** Number ranges covering the ABI's whole domain, each with one verdict. */
function intervals(policy: Policy, abi: ArchDef): Interval[] {
  const leaves = resolveArch(policy, abi);
  const nrs = [...leaves.keys()].sort((a, b) => a - b);
  const out: Interval[] = [];
  const add = (lo: number, hi: number, leaf: Leaf) => {
    const key = leafKey(leaf);
    const last = out[out.length - 1];
    if (last && last.key === key && last.hi + 1 === lo) last.hi = hi;
    else out.push({ lo, hi, leaf, key });
  };
  const dflt: Leaf = { ret: policy.defaultRet };
  let cur = abi.lo;
  for (const nr of nrs) {
    if (nr < abi.lo || nr > abi.hi) continue;
    if (nr > cur) add(cur, nr - 1, dflt);
    add(nr, nr, leaves.get(nr)!);
    cur = nr + 1;
  }
  const last = policy.enosysArches.includes(abi) ? highestNamed(policy, abi) : undefined;
  if (last !== undefined && last + 1 <= abi.hi) {
    if (cur <= last) add(cur, last, dflt);
    add(Math.max(cur, last + 1), abi.hi, { ret: (SECCOMP_RET.ERRNO | ENOSYS) >>> 0 });
  } else if (cur <= abi.hi) {
    add(cur, abi.hi, dflt);
  }
  return out;
}

/** The highest syscall number of this ABI that any rule names (whatever its action). */
function highestNamed(policy: Policy, abi: ArchDef): number | undefined {
  let max: number | undefined;
  for (const rule of policy.rules) {
    for (const name of rule.names) {
      const nr = abi.table[name];
      if (nr !== undefined && nr >= abi.lo && nr <= abi.hi && (max === undefined || nr > max)) max = nr;
    }
  }
  return max;
}

/** Binary search over ranges with A = syscall number. */
function tree(e: Emitter, ivs: Interval[], bits: 32 | 64): Label {
  if (ivs.length === 1) return leafCode(e, ivs[0].leaf, bits);
  const m = ivs.length >> 1;
  const right = tree(e, ivs.slice(m), bits);
  const left = tree(e, ivs.slice(0, m), bits);
  return e.cond(BPF.JGE, ivs[m].lo, right, left);
}

function leafCode(e: Emitter, leaf: Leaf, bits: 32 | 64): Label {
  if ('ret' in leaf) return e.ret(leaf.ret);
  return rulesCode(e, leaf.rules, leaf.fallback, bits);
}

/** First rule whose conditions all hold gives its action; none: the fallback. */
function rulesCode(e: Emitter, rules: CondRule[], fallback: number, bits: 32 | 64): Label {
  let fail = e.ret(fallback);
  for (const rule of [...rules].reverse()) {
    let pass = e.ret(rule.ret);
    for (const c of [...rule.conds].reverse()) pass = condCode(e, c, pass, fail, bits);
    fail = pass;
  }
  return fail;
}

/** Code testing one condition on a 64-bit argument, high half first. */
function condCode(e: Emitter, c: Cond, pass: Label, fail: Label, bits: 32 | 64): Label {
  const vl = Number(c.value & M32);
  const vh = Number((c.value >> 32n) & M32);
  const dl = Number(c.valueTwo & M32);
  const dh = Number((c.valueTwo >> 32n) & M32);

  const half = (lo: boolean, then: Label): Label => {
    const v = lo ? vl : vh;
    // For the high half, "equal" means: go on to the low half.
    const eqT = lo ? pass : then;
    switch (c.op) {
      case 'EQ':
        return e.cond(BPF.JEQ, v, eqT, fail);
      case 'NE':
        return e.cond(BPF.JEQ, v, lo ? fail : then, pass);
      case 'GT':
      case 'GE':
        if (lo) return e.cond(c.op === 'GT' ? BPF.JGT : BPF.JGE, v, pass, fail);
        if (v === 0) return e.cond(BPF.JGT, 0, pass, then);
        return e.cond(BPF.JGT, v, pass, e.cond(BPF.JEQ, v, then, fail));
      case 'LT':
      case 'LE':
        if (lo) return e.cond(c.op === 'LT' ? BPF.JGE : BPF.JGT, v, fail, pass);
        if (v === 0) return e.cond(BPF.JGT, 0, fail, then);
        return e.cond(BPF.JGT, v, fail, e.cond(BPF.JEQ, v, then, pass));
      case 'MASKED_EQ': {
        const mask = v;
        const want = lo ? dl : dh;
        if (mask === 0) return want === 0 ? eqT : fail;
        const test = e.cond(BPF.JEQ, want, eqT, fail);
        // No test emitted (both outcomes lead to the same place): no mask either.
        if (mask === 0xffffffff || test !== e.next - 1) return test;
        return e.stmt(BPF.ALU | BPF.AND | BPF.K, mask);
      }
    }
  };
  // A half that emitted no test (its outcome is fixed) needs no load either.
  const withLoad = (off: number, emitBody: () => Label): Label => {
    const before = e.next;
    const body = emitBody();
    if (e.next === before || body !== e.next - 1) return body;
    e.stmt(LD_ABS, off);
    return e.next - 1;
  };
  const loEntry = withLoad(DATA.argLo(c.index), () => half(true, pass));
  if (bits === 32) return loEntry;
  return withLoad(DATA.argHi(c.index), () => half(false, loEntry));
}
