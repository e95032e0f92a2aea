// `tsrun run` in the foreground: create, start, forward signals to the init,
// wait for it, delete, and exit with its status (128+signal when killed).
import { createContainer, type CreateOptions } from './create';
import { startContainer } from './start';
import { destroyContainer } from './destroy';
import { ContainerDir } from '../state/store';
import { setChildSubreaper } from '../sys/process';
import { waitpidAsync } from '../sys/wait';
import { debug } from '../cli/log';
import { TtyProxy } from './tty-proxy';
import { FORWARDED } from './signals';


export async function runForeground(opts: CreateOptions, keep: boolean): Promise<number> {
  // After a double fork the init is orphaned; as subreaper we still get to wait for it.
  setChildSubreaper();
  const { container, saved, consoleMaster } = createContainer(opts);
  const pid = saved.pid;
  const tty = consoleMaster !== undefined ? new TtyProxy(consoleMaster) : undefined;
  const forward = (sig: NodeJS.Signals) => {
    // With our own terminal in front, a window change resizes the container's; the kernel signals it.
    if (sig === 'SIGWINCH' && tty) return tty.resize();
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  for (const sig of FORWARDED) process.on(sig, forward);
  container.unlock();
  let code = 255;
  try {
    const locked = ContainerDir.open(opts.root, opts.id);
    try {
      startContainer(locked);
    } finally {
      locked.unlock();
    }
    for (;;) {
      const r = await waitpidAsync(-1);
      if (r.pid !== pid) continue; // an orphan reparented to us
      code = r.code ?? 128 + (r.signal ?? 0);
      break;
    }
    await tty?.finish();
  } finally {
    tty?.close();
    for (const sig of FORWARDED) process.off(sig, forward);
    if (!keep) {
      try {
        destroyContainer(ContainerDir.open(opts.root, opts.id), true);
      } catch (e) {
        debug(`run: cleanup: ${(e as Error).message}`);
      }
    }
  }
  return code;
}
