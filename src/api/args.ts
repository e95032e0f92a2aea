// Checks on the library's arguments, done before anything is touched so that
// a bad call leaves nothing behind. Each error names the argument.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidInputError } from '../errors';
import { validateId } from '../state/id';

/**
 * The state root as an absolute path. It may be missing (create makes it;
 * list finds nothing) but not be something else than a directory.
 */
export function checkRoot(root: unknown): string {
  if (typeof root !== 'string' || root === '') throw new InvalidInputError('root: must be a non-empty path');
  const abs = resolve(root);
  let st;
  try {
    st = statSync(abs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return abs;
    throw new InvalidInputError(`root ${abs}: ${(e as Error).message}`);
  }
  if (!st.isDirectory()) throw new InvalidInputError(`root ${abs}: is not a directory`);
  return abs;
}

export function checkId(id: unknown): string {
  if (typeof id !== 'string') throw new InvalidInputError('id: must be a string');
  return validateId(id);
}

export function checkCount(name: string, n: unknown): number {
  if (n === undefined) return 0;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
    throw new InvalidInputError(`${name}: must be a non-negative integer, got ${JSON.stringify(n)}`);
  return n;
}

export function checkOptionalPath(name: string, p: unknown): string | undefined {
  if (p === undefined) return undefined;
  if (typeof p !== 'string' || p === '') throw new InvalidInputError(`${name}: must be a non-empty path`);
  return resolve(p);
}
