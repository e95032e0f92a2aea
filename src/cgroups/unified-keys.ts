// linux.resources.unified keys. The spec asks for every key to be written,
// those unknown to the runtime included (config-linux.md#unified: "Configuration
// unknown to the runtime MUST still be written"): a key is accepted when it is
// the name of a cgroup v2 interface file (CONTROLLER.PARAMETER, no path), and
// the kernel then decides. The files through which the runtime itself places,
// freezes and kills the container's processes are never the config's.
const RUNTIME_OWNED = new Set([
  'cgroup.procs',
  'cgroup.threads',
  'cgroup.subtree_control',
  'cgroup.freeze',
  'cgroup.kill',
]);

/** CONTROLLER.PARAMETER: "memory.max", "hugetlb.2MB.rsvd.max", "cgroup.max.depth". */
const FILE_NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/;

/** Why the config may not write this key, or undefined when it may. */
export function unifiedKeyProblem(key: string): string | undefined {
  if (RUNTIME_OWNED.has(key)) return `${key} is the runtime's own (it places, freezes and kills the container)`;
  if (!FILE_NAME.test(key)) return 'not a cgroup v2 interface file name (CONTROLLER.PARAMETER, no path)';
  return undefined;
}

/** The controller a key belongs to ("memory.max" → "memory"); "" for cgroup core files. */
export function controllerOfKey(key: string): string {
  if (key.endsWith('.pressure')) return '';
  const prefix = key.split('.')[0];
  return prefix === 'cgroup' || prefix === 'irq' ? '' : prefix;
}
