// `tsrun run`: create and start; in the foreground also forward signals to
// the init, wait for it, delete, and exit with its status (128+signal when killed).
import { createContainer, type CreateOptions } from './create';
import { startContainer } from './start';
import { destroyContainer } from './destroy';
import { ContainerDir } from '../state/store';
import { setChildSubreaper } from '../sys/process';
import { debug } from '../log';
import { TtyProxy } from './tty-proxy';
import { forwardSignals, waitExit } from './foreground';

export async function runForeground(opts: CreateOptions, keep: boolean): Promise<number> {
  // After a double fork the init is orphaned; as subreaper we still get to wait for it.
  setChildSubreaper();
  const { container, saved, consoleMaster } = createContainer(opts);
  const pid = saved.pid;
  const tty = consoleMaster !== undefined ? new TtyProxy(consoleMaster) : undefined;
  const stopForwarding = forwardSignals(pid, tty);
  container.unlock();
  let code: number;
  try {
    start(opts);
    code = await waitExit(pid);
    await tty?.finish();
  } finally {
    tty?.close();
    stopForwarding();
    if (!keep) remove(opts);
  }
  return code;
}

/** `run --detach`: a start that fails leaves nothing behind, as runc's run. */
export function runDetached(opts: CreateOptions): void {
  const { container } = createContainer(opts);
  container.unlock();
  try {
    start(opts);
  } catch (e) {
    remove(opts);
    throw e;
  }
}

function start(opts: CreateOptions): void {
  const locked = ContainerDir.open(opts.root, opts.id);
  try {
    startContainer(locked);
  } finally {
    locked.unlock();
  }
}

function remove(opts: CreateOptions): void {
  try {
    destroyContainer(ContainerDir.open(opts.root, opts.id), true);
  } catch (e) {
    debug(`run: cleanup: ${(e as Error).message}`);
  }
}
