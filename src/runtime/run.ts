// `tsrun run`: create and start; in the foreground also forward signals to
// the init, wait for it, delete, and exit with its status (128+signal when killed).
import { createContainer, type CreateOptions } from './create';
import { startContainer } from './start';
import { startRelaying } from './start-notify';
import type { NotifyRelay } from './notify-socket';
import { destroyContainer } from './destroy';
import { ContainerDir, type Saved } from '../state/store';
import { setChildSubreaper } from '../sys/process';
import { debug, warn } from '../log';
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
    const { saved: started, relay } = start(opts);
    // runc 1.1: MAINPID is the foreground run itself, which systemd then watches (it waits for the container).
    const ready = relay && passOn(relay, () => relay.passReadyAsync(pid, started.pidStart, process.pid));
    code = await waitExit(pid);
    await ready;
    await tty?.finish();
  } finally {
    tty?.close();
    stopForwarding();
    if (!keep) await remove(opts);
  }
  return code;
}

/**
 * `run --detach`: a start that fails leaves nothing behind, as runc's run.
 * With NOTIFY_SOCKET it returns once the container sent READY (or ended).
 */
export async function runDetached(opts: CreateOptions): Promise<void> {
  const { container } = createContainer(opts);
  container.unlock();
  let started: ReturnType<typeof start>;
  try {
    started = start(opts);
  } catch (e) {
    await remove(opts);
    throw e;
  }
  const { saved, relay } = started;
  if (relay) await passOn(relay, () => relay.passReady(saved.pid, saved.pidStart, saved.pid));
}

/** Started and unlocked; with NOTIFY_SOCKET, its notify socket bound before the container was released. */
function start(opts: CreateOptions): { saved: Saved; relay?: NotifyRelay } {
  const locked = ContainerDir.open(opts.root, opts.id);
  try {
    return opts.notifySocket ? startRelaying(locked, opts.notifySocket) : { saved: startContainer(locked) };
  } finally {
    locked.unlock();
  }
}

/**
 * READY passed on by run: the container runs whatever becomes of it, so a
 * failure (a NOTIFY_SOCKET nobody listens on) is a warning; runc's run ignores it.
 */
async function passOn(relay: NotifyRelay, pass: () => void | Promise<void>): Promise<void> {
  try {
    await pass();
  } catch (e) {
    warn((e as Error).message);
  } finally {
    relay.close();
  }
}

async function remove(opts: CreateOptions): Promise<void> {
  try {
    await destroyContainer(ContainerDir.open(opts.root, opts.id), true);
  } catch (e) {
    debug(`run: cleanup: ${(e as Error).message}`);
  }
}
