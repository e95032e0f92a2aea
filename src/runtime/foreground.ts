// A foreground run or exec: pass the caller's signals on to the process and
// wait, as subreaper, for it to exit.
import { waitpidAsync } from '../sys/wait';
import { debug } from '../log';
import { FORWARDED } from './signals';
import type { TtyProxy } from './tty-proxy';

/**
 * Forwards FORWARDED to pid until the returned stop(); with our own terminal in front, a window change resizes it
 * instead (the kernel then signals the process).
 */
export function forwardSignals(pid: number, tty: TtyProxy | undefined): () => void {
  const forward = (sig: NodeJS.Signals) => {
    if (sig === 'SIGWINCH' && tty) return tty.resize();
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  for (const sig of FORWARDED) process.on(sig, forward);
  return () => {
    for (const sig of FORWARDED) process.off(sig, forward);
  };
}

/**
 * pid's exit status, or 128+signal; other children (an intermediate process, orphans reparented to us) are reaped on
 * the way.
 */
export async function waitExit(pid: number): Promise<number> {
  for (;;) {
    const r = await waitpidAsync(-1);
    if (r.pid !== pid) continue;
    const status = r.code ?? 128 + (r.signal ?? 0);
    debug('process exited', { pid, status });
    return status;
  }
}
