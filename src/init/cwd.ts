import { closeQuiet } from '../sys/fs';
import { mkdirAllInRoot, openRootDir } from '../linux/in-root';

/**
 * Creates process.cwd when it is missing, as runc does: after pivot_root,
 * before the root may turn read-only, as the init's user, mode 0755. The
 * path is resolved inside the new root (RESOLVE_IN_ROOT, no magic links), so
 * neither a symlink nor /proc/self/fd/N in it creates anything elsewhere.
 * exec's process does not call this: runc's exec only enters its cwd.
 */
export function createCwd(cwd: string): void {
  let root: number | undefined;
  try {
    root = openRootDir('/');
    closeQuiet(mkdirAllInRoot(root, cwd));
  } catch (e) {
    throw new Error(`creating cwd (${JSON.stringify(cwd)}) set in config.json failed: ${(e as Error).message}`, {
      cause: e,
    });
  } finally {
    if (root !== undefined) closeQuiet(root);
  }
}

/**
 * Enter process.cwd (created by createCwd for the init; an exec'd process's
 * must exist, as with runc). The path is resolved inside the container's
 * root, but /proc/self/fd/N there still leads to whatever the process holds
 * open (CVE-2024-21626: a leaked host directory fd as cwd). getcwd() cannot
 * name a directory outside the root, so a cwd it cannot name is refused.
 */
export function enterCwd(cwd: string): void {
  try {
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
