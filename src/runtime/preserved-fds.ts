// --preserve-fds N hands fds 3..3+N-1 of the caller to the container's
// process. Each must be open and must be the caller's, not the runtime's own.
//
// Close-on-exec alone cannot tell them apart under Bun: before any JavaScript
// runs, Bun marks every fd from 4 up close-on-exec (bun_initialize_process:
// close_range(4, ~0, CLOSE_RANGE_CLOEXEC)), the caller's included; it leaves
// fd 3 alone. Measured (strace, /proc/PID/fd at the check): the executable
// then holds, besides what it inherited, Bun's event loop (an epoll instance
// and the eventfd registered in it), made right after that sweep at the two
// lowest free numbers, and later tsrun's own fds (the koffi and helper
// memfds, …). So if the caller left any fd of the range unopened, the lowest
// such number holds the event loop's epoll instance: refusing that instance
// (and an fd 3 that is close-on-exec, which no inherited fd can be) refuses
// every range the caller did not fill, and never an fd it passed. Under
// node (the library API) nothing is swept and close-on-exec means "own".
import { readFileSync, readlinkSync } from 'node:fs';
import { InvalidInputError } from '../errors';
import { isCloexec } from '../sys/fs';

/** Bun sets close-on-exec on the inherited fds from this one up at start-up. */
const SWEPT_FROM = 4;
const sweptAtStart = (fd: number) => process.versions.bun !== undefined && fd >= SWEPT_FROM;

export function checkPreservedFds(n: number): number[] {
  const fds = Array.from({ length: n }, (_, i) => 3 + i);
  for (const fd of fds) {
    const cloexec = isCloexec(fd);
    if (cloexec === undefined) throw new InvalidInputError(`--preserve-fds ${n}: fd ${fd} is not open`);
    const own = cloexec && !sweptAtStart(fd) ? 'close-on-exec' : isEventLoop(fd) ? 'its event loop' : undefined;
    if (own)
      throw new InvalidInputError(`--preserve-fds ${n}: fd ${fd} was not passed to tsrun (it is tsrun's own: ${own})`);
  }
  return fds;
}

const link = (fd: number) => {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return '';
  }
};

/**
 * The runtime's event loop: an epoll instance with one of our eventfds, made
 * after it (a higher number), registered in it. An epoll instance the caller
 * passes names the caller's fd numbers, not ours.
 */
export function isEventLoop(fd: number): boolean {
  if (link(fd) !== 'anon_inode:[eventpoll]') return false;
  let info: string;
  try {
    info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  } catch {
    return false;
  }
  const targets = [...info.matchAll(/^tfd:\s*(\d+)/gm)].map((m) => Number(m[1]));
  return targets.some((t) => t > fd && link(t) === 'anon_inode:[eventfd]');
}
