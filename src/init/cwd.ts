import { mkdirSync } from 'node:fs';

/**
 * mkdir -p, one component at a time: node's recursive mkdirSync loops
 * forever on some paths under /proc (e.g. a missing /proc/self/fd/N).
 */
function mkdirAll(path: string): void {
  let prefix = '';
  for (const part of path.split('/').filter(Boolean)) {
    prefix += `/${part}`;
    try {
      mkdirSync(prefix, 0o755);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/**
 * Enter process.cwd after pivot_root, creating it like runc does. The path
 * is resolved inside the container's root, but /proc/self/fd/N there still
 * leads to whatever the init holds open (CVE-2024-21626: a leaked host
 * directory fd as cwd). getcwd() cannot name a directory outside the root,
 * so a cwd it cannot name is refused.
 */
export function enterCwd(cwd: string): void {
  try {
    mkdirAll(cwd);
    process.chdir(cwd);
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new Error(`chdir to cwd (${JSON.stringify(cwd)}) set in config.json failed: ${reason}`, { cause: e });
  }
  let where: string;
  try {
    where = process.cwd();
  } catch {
    where = '';
  }
  if (!where.startsWith('/')) {
    throw new Error(`cwd (${JSON.stringify(cwd)}) set in config.json leads outside the container's root`);
  }
}
