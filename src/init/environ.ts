// The program's environment from process.env, as runc builds it: a name given
// twice keeps its first place and takes the last value (runc sets each entry
// with os.Setenv in order), so the program never sees two values for one name.

export function dedupEnv(env: string[]): string[] {
  const out: string[] = [];
  const at = new Map<string, number>();
  for (const entry of env) {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    const i = at.get(name);
    if (i === undefined) {
      at.set(name, out.length);
      out.push(entry);
    } else out[i] = entry;
  }
  return out;
}
