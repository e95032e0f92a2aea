// linux.seccomp checked and reduced to numbers: actions to SECCOMP_RET_*
// values, conditions to 64-bit BigInts, architectures to ArchDefs. Every
// error names the JSON path of the offending field.
import type { LinuxSeccomp } from '../spec/types';
import { debug, warn } from '../log';
import { SECCOMP_RET } from './bpf';
import { archByScmp, nativeArch, FOREIGN_SCMP_ARCHES, type ArchDef } from './arch';

export type Op = 'NE' | 'LT' | 'LE' | 'EQ' | 'GE' | 'GT' | 'MASKED_EQ';

export interface Cond {
  index: number;
  op: Op;
  /** For MASKED_EQ the mask; otherwise the operand. */
  value: bigint;
  /** For MASKED_EQ the value compared with arg & mask. */
  valueTwo: bigint;
}

export interface Rule {
  /** Syscall names as written; resolved per architecture later. */
  names: string[];
  ret: number;
  conds: Cond[];
  /** JSON path of this rule, for messages. */
  path: string;
}

export interface Policy {
  defaultRet: number;
  badArchRet: number;
  arches: ArchDef[];
  /**
   * Architectures whose syscall numbers above the highest one the profile
   * names get ENOSYS instead of the default action (runc's -ENOSYS stub, so
   * that programs fall back from syscalls newer than the profile).
   */
  enosysArches: ArchDef[];
  flags: number;
  flagNames: string[];
  rules: Rule[];
  notify: boolean;
  listenerPath?: string;
  listenerMetadata?: string;
}

export class SeccompConfigError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'SeccompConfigError';
  }
}

export const SECCOMP_FILTER_FLAG = {
  TSYNC: 1,
  LOG: 2,
  SPEC_ALLOW: 4,
  NEW_LISTENER: 8,
  TSYNC_ESRCH: 16,
  WAIT_KILLABLE_RECV: 32,
} as const;

/** The flags a profile may name (NEW_LISTENER and TSYNC_ESRCH are the runtime's own business). */
export const FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: SECCOMP_FILTER_FLAG.TSYNC,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP_FILTER_FLAG.LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP_FILTER_FLAG.SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV,
};

export const ACTIONS: Readonly<Record<string, number>> = {
  SCMP_ACT_KILL: SECCOMP_RET.KILL_THREAD,
  SCMP_ACT_KILL_THREAD: SECCOMP_RET.KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: SECCOMP_RET.KILL_PROCESS,
  SCMP_ACT_TRAP: SECCOMP_RET.TRAP,
  SCMP_ACT_ERRNO: SECCOMP_RET.ERRNO,
  SCMP_ACT_TRACE: SECCOMP_RET.TRACE,
  SCMP_ACT_ALLOW: SECCOMP_RET.ALLOW,
  SCMP_ACT_LOG: SECCOMP_RET.LOG,
  SCMP_ACT_NOTIFY: SECCOMP_RET.USER_NOTIF,
};

export const OPS: ReadonlySet<string> = new Set(['NE', 'LT', 'LE', 'EQ', 'GE', 'GT', 'MASKED_EQ']);
const EPERM = 1;
export const ENOSYS = 38;
const MAX_ERRNO = 4095;
const U64 = (1n << 64n) - 1n;

export interface PolicyOptions {
  /** JSON path prefix for messages; default "linux.seccomp". */
  path?: string;
  /** Architecture always included, as libseccomp includes the native one; default: this host's. */
  nativeArch?: ArchDef;
}

function action(name: unknown, errnoRet: unknown, path: string, errnoPath: string): number {
  if (typeof name !== 'string' || !(name in ACTIONS))
    throw new SeccompConfigError(path, `unknown action ${JSON.stringify(name)}`);
  const ret = ACTIONS[name];
  const takesData = ret === SECCOMP_RET.ERRNO || ret === SECCOMP_RET.TRACE;
  if (errnoRet === undefined || errnoRet === null) return takesData ? ret | EPERM : ret;
  if (typeof errnoRet !== 'number' || !Number.isInteger(errnoRet) || errnoRet < 0 || errnoRet > MAX_ERRNO) {
    throw new SeccompConfigError(
      errnoPath,
      `must be an integer from 0 to ${MAX_ERRNO}, got ${JSON.stringify(errnoRet)}`,
    );
  }
  if (!takesData) {
    debug(`seccomp: ${errnoPath} ignored: ${name} takes no errno`);
    return ret;
  }
  return (ret | errnoRet) >>> 0;
}

/** A JSON number as uint64; negative integers are taken as two's complement (-100 is AT_FDCWD). */
function u64(v: unknown, path: string): bigint {
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new SeccompConfigError(path, `must be an integer, got ${JSON.stringify(v)}`);
  if (v < -(2 ** 63)) throw new SeccompConfigError(path, `${v} is below the int64 range`);
  // JSON numbers above 2^53 are rounded; 2^64-1 parses as 2^64.
  if (v >= 2 ** 64)
    return v === 2 ** 64
      ? U64
      : (() => {
          throw new SeccompConfigError(path, `${v} exceeds the uint64 range`);
        })();
  return BigInt.asUintN(64, BigInt(v));
}

export function checkPolicy(seccomp: LinuxSeccomp, opts: PolicyOptions = {}): Policy {
  const base = opts.path ?? 'linux.seccomp';
  if (!seccomp || typeof seccomp !== 'object') throw new SeccompConfigError(base, 'must be an object');
  const s = seccomp as LinuxSeccomp & Record<string, unknown>;
  if (s.defaultAction === 'SCMP_ACT_NOTIFY')
    throw new SeccompConfigError(`${base}.defaultAction`, 'SCMP_ACT_NOTIFY cannot be the default action');
  const defaultRet = action(s.defaultAction, s.defaultErrnoRet, `${base}.defaultAction`, `${base}.defaultErrnoRet`);
  const arches = policyArches(s, base, opts.nativeArch ?? nativeArch());

  // As runc: only for the listed architectures, not when the default action
  // lets calls through (ALLOW, LOG, TRACE) or already is ENOSYS.
  const permissive = ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].includes(s.defaultAction);
  const enosysArches =
    permissive || s.defaultErrnoRet === ENOSYS
      ? []
      : arches.filter((a) => (s.architectures ?? []).includes(a.scmp as never));

  const flagNames = (s.flags ?? []).map((name, i) => {
    if (!(name in FLAGS)) throw new SeccompConfigError(`${base}.flags[${i}]`, `unknown flag ${JSON.stringify(name)}`);
    return name;
  });
  const rules = (s.syscalls ?? []).flatMap((sc, i) => policyRules(sc, `${base}.syscalls[${i}]`));
  const notify = rules.some((r) => r.ret === SECCOMP_RET.USER_NOTIF);
  if (notify && !s.listenerPath)
    throw new SeccompConfigError(`${base}.listenerPath`, 'is required when a rule uses SCMP_ACT_NOTIFY');
  // config-linux.md: "If the SCMP_ACT_NOTIFY action is not used this value is ignored" (runc: silently).
  if (!notify && s.listenerPath) warn(`seccomp: ${base}.listenerPath ignored: no rule uses SCMP_ACT_NOTIFY`);
  return {
    defaultRet,
    badArchRet: SECCOMP_RET.KILL_THREAD,
    arches,
    enosysArches,
    flags: filterFlags(flagNames, notify, base),
    flagNames,
    rules,
    notify,
    listenerPath: notify ? s.listenerPath : undefined,
    listenerMetadata: notify ? s.listenerMetadata : undefined,
  };
}

/** The native architecture first, then the listed ones this host can run; foreign ones are left out. */
function policyArches(s: LinuxSeccomp, base: string, native: ArchDef): ArchDef[] {
  const arches: ArchDef[] = [native];
  (s.architectures ?? []).forEach((name, i) => {
    const p = `${base}.architectures[${i}]`;
    const a = archByScmp(name);
    if (a) {
      if (!arches.includes(a)) arches.push(a);
    } else if (FOREIGN_SCMP_ARCHES.has(name)) {
      debug(`seccomp: ${p}: ${name} cannot run on this host; left out of the filter`);
    } else {
      throw new SeccompConfigError(p, `unknown architecture ${JSON.stringify(name)}`);
    }
  });
  return arches;
}

/** The flags as libseccomp passes them: WAIT_KILLABLE_RECV only with a listener, TSYNC_ESRCH with TSYNC and one. */
function filterFlags(names: string[], notify: boolean, base: string): number {
  let flags = names.reduce((f, name) => f | FLAGS[name], 0);
  if (!notify && flags & SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV) {
    debug(`seccomp: ${base}.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored: no rule uses SCMP_ACT_NOTIFY`);
    flags &= ~SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV;
  }
  if (notify && flags & SECCOMP_FILTER_FLAG.TSYNC) flags |= SECCOMP_FILTER_FLAG.TSYNC_ESRCH;
  return flags;
}

type SyscallRule = NonNullable<LinuxSeccomp['syscalls']>[number];

/**
 * One rule, or several: when two conditions of a rule test the same argument,
 * runc 1.1.5 (libcontainer/seccomp, matchCall) adds each condition as a rule
 * of its own, so they are alternatives (`index 0 == 100` or `== 9001`), not
 * all required. runc's own seccomp tests rely on it.
 */
function policyRules(sc: SyscallRule, p: string): Rule[] {
  if (!Array.isArray(sc.names) || sc.names.length === 0)
    throw new SeccompConfigError(`${p}.names`, 'must list at least one syscall');
  sc.names.forEach((n, j) => {
    if (typeof n !== 'string' || n === '') throw new SeccompConfigError(`${p}.names[${j}]`, 'must be a syscall name');
  });
  const ret = action(sc.action, sc.errnoRet, `${p}.action`, `${p}.errnoRet`);
  if (ret === SECCOMP_RET.USER_NOTIF && sc.names.includes('write')) {
    throw new SeccompConfigError(
      `${p}.names`,
      'SCMP_ACT_NOTIFY cannot be used for the write syscall: the runtime itself writes after loading the filter',
    );
  }
  const conds = (sc.args ?? []).map((arg, k) => policyCond(arg, `${p}.args[${k}]`));
  if (new Set(conds.map((c) => c.index)).size < conds.length)
    return conds.map((c, k) => ({ names: sc.names, ret, conds: [c], path: `${p}.args[${k}]` }));
  return [{ names: sc.names, ret, conds, path: p }];
}

function policyCond(arg: NonNullable<SyscallRule['args']>[number], ap: string): Cond {
  if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index > 5) {
    throw new SeccompConfigError(`${ap}.index`, `must be 0 to 5, got ${JSON.stringify(arg.index)}`);
  }
  const op = typeof arg.op === 'string' ? arg.op.replace(/^SCMP_CMP_/, '') : '';
  if (!arg.op?.startsWith('SCMP_CMP_') || !OPS.has(op))
    throw new SeccompConfigError(`${ap}.op`, `unknown operator ${JSON.stringify(arg.op)}`);
  const value = u64(arg.value, `${ap}.value`);
  const valueTwo = arg.valueTwo === undefined ? 0n : u64(arg.valueTwo, `${ap}.valueTwo`);
  // libseccomp (so runc) compares arg & mask with valueTwo & mask: bits of
  // valueTwo outside the mask do not make the rule unmatchable.
  return { index: arg.index, op: op as Op, value, valueTwo: op === 'MASKED_EQ' ? valueTwo & value : valueTwo };
}

export function actionName(ret: number): string {
  const r = ret >>> 0;
  const data = r & 0xffff;
  switch ((r & 0xffff0000) >>> 0) {
    case SECCOMP_RET.KILL_PROCESS:
      return 'SCMP_ACT_KILL_PROCESS';
    case SECCOMP_RET.KILL_THREAD:
      return 'SCMP_ACT_KILL_THREAD';
    case SECCOMP_RET.TRAP:
      return 'SCMP_ACT_TRAP';
    case SECCOMP_RET.ERRNO:
      return `SCMP_ACT_ERRNO(${data})`;
    case SECCOMP_RET.USER_NOTIF:
      return 'SCMP_ACT_NOTIFY';
    case SECCOMP_RET.TRACE:
      return `SCMP_ACT_TRACE(${data})`;
    case SECCOMP_RET.LOG:
      return 'SCMP_ACT_LOG';
    case SECCOMP_RET.ALLOW:
      return 'SCMP_ACT_ALLOW';
    default:
      return `0x${r.toString(16)}`;
  }
}
