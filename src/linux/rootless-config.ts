// What a rootless container may not ask for, checked before anything is made
// so that each refusal names its field: a caller without real root needs a
// user namespace with maps it may write (id-maps.ts), cannot lower its
// oom_score_adj, and cannot write the host's /sys through a bind.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { Spec } from '../spec/types';
import { InvalidInputError } from '../errors';
import { planIdMaps } from './id-maps';
import { inUserNamespace } from './rootless';

function ownOomScoreAdj(): number | undefined {
  try {
    return Number(readFileSync('/proc/self/oom_score_adj', 'utf8').trim());
  } catch {
    return undefined;
  }
}

const isBind = (options: string[] | undefined, type: string | undefined) =>
  type === 'bind' || (options ?? []).some((o) => o === 'bind' || o === 'rbind');

/** Every problem, as "config.json: /path: why" lines. */
export function rootlessProblems(config: Spec, euid = process.geteuid?.() ?? 0): string[] {
  const out: string[] = [];
  // root in a user namespace writes maps itself but holds no host capability.
  if (euid === 0 && !inUserNamespace()) return out;
  const user = (config.linux?.namespaces ?? []).find((n) => n.type === 'user');
  if (euid !== 0) {
    if (!user)
      out.push(
        '/linux/namespaces: a rootless container needs a user namespace: add {"type": "user"} ' +
          'with /linux/uidMappings and /linux/gidMappings (see tsrun spec --rootless)',
      );
    else if (!user.path) {
      try {
        planIdMaps(config);
      } catch (e) {
        out.push((e as Error).message.replace(/^config\.json: /, ''));
      }
    }
  }
  const adj = config.process?.oomScoreAdj;
  const own = ownOomScoreAdj();
  if (adj !== undefined && own !== undefined && adj < own) {
    out.push(
      `/process/oomScoreAdj: ${adj} is below the caller's own ${own}; ` +
        'lowering it needs CAP_SYS_RESOURCE on the host (real root)',
    );
  }
  (config.mounts ?? []).forEach((m, i) => {
    const dest = posix.normalize(`/${m.destination}`);
    const fromHostSys = m.source !== undefined && posix.normalize(m.source) === '/sys';
    if (dest === '/sys' && fromHostSys && isBind(m.options, m.type) && !(m.options ?? []).includes('ro')) {
      out.push(
        `/mounts/${i}/options: a writable bind of the host's /sys needs real root ` +
          `(its files belong to the host's root); add "ro"`,
      );
    }
  });
  return out.map((p) => `config.json: ${p}`);
}

/** Throws every problem at once; nothing to check for the real root. */
export function checkRootless(config: Spec): void {
  const problems = rootlessProblems(config);
  if (problems.length) throw new InvalidInputError(problems.join('\n'));
}
