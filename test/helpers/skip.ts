// Skipping with a reason, type-checked.
import type { Test } from 'tap';

/**
 * A skipped subtest named `reason`: what tap's t.skip(reason) reports, in
 * the one form its types declare (with a callback, which a skipped test
 * never runs).
 */
export function skipBecause(t: Pick<Test, 'skip'>, reason: string): ReturnType<Test['skip']> {
  return t.skip(reason, () => {});
}
