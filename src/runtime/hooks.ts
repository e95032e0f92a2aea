import type { Hook } from '../spec/types';
import { runHooks } from '../hooks/run';
import { warn } from '../cli/log';

/** poststart and poststop: a failing hook is a warning and the rest still run (the spec). */
export function runHooksWarnOnly(kind: 'poststart' | 'poststop', hooks: Hook[] | undefined, state: object): void {
  for (const hook of hooks ?? []) {
    try {
      runHooks(kind, [hook], state);
    } catch (e) {
      warn((e as Error).message);
    }
  }
}
