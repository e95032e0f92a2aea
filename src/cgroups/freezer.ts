// Freezing a cgroup: freezer.state on v1 (FREEZING → FROZEN), cgroup.freeze
// on v2 (cgroup.events "frozen 1"). Both wait until the kernel reports the
// whole cgroup frozen, so a fork in flight cannot slip past.
import { CgroupError, cgRead, cgTryRead, cgWrite, readKeyed } from './files';
import { sleepMs } from '../sys/sleep';

const TIMEOUT_MS = 5000;

export interface Freezer {
  version: 1 | 2;
  dir: string;
}

export function freeze(f: Freezer): void {
  if (f.version === 2) {
    cgWrite(f.dir, 'cgroup.freeze', '1');
    waitFor(
      () => readKeyed(f.dir, 'cgroup.events').frozen === 1,
      f,
      () => cgWrite(f.dir, 'cgroup.freeze', '0'),
    );
    return;
  }
  let tries = 0;
  waitFor(
    () => {
      // Re-asking now and then helps when new tasks arrived while freezing.
      if (tries++ % 50 === 0) cgWrite(f.dir, 'freezer.state', 'FROZEN');
      return cgRead(f.dir, 'freezer.state').trim() === 'FROZEN';
    },
    f,
    () => cgWrite(f.dir, 'freezer.state', 'THAWED'),
  );
}

export function thaw(f: Freezer): void {
  if (f.version === 2) {
    cgWrite(f.dir, 'cgroup.freeze', '0');
    waitFor(() => readKeyed(f.dir, 'cgroup.events').frozen !== 1, f);
    return;
  }
  cgWrite(f.dir, 'freezer.state', 'THAWED');
  waitFor(() => cgRead(f.dir, 'freezer.state').trim() === 'THAWED', f);
}

export function isFrozen(f: Freezer): boolean {
  if (f.version === 2) return cgTryRead(f.dir, 'cgroup.freeze')?.trim() === '1';
  return cgTryRead(f.dir, 'freezer.state')?.trim() === 'FROZEN';
}

/** Frozen by itself or by an ancestor: what a process put there would be. */
export function isEffectivelyFrozen(f: Freezer): boolean {
  if (f.version === 2) return isFrozen(f) || readKeyed(f.dir, 'cgroup.events').frozen === 1;
  return /^(FROZEN|FREEZING)$/.test(cgTryRead(f.dir, 'freezer.state')?.trim() ?? '');
}

function waitFor(done: () => boolean, f: Freezer, giveUp?: () => void): void {
  const deadline = Date.now() + TIMEOUT_MS;
  let delay = 1;
  while (!done()) {
    if (Date.now() > deadline) {
      giveUp?.();
      throw new CgroupError(`freezer: ${f.dir} did not change state within ${TIMEOUT_MS} ms`, 'ETIMEDOUT');
    }
    sleepMs(delay);
    delay = Math.min(delay * 2, 10);
  }
}
