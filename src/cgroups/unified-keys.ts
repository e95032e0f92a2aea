// The cgroup v2 interface files a container may set through
// linux.resources.unified (Documentation/admin-guide/cgroup-v2.rst). Files
// the runtime itself owns (cgroup.procs, cgroup.subtree_control …) and
// read-only files are not accepted.
const fixed = new Set([
  'cgroup.max.depth',
  'cgroup.max.descendants',
  'cgroup.type',
  'cpu.weight',
  'cpu.weight.nice',
  'cpu.max',
  'cpu.max.burst',
  'cpu.idle',
  'cpu.uclamp.min',
  'cpu.uclamp.max',
  'cpuset.cpus',
  'cpuset.mems',
  'cpuset.cpus.partition',
  'cpuset.cpus.exclusive',
  'io.weight',
  'io.bfq.weight',
  'io.max',
  'io.latency',
  'io.prio.class',
  'memory.min',
  'memory.low',
  'memory.high',
  'memory.max',
  'memory.oom.group',
  'memory.reclaim',
  'memory.swap.high',
  'memory.swap.max',
  'memory.zswap.max',
  'memory.zswap.writeback',
  'pids.max',
  'rdma.max',
  'misc.max',
  'cpu.pressure',
  'memory.pressure',
  'io.pressure',
  'irq.pressure',
  'cgroup.pressure',
]);

const hugetlb = /^hugetlb\.[1-9]\d*(KB|MB|GB|TB|PB)\.(max|rsvd\.max)$/;

export function isKnownUnifiedKey(key: string): boolean {
  return fixed.has(key) || hugetlb.test(key);
}

/** The controller a key belongs to ("memory.max" → "memory"); "" for cgroup core files. */
export function controllerOfKey(key: string): string {
  if (key.endsWith('.pressure')) return '';
  const prefix = key.split('.')[0];
  return prefix === 'cgroup' || prefix === 'irq' ? '' : prefix;
}
