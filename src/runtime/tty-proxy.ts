// The terminal of a foreground `tsrun run` without --console-socket (runc's
// behaviour): tsrun holds the pty master itself and copies its own stdin to
// it and its output to tsrun's stdout until the container is gone. Our stdin
// is put in raw mode while this runs, so keys reach the container's line
// discipline untouched (^C becomes SIGINT in the container, not in tsrun).
//
// No node streams: they would set O_NONBLOCK on tsrun's stdin/stdout, which
// the calling shell shares. One poll() runs on a worker thread; reads and
// writes are plain syscalls on the main thread.
import { readSync, writeSync } from 'node:fs';
import { poll, pollAsync, POLL, type PollFd } from '../sys/poll';
import { closeQuiet, setNonblocking } from '../sys/fs';
import { recvFds, socketpair } from '../sys/socket';
import { getTermios, setTermios, rawTermios, getWinsize, setWinsize } from '../sys/tty';
import { debug } from '../log';

const STDIN = 0;
const STDOUT = 1;
const CHUNK = 16384;
// After the container exited, output still in the pty is drained until the
// master reports the slave closed, or nothing more arrives for this long.
const DRAIN_IDLE_MS = 200;

/** The master end the init sends over the console socket (runc's payload: the name, one fd). */
export function receiveConsoleMaster(sock: number): number {
  const { fds } = recvFds(sock, 4096, 1);
  if (fds.length !== 1) {
    fds.forEach(closeQuiet);
    throw new Error('container init: console socket closed without sending the terminal');
  }
  return fds[0];
}

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

/** Write everything, waiting for room when the fd is non-blocking. */
function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off, data.length - off);
    } catch (e) {
      if (errCode(e) !== 'EAGAIN') throw e;
      poll([{ fd, events: POLL.OUT }], -1);
    }
  }
}

export class TtyProxy {
  private readonly savedTermios: Buffer | undefined;
  private readonly wake: [number, number];
  private stdinOpen: boolean;
  private masterOpen = true;
  private loop: Promise<void>;
  private stopping = false;
  private closed = false;

  /** Takes ownership of `master`. */
  constructor(private readonly master: number) {
    // Input is forwarded only when waiting for room cannot stall the output side.
    setNonblocking(master, true);
    this.savedTermios = getTermios(STDIN);
    this.stdinOpen = true;
    if (this.savedTermios) {
      setTermios(STDIN, rawTermios(this.savedTermios));
      process.on('exit', this.restore);
    }
    this.resize();
    this.wake = socketpair('stream');
    this.loop = this.run();
  }

  /** SIGWINCH: give the container's terminal the size of ours. */
  resize(): void {
    if (!this.savedTermios) return;
    try {
      setWinsize(this.master, getWinsize(STDIN));
    } catch (e) {
      debug(`tty: resize: ${(e as Error).message}`);
    }
  }

  private async run(): Promise<void> {
    while (!this.stopping && this.masterOpen) {
      const fds: PollFd[] = [
        { fd: this.master, events: POLL.IN },
        { fd: this.wake[0], events: POLL.IN },
      ];
      if (this.stdinOpen) fds.push({ fd: STDIN, events: POLL.IN });
      const rev = await pollAsync(fds);
      if (rev[1]) break;
      if (rev[0]) this.pumpOutput();
      if (this.stdinOpen && rev[2]) this.pumpInput();
    }
  }

  /** master → stdout; false once the slave side is closed everywhere (EIO) or nothing is there. */
  private pumpOutput(): boolean {
    const buf = Buffer.allocUnsafe(CHUNK);
    let n: number;
    try {
      n = readSync(this.master, buf, 0, CHUNK, null);
    } catch (e) {
      if (errCode(e) === 'EAGAIN') return false;
      if (errCode(e) !== 'EIO') debug(`tty: read master: ${(e as Error).message}`);
      this.masterOpen = false;
      return false;
    }
    if (n === 0) {
      this.masterOpen = false;
      return false;
    }
    try {
      writeAll(STDOUT, buf.subarray(0, n));
    } catch (e) {
      // Nobody reads our output any more: keep draining so the container does not block.
      debug(`tty: write stdout: ${(e as Error).message}`);
    }
    return true;
  }

  /** stdin → master. At end of input we stop reading; like runc, no EOF is forwarded. */
  private pumpInput(): void {
    const buf = Buffer.allocUnsafe(CHUNK);
    let n: number;
    try {
      n = readSync(STDIN, buf, 0, CHUNK, null);
    } catch (e) {
      if (errCode(e) === 'EAGAIN') return;
      n = 0;
    }
    if (n === 0) {
      this.stdinOpen = false;
      return;
    }
    try {
      writeAll(this.master, buf.subarray(0, n));
    } catch (e) {
      debug(`tty: write master: ${(e as Error).message}`);
    }
  }

  /** The container exited: copy what output is left, then stop. */
  async finish(): Promise<void> {
    this.stopping = true;
    try {
      writeSync(this.wake[1], 'x');
    } catch {
      // the loop already ended
    }
    await this.loop;
    while (this.masterOpen) {
      const [rev] = poll([{ fd: this.master, events: POLL.IN }], DRAIN_IDLE_MS);
      if (!rev || !this.pumpOutput()) break;
    }
    this.close();
  }

  /** Restore our terminal and release the fds; safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.restore();
    process.off('exit', this.restore);
    closeQuiet(this.master);
    this.wake.forEach(closeQuiet);
  }

  private readonly restore = (): void => {
    if (!this.savedTermios) return;
    try {
      setTermios(STDIN, this.savedTermios);
    } catch (e) {
      debug(`tty: restore terminal: ${(e as Error).message}`);
    }
  };
}
