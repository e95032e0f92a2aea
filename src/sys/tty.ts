// Pseudo-terminal ioctls: unlock and name a pty, open its peer, size it and
// make it the controlling terminal.
import { libc, check } from './libc';
import { O } from './fs';

const TIOCSCTTY = 0x540e;
const TIOCGWINSZ = 0x5413;
const TIOCSWINSZ = 0x5414;
const TIOCGPTN = 0x80045430;
const TIOCSPTLCK = 0x40045431;
const TIOCGPTPEER = 0x5441;

const _ioctl = libc.func('int ioctl(int fd, unsigned long request, ...)');

export function unlockpt(master: number): void {
  check(_ioctl(master, TIOCSPTLCK, 'int *', new Int32Array([0])), 'ioctl', `TIOCSPTLCK, fd ${master}`);
}

/** The N of /dev/pts/N for a master. */
export function ptsNumber(master: number): number {
  const n = new Int32Array(1);
  check(_ioctl(master, TIOCGPTN, '_Out_ int *', n), 'ioctl', `TIOCGPTN, fd ${master}`);
  return n[0];
}

/**
 * Opens the slave through the master's own devpts instance (no path lookup,
 * so nothing in the container's /dev/pts can redirect it). Close-on-exec.
 */
export function openPeer(master: number): number {
  const flags = O.RDWR | O.NOCTTY | O.CLOEXEC;
  return check(_ioctl(master, TIOCGPTPEER, 'int', flags), 'ioctl', `TIOCGPTPEER, fd ${master}`);
}

export interface Winsize {
  rows: number;
  cols: number;
}

export function setWinsize(fd: number, size: Winsize): void {
  // struct winsize { unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel; }
  const ws = new Uint16Array([size.rows, size.cols, 0, 0]);
  check(_ioctl(fd, TIOCSWINSZ, 'uint16_t *', ws), 'ioctl', `TIOCSWINSZ ${size.rows}x${size.cols}, fd ${fd}`);
}

export function getWinsize(fd: number): Winsize {
  const ws = new Uint16Array(4);
  check(_ioctl(fd, TIOCGWINSZ, '_Out_ uint16_t *', ws), 'ioctl', `TIOCGWINSZ, fd ${fd}`);
  return { rows: ws[0], cols: ws[1] };
}

/** Makes fd the controlling terminal of this session (the caller leads it). */
export function setControllingTerminal(fd: number): void {
  check(_ioctl(fd, TIOCSCTTY, 'int', 0), 'ioctl', `TIOCSCTTY, fd ${fd}`);
}
