// The one way tests wait for what another process does: probe, and again
// every intervalMs, until the value is what the test waits for or time runs
// out. The last value is returned either way, so the test asserts on (and
// reports) what it saw rather than on a bare timeout.
import { sleepMs } from '../../src/sys/sleep';

export interface WaitOptions<T> {
  /** Give up after this long; the probe's last value is returned anyway (default 10 s). */
  timeoutMs?: number;
  /** Pause between probes (default 20 ms). */
  intervalMs?: number;
  /** When the value is the one waited for (default: it is truthy). */
  done?: (value: T) => boolean;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait without an event loop, for tests driving the executable with spawnSync. */
export const sleepSync = sleepMs;

/** Poll `probe` (which may be async) until it is done or timeoutMs has passed; its last value. */
export async function waitFor<T>(probe: () => T | Promise<T>, opts: WaitOptions<T> = {}): Promise<T> {
  const { timeoutMs = 10000, intervalMs = 20, done = (v: T) => Boolean(v) } = opts;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(intervalMs);
  }
}

/** waitFor for synchronous callers: the same polling, sleeping with Atomics.wait. */
export function waitForSync<T>(probe: () => T, opts: WaitOptions<T> = {}): T {
  const { timeoutMs = 10000, intervalMs = 20, done = (v: T) => Boolean(v) } = opts;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (done(value) || Date.now() > deadline) return value;
    sleepSync(intervalMs);
  }
}
