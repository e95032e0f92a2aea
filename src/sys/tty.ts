// Pseudo-terminal ioctls: unlock and name a pty, open its peer, size it and
// make it the controlling terminal.
import { ioctl as _ioctl, check } from './libc';
import { O } from './fs';

const TIOCSCTTY = 0x540e;
const TIOCGWINSZ = 0x5413;
const TIOCSWINSZ = 0x5414;
const TIOCGPTN = 0x80045430;
const TIOCSPTLCK = 0x40045431;
const TIOCGPTPEER = 0x5441;

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

// struct termios as the TCGETS/TCSETS ioctls see it (asm-generic, 36 bytes):
// c_iflag, c_oflag, c_cflag, c_lflag (u32 each), c_line (u8), c_cc[19].
const TCGETS = 0x5401;
const TCSETS = 0x5402;
const TERMIOS_SIZE = 36;

/** The terminal's settings, or undefined when fd is not a terminal. */
export function getTermios(fd: number): Buffer | undefined {
  const t = Buffer.alloc(TERMIOS_SIZE);
  return _ioctl(fd, TCGETS, '_Out_ uint8_t *', t) < 0 ? undefined : t;
}

export function setTermios(fd: number, termios: Buffer): void {
  check(_ioctl(fd, TCSETS, 'uint8_t *', termios), 'ioctl', `TCSETS, fd ${fd}`);
}

/** cfmakeraw(3): no echo, no line editing, no signal keys, 8-bit bytes through unchanged. */
export function rawTermios(termios: Buffer): Buffer {
  const t = Buffer.from(termios);
  const IGNBRK = 0o1,
    BRKINT = 0o2,
    PARMRK = 0o10,
    ISTRIP = 0o40,
    INLCR = 0o100,
    IGNCR = 0o200,
    ICRNL = 0o400,
    IXON = 0o2000;
  const OPOST = 0o1;
  const CSIZE = 0o60,
    CS8 = 0o60,
    PARENB = 0o400;
  const ISIG = 0o1,
    ICANON = 0o2,
    ECHO = 0o10,
    ECHONL = 0o100,
    IEXTEN = 0o100000;
  const VTIME = 5,
    VMIN = 6,
    CC = 17;
  t.writeUInt32LE((t.readUInt32LE(0) & ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON)) >>> 0, 0);
  t.writeUInt32LE((t.readUInt32LE(4) & ~OPOST) >>> 0, 4);
  t.writeUInt32LE(((t.readUInt32LE(8) & ~(CSIZE | PARENB)) | CS8) >>> 0, 8);
  t.writeUInt32LE((t.readUInt32LE(12) & ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN)) >>> 0, 12);
  t[CC + VMIN] = 1;
  t[CC + VTIME] = 0;
  return t;
}
