// linux.memoryPolicy (runtime-spec 1.3): the NUMA memory policy the
// container's processes start with, set with set_mempolicy(2) on the thread
// that execs them. Checked at create against the kernel's rules, so what the
// kernel would refuse is refused before anything is made, naming its field.
import { readFileSync } from 'node:fs';
import type { LinuxMemoryPolicy, MemoryPolicyMode, MemoryPolicyFlag } from '../spec/types';
import { setMempolicy } from '../sys/mempolicy';
import { listMask, maskMembers } from './id-list';

// include/uapi/linux/mempolicy.h (MPOL_WEIGHTED_INTERLEAVE since 6.9).
const MODE: Record<MemoryPolicyMode, number> = {
  MPOL_DEFAULT: 0,
  MPOL_PREFERRED: 1,
  MPOL_BIND: 2,
  MPOL_INTERLEAVE: 3,
  MPOL_LOCAL: 4,
  MPOL_PREFERRED_MANY: 5,
  MPOL_WEIGHTED_INTERLEAVE: 6,
};

const FLAG: Record<MemoryPolicyFlag, number> = {
  MPOL_F_STATIC_NODES: 1 << 15,
  MPOL_F_RELATIVE_NODES: 1 << 14,
  MPOL_F_NUMA_BALANCING: 1 << 13,
};

export const MEMORY_POLICY_MODES = Object.keys(MODE) as MemoryPolicyMode[];
export const MEMORY_POLICY_FLAGS = Object.keys(FLAG) as MemoryPolicyFlag[];

/** A nodemask_t of MAX_NUMNODES (1024 with NODES_SHIFT=10, the largest distributions use). */
const MASK_BYTES = 128;
const NEEDS_NODES: MemoryPolicyMode[] = [
  'MPOL_BIND',
  'MPOL_INTERLEAVE',
  'MPOL_WEIGHTED_INTERLEAVE',
  'MPOL_PREFERRED_MANY',
];
const NO_NODES: MemoryPolicyMode[] = ['MPOL_DEFAULT', 'MPOL_LOCAL'];
const BALANCING_MODES: MemoryPolicyMode[] = ['MPOL_BIND', 'MPOL_PREFERRED_MANY'];

const PATH = '/linux/memoryPolicy';

function nodeMask(p: LinuxMemoryPolicy): Uint8Array | null {
  if (!p.nodes?.trim()) return null;
  return listMask(p.nodes, MASK_BYTES, 'node', `${PATH}/nodes`);
}

/** The node numbers this machine can ever have (/sys/devices/system/node/possible); undefined without NUMA in sysfs. */
function possibleNodes(read: () => string): Uint8Array | undefined {
  try {
    return listMask(read().trim(), MASK_BYTES, 'node', '/sys/devices/system/node/possible');
  } catch {
    return undefined;
  }
}

const readPossible = () => readFileSync('/sys/devices/system/node/possible', 'utf8');

/**
 * Every reason the kernel would refuse this policy, or the host could never
 * honour it, as messages naming the JSON path (empty when it is fine). The
 * rules are set_mempolicy(2)'s, as measured on 6.18.
 */
export function memoryPolicyErrors(p: LinuxMemoryPolicy, read = readPossible): string[] {
  const errors: string[] = [];
  const flags = p.flags ?? [];
  let mask: Uint8Array | null;
  try {
    mask = nodeMask(p);
  } catch (e) {
    return [(e as Error).message];
  }
  const nodes = mask ? maskMembers(mask) : [];
  if (NO_NODES.includes(p.mode) && nodes.length)
    errors.push(`${PATH}/nodes: ${p.mode} takes no nodes (got ${JSON.stringify(p.nodes)})`);
  if (NEEDS_NODES.includes(p.mode) && !nodes.length) errors.push(`${PATH}/nodes: ${p.mode} needs at least one node`);
  const relative = flags.includes('MPOL_F_RELATIVE_NODES');
  if (relative && flags.includes('MPOL_F_STATIC_NODES'))
    errors.push(`${PATH}/flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other`);
  if (flags.includes('MPOL_F_NUMA_BALANCING') && !BALANCING_MODES.includes(p.mode))
    errors.push(`${PATH}/flags: MPOL_F_NUMA_BALANCING needs mode MPOL_BIND or MPOL_PREFERRED_MANY, not ${p.mode}`);
  if (p.mode === 'MPOL_LOCAL' && flags.some((f) => f !== 'MPOL_F_NUMA_BALANCING'))
    errors.push(`${PATH}/flags: MPOL_LOCAL takes no node flags`);
  if (p.mode === 'MPOL_PREFERRED' && !nodes.length && flags.length)
    errors.push(`${PATH}/flags: MPOL_PREFERRED without nodes (local allocation) takes no flags`);
  // Relative node numbers are positions in the allowed set, folded onto it: any number is fine.
  const possible = relative ? undefined : possibleNodes(read);
  if (possible) {
    const missing = nodes.filter((n) => !(possible[n >> 3] & (1 << (n & 7))));
    if (missing.length)
      errors.push(
        `${PATH}/nodes: ${missing.length > 1 ? 'nodes' : 'node'} ${missing.join(', ')} ` +
          `${missing.length > 1 ? 'do' : 'does'} not exist on this host (possible nodes: ${read().trim()})`,
      );
  }
  return errors;
}

/** Set the calling thread's policy; the kernel's refusal names the field and the call. */
export function applyMemoryPolicy(p: LinuxMemoryPolicy | undefined): void {
  if (!p) return;
  const flags = p.flags ?? [];
  const mode = flags.reduce((m, f) => m | FLAG[f], MODE[p.mode]);
  const label = [p.mode, ...flags].join('|') + (p.nodes ? `, nodes ${JSON.stringify(p.nodes)}` : '');
  try {
    setMempolicy(mode, nodeMask(p), label);
  } catch (e) {
    throw new Error(`config.json: ${PATH}: ${(e as Error).message}`, { cause: e });
  }
}
