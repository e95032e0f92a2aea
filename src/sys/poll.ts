// poll(2), synchronously or on a worker thread: the foreground terminal proxy
// waits on several fds without handing them to node's streams (which would
// set O_NONBLOCK on descriptions shared with the container or the caller).
import { koffi, libc, check, lastErrno } from './libc';

export const POLL = {
  IN: 0x001,
  OUT: 0x004,
  ERR: 0x008,
  HUP: 0x010,
  NVAL: 0x020,
} as const;

const EINTR = 4;
// struct pollfd { int fd; short events; short revents; }
const POLLFD_SIZE = 8;

const _poll = libc.func('int poll(void *fds, unsigned long nfds, int timeout)');

export interface PollFd {
  fd: number;
  events: number;
}

/** Native memory that stays put while a worker thread's poll() reads it. */
function layout(fds: PollFd[]) {
  const ptr = koffi.alloc('uint8_t', Math.max(fds.length, 1) * POLLFD_SIZE);
  const buf = Buffer.from(koffi.view(ptr, Math.max(fds.length, 1) * POLLFD_SIZE));
  fds.forEach((p, i) => {
    buf.writeInt32LE(p.fd, i * POLLFD_SIZE);
    buf.writeInt16LE(p.events, i * POLLFD_SIZE + 4);
    buf.writeInt16LE(0, i * POLLFD_SIZE + 6);
  });
  const revents = () => fds.map((_, i) => buf.readInt16LE(i * POLLFD_SIZE + 6) & 0xffff);
  return { ptr, revents };
}

/** Blocking poll; returns each fd's revents (all 0 on timeout). EINTR counts as a timeout. */
export function poll(fds: PollFd[], timeoutMs: number): number[] {
  const { ptr, revents } = layout(fds);
  try {
    const ret = _poll(ptr, fds.length, timeoutMs) as number;
    if (ret < 0 && lastErrno() === EINTR) return fds.map(() => 0);
    check(ret, 'poll', fds.map((p) => p.fd).join(','));
    return revents();
  } finally {
    koffi.free(ptr);
  }
}

/** poll on a koffi worker thread (no timeout unless given), so the event loop keeps running meanwhile. */
export function pollAsync(fds: PollFd[], timeoutMs = -1): Promise<number[]> {
  const { ptr, revents } = layout(fds);
  return new Promise((resolve, reject) => {
    _poll.async(ptr, fds.length, timeoutMs, (err: unknown, ret: number) => {
      try {
        if (err) return reject(err);
        // The errno of a worker thread is not ours to read; an interrupted poll just reports nothing.
        if (ret < 0) return resolve(fds.map(() => 0));
        resolve(revents());
      } finally {
        koffi.free(ptr);
      }
    });
  });
}
