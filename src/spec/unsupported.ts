// What config.json can ask for that tsrun does not implement yet. The spec
// says runtimes MUST fail on unsupported values rather than silently ignore
// them, so each entry here is an error (or, for device rules, a warning).
// Work that implements a feature deletes its entry here.
import type { LinuxResources, Spec } from './types';

const notYet = (path: string) => `config.json: ${path}: not supported yet`;

/**
 * A resource is "set" when it holds a value that asks for something. Zero,
 * -1 (unlimited), false and empty values are what clients such as dockerd
 * send for "no limit", so they do not count.
 */
function asksForSomething(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === -1 || v === '') return false;
  if (Array.isArray(v)) return v.some(asksForSomething);
  if (typeof v === 'object') return Object.values(v).some(asksForSomething);
  return true;
}

export function unsupportedFields(config: Spec): string[] {
  const problems: string[] = [];
  const resources = config.linux?.resources ?? {};
  for (const key of Object.keys(resources) as (keyof LinuxResources)[]) {
    if (key === 'devices') continue; // see deviceRulesWarning
    if (asksForSomething(resources[key])) problems.push(notYet(`/linux/resources/${key}`));
  }
  if (config.linux?.seccomp !== undefined) problems.push(notYet('/linux/seccomp'));
  return problems;
}

/** Device cgroup rules are accepted but not enforced yet: say so. */
export function deviceRulesWarning(config: Spec): string | undefined {
  if (!config.linux?.resources?.devices?.length) return undefined;
  return 'config.json: /linux/resources/devices: device cgroup rules are not enforced yet';
}
