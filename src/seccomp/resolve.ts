// Rules by syscall number for one architecture. Semantics (libseccomp's where
// it has one): a rule without conditions decides its syscall outright and
// shadows conditional rules for it; conditional rules are tried in profile
// order, the first whose conditions all hold wins, else the default action.
// Of two unconditional rules the first wins; two rules with the same
// conditions and different actions are an error.
import { debug } from '../log';
import type { ArchDef } from './arch';
import { SeccompConfigError, type Cond, type Policy } from './profile';

export interface CondRule {
  ret: number;
  conds: Cond[];
}

/** What a syscall number leads to: a plain verdict, or rules to test. */
export type Leaf = { ret: number } | { rules: CondRule[]; fallback: number };

interface Entry {
  uncond?: { ret: number; path: string };
  conds: (CondRule & { key: string; path: string })[];
}

const condKey = (conds: Cond[]) =>
  conds
    .map((c) => `${c.index}:${c.op}:${c.value}:${c.valueTwo}`)
    .sort()
    .join('&');

export function resolveArch(policy: Policy, arch: ArchDef): Map<number, Leaf> {
  const entries = new Map<number, Entry>();
  for (const rule of policy.rules) {
    // A rule with the default action changes nothing, and libseccomp (so
    // runc) drops it: it must not shadow other rules for its syscall either.
    if (rule.ret === policy.defaultRet) continue;
    for (const name of rule.names) {
      const nr = arch.table[name];
      if (nr === undefined) continue;
      let e = entries.get(nr);
      if (!e) entries.set(nr, (e = { conds: [] }));
      const conflict = (other: string) =>
        new SeccompConfigError(
          rule.path,
          `conflicts with ${other}: different actions for ${name} under the same conditions`,
        );
      if (rule.conds.length === 0) {
        // The first wins, as with libseccomp; containers-common's default
        // profile relies on it (setns both allowed and, without CAP_SYS_ADMIN, denied).
        if (e.uncond && e.uncond.ret !== rule.ret)
          debug(`seccomp: ${rule.path}: ${name} already decided by ${e.uncond.path}; ignored`);
        e.uncond ??= { ret: rule.ret, path: rule.path };
      } else {
        const key = condKey(rule.conds);
        const same = e.conds.find((c) => c.key === key);
        if (same && same.ret !== rule.ret) throw conflict(same.path);
        if (!same) e.conds.push({ ret: rule.ret, conds: rule.conds, key, path: rule.path });
      }
    }
  }
  const leaves = new Map<number, Leaf>();
  for (const [nr, e] of entries) {
    if (e.uncond) {
      leaves.set(nr, { ret: e.uncond.ret });
    } else if (e.conds.length) {
      leaves.set(nr, { rules: e.conds.map(({ ret, conds }) => ({ ret, conds })), fallback: policy.defaultRet });
    }
  }
  return leaves;
}

/** Syscall names no architecture of the filter knows (runc skips them too). */
export function unknownNames(policy: Policy): string[] {
  const unknown = new Set<string>();
  for (const rule of policy.rules) {
    for (const name of rule.names) if (!policy.arches.some((a) => name in a.table)) unknown.add(name);
  }
  return [...unknown];
}
