// `start` with NOTIFY_SOCKET in the caller's environment: the container's
// READY=… passed on. Apart from start.ts, which loads no FFI: the notify
// socket's datagrams and poll(2) do.
import type { ContainerDir } from '../state/store';
import type { Saved } from '../state/status';
import { release, startable } from './start';
import { NotifyRelay } from './notify-socket';

/**
 * `start` with NOTIFY_SOCKET in the caller's environment (runc 1.1): the
 * container's notify socket bound, the container started and unlocked (kill
 * and delete may act on it meanwhile), then its READY=… passed on with MAINPID
 * its process, or nothing if that process ends first. A NOTIFY_SOCKET nobody
 * listens on fails start after the container started, as runc's does.
 */
export function startNotifying(c: ContainerDir, notifySocket: string): void {
  const { saved, relay } = startRelaying(c, notifySocket);
  c.unlock();
  try {
    relay.passReady(saved.pid, saved.pidStart, saved.pid);
  } finally {
    relay.close();
  }
}

/** Started, with its notify socket bound first (run passes READY on as it must); the caller closes the relay. */
export function startRelaying(c: ContainerDir, notifySocket: string): { saved: Saved; relay: NotifyRelay } {
  const saved = startable(c);
  const relay = NotifyRelay.bind(c, notifySocket);
  try {
    release(c, saved);
  } catch (e) {
    relay.close();
    throw e;
  }
  return { saved, relay };
}
