// The process's capability sets (process.capabilities) made real: the lists
// turned into masks of what this kernel has, the bounding set dropped, the
// ambient set raised. credentials.ts calls them around the user switch.
import { capBoundingHas, capBoundingDrop, ambientClearAll, ambientRaise } from '../sys/process';
import type { LinuxCapabilities } from '../spec/types';
import { capMask, capNames, lastCap, supportedMask, CAPS } from './capabilities';
import { debug } from '../log';

export interface CapPlan {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

// A missing list is an empty set, as in runc: listing nothing grants nothing.
export function planCaps(c: LinuxCapabilities): CapPlan {
  const plan = {
    bounding: capMask(c.bounding),
    effective: capMask(c.effective),
    permitted: capMask(c.permitted),
    inheritable: capMask(c.inheritable),
    ambient: capMask(c.ambient),
  };
  const all = plan.bounding | plan.effective | plan.permitted | plan.inheritable | plan.ambient;
  const unavailable = all & ~supportedMask();
  // create and exec warned already, naming each entry's JSON path (spec/capabilities.ts).
  if (unavailable) debug(`ignoring capabilities this kernel does not have: ${capNames(unavailable).join(', ')}`);
  const keep = supportedMask();
  return {
    bounding: plan.bounding & keep,
    effective: plan.effective & keep,
    permitted: plan.permitted & keep,
    inheritable: plan.inheritable & keep,
    ambient: plan.ambient & keep,
  };
}

/**
 * Runs in the init between its release by `start` and execve, which `start`
 * waits for: each name comes from one table made once (a capNames() per
 * capability cost 4-20 ms there, measured).
 */
export function dropBoundingSet(keep: bigint): void {
  const names = capNumberNames();
  for (let cap = 0; cap <= lastCap(); cap++) {
    if ((keep >> BigInt(cap)) & 1n) continue;
    if (capBoundingHas(cap)) capBoundingDrop(cap, names[cap] ?? String(cap));
  }
}

/** Each capability's name by its number. */
function capNumberNames(): string[] {
  const names: string[] = [];
  for (const [name, n] of Object.entries(CAPS)) names[n] ??= name;
  return names;
}

export function raiseAmbient(ambient: bigint): void {
  ambientClearAll();
  for (const name of capNames(ambient)) {
    try {
      ambientRaise(CAPS[name], name);
    } catch (err) {
      // The kernel only raises what is both permitted and inheritable; runc
      // goes on silently (runc spec's own default asks for ambient caps
      // without inheritable ones), so only --debug says so.
      debug(`cannot raise ambient capability ${name}: ${(err as Error).message}`);
    }
  }
}
