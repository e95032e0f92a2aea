// eventfd(2) for cgroup v1 notifications (memory.oom_control through
// cgroup.event_control). Non-blocking, so a poller never stalls the event loop.
import { libc, check } from './libc';
import { readSync } from 'node:fs';

const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;

const _eventfd = libc.func('int eventfd(unsigned int initval, int flags)');

export function eventfdNonblocking(label: string): number {
  return check(_eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), 'eventfd', label);
}

/** Reads and resets the counter; 0 when nothing was signalled yet. */
export function drainEventfd(fd: number): bigint {
  const buf = Buffer.alloc(8);
  try {
    readSync(fd, buf, 0, 8, null);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return 0n;
    throw err;
  }
  return buf.readBigUInt64LE(0);
}
