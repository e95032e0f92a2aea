// The program to execve: args[0] found as runc finds it (Go's exec.LookPath),
// in the container, after pivot_root.
import { statSync } from 'node:fs';
import { delimiter, isAbsolute, resolve as resolvePath } from 'node:path';
import { errnoText } from '../sys/errno';

function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return (e.code && errnoText(e.code)) ?? e.message;
}

/** Like Go's exec.LookPath check: a regular-ish file with some execute bit. */
function executableProblem(path: string): string | undefined {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    return `stat ${path}: ${errText(err)}`;
  }
  if (st.isDirectory()) return `is a directory`;
  if ((st.mode & 0o111) === 0) return 'permission denied';
  return undefined;
}

/**
 * args[0] → the path to execve, looked up in the container (call it after
 * pivot_root). A name with a slash is used as is (relative to `cwd`); a bare
 * name is searched in the PATH of the process's env. Errors read like runc's.
 */
export function resolveExecutable(args0: string, env: string[] | undefined, cwd: string): string {
  if (args0.includes('/')) {
    const path = isAbsolute(args0) ? args0 : resolvePath(cwd, args0);
    const problem = executableProblem(path);
    if (problem) throw new Error(`exec: "${args0}": ${problem}`);
    return path;
  }
  const pathVar =
    (env ?? [])
      .filter((e) => e.startsWith('PATH='))
      .pop()
      ?.slice(5) ?? '';
  if (pathVar !== '') {
    for (const dir of pathVar.split(delimiter)) {
      // An empty PATH entry means the current directory, which is cwd.
      const candidate = resolvePath(cwd, dir === '' ? '.' : dir, args0);
      if (!executableProblem(candidate)) return candidate;
    }
  }
  throw new Error(`exec: "${args0}": executable file not found in $PATH`);
}
