// Fields of config.json that tsrun does not implement. The spec wants a
// runtime to fail rather than silently ignore what it was asked for, so each
// one that asks for something is an error naming its JSON path.
import type { Spec } from './types';

/** Fields not in tsrun's schemas (newer spec versions) are read untyped. */
type Untyped = Record<string, unknown> | undefined;

function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

export function unimplementedFields(config: Spec): string[] {
  const linux = config.linux as Untyped;
  const problems: string[] = [];
  const refuse = (path: string, why: string) => problems.push(`config.json: ${path}: ${why}`);
  if (isSet(linux?.intelRdt)) refuse('/linux/intelRdt', 'Intel RDT (resctrl) is not supported by tsrun');
  if (isSet(linux?.mountLabel))
    refuse('/linux/mountLabel', 'SELinux mount labels need SELinux, which tsrun does not support');
  return problems;
}
