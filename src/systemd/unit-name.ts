// linux.cgroupsPath under the systemd driver, in runc's form
// "slice:prefix:name": the container gets the transient scope
// "prefix-name.scope" in the slice. Empty: runc's defaults, "runc-<id>.scope"
// in system.slice (user.slice of the user's instance for a rootless caller).

export interface SystemdUnit {
  /** The slice the unit goes in ("system.slice"). */
  slice: string;
  /** "runc-<id>.scope" */
  unit: string;
  /** The name part (the container id by default): the unit's description says it. */
  name: string;
}

export class UnitNameError extends Error {}

export function systemdUnit(cgroupsPath: string | undefined, id: string, rootless = false): SystemdUnit {
  const defaultSlice = rootless ? 'user.slice' : 'system.slice';
  if (!cgroupsPath) return { slice: defaultSlice, unit: `runc-${id}.scope`, name: id };
  const parts = cgroupsPath.split(':');
  if (parts.length !== 3)
    throw new UnitNameError(
      `linux.cgroupsPath: expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, ` +
        `got ${JSON.stringify(cgroupsPath)} instead`,
    );
  const [slice, prefix, name] = parts;
  for (const [what, v] of [
    ['slice', slice],
    ['prefix', prefix],
    ['name', name],
  ])
    if (v.includes('/'))
      throw new UnitNameError(`linux.cgroupsPath: the ${what} of ${JSON.stringify(cgroupsPath)} contains "/"`);
  if (name === '') throw new UnitNameError(`linux.cgroupsPath: ${JSON.stringify(cgroupsPath)} has an empty name`);
  // runc would make the slice itself, which cannot hold the init: its start fails later, less clearly.
  if (name.endsWith('.slice'))
    throw new UnitNameError(
      `linux.cgroupsPath: the name of ${JSON.stringify(cgroupsPath)} is a slice, which cannot hold processes`,
    );
  if (slice !== '') expandSlice(slice); // refused here, naming the field, rather than by systemd
  return { slice: slice || defaultSlice, unit: `${prefix}-${name}.scope`, name };
}

/**
 * A slice's cgroup path: systemd nests "a-b-c.slice" as
 * /a.slice/a-b.slice/a-b-c.slice, and "-.slice" is the root.
 */
export function expandSlice(slice: string): string {
  const bad = () =>
    new UnitNameError(
      `linux.cgroupsPath: invalid slice name ${JSON.stringify(slice)} (a systemd slice: "name.slice", ` +
        'dash-separated parts, no "/")',
    );
  if (!slice.endsWith('.slice') || slice.includes('/')) throw bad();
  const base = slice.slice(0, -'.slice'.length);
  if (base === '-') return '/';
  let path = '';
  let prefix = '';
  for (const part of base.split('-')) {
    if (part === '') throw bad();
    path += `/${prefix}${part}.slice`;
    prefix += `${part}-`;
  }
  return path;
}
