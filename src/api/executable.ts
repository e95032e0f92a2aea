// The tsrun executable the library runs every init and exec'd process from.
// The library lives in the caller's process (node, or a Bun script), whose
// own executable is not tsrun: the init must still be tsrun's, protected by
// the native helper (read-only bind, docs/executable.md), so its path is a
// parameter, by default the one installed with the package.
import { accessSync, constants, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidInputError } from '../errors';

/**
 * <package>/dist/tsrun: this module is two levels below the package root
 * both as source (src/api/) and as the built library (dist/lib/).
 */
export function defaultExecutable(): string {
  return join(__dirname, '..', '..', 'dist', 'tsrun');
}

/** The executable to use, checked now rather than at the native helper's execveat. */
export function resolveExecutable(explicit: string | undefined): string {
  const path = resolve(explicit ?? defaultExecutable());
  const what =
    explicit === undefined
      ? `executable ${path} (the package's dist/tsrun; pass { executable } to use another)`
      : `executable ${path}`;
  let file;
  try {
    file = statSync(path);
  } catch (e) {
    throw new InvalidInputError(
      `${what}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (e as Error).message}`,
    );
  }
  if (!file.isFile()) throw new InvalidInputError(`${what}: is not a regular file`);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new InvalidInputError(`${what}: is not executable`);
  }
  return path;
}
