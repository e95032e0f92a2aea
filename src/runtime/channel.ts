// The sync socket between `tsrun create` and its child: one JSON object per
// line, both ways, read and written synchronously (neither side has anything
// else to do while it waits). The native helper speaks the same protocol.
// A message may carry descriptors (SCM_RIGHTS): every read takes whatever
// arrives with the bytes, and the receiver of such a message takes them with
// takeFds — a plain read() would drop and close them.
import { writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { recvFds, sendFds } from '../sys/socket';
import { isErrno } from '../sys/libc';

export type Message = { type: string; [k: string]: unknown };

/** Descriptors per message: the kernel delivers one message's at a time, at most 253. */
export const MAX_FDS_PER_MESSAGE = 64;

export class Channel {
  private buf = '';
  private decoder = new StringDecoder('utf8');
  private fds: number[] = [];

  constructor(readonly fd: number) {}

  send(msg: Message): void {
    const data = Buffer.from(JSON.stringify(msg) + '\n');
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off);
  }

  /** One message with up to MAX_FDS_PER_MESSAGE descriptors attached (the caller keeps its own copies). */
  sendWithFds(msg: Message, fds: number[]): void {
    if (fds.length > MAX_FDS_PER_MESSAGE) throw new Error(`channel: ${fds.length} descriptors in one message (at most ${MAX_FDS_PER_MESSAGE})`);
    sendFds(this.fd, Buffer.from(JSON.stringify(msg) + '\n'), fds);
  }

  /** The next message, or undefined when the other side closed the socket. */
  receive(): Message | undefined {
    for (;;) {
      const nl = this.buf.indexOf('\n');
      if (nl >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        return JSON.parse(line) as Message;
      }
      let got: { data: Buffer; fds: number[] };
      try {
        got = recvFds(this.fd, 65536, MAX_FDS_PER_MESSAGE);
      } catch (e) {
        if (isErrno(e, 'EAGAIN')) continue;
        throw e;
      }
      this.fds.push(...got.fds);
      if (got.data.length === 0) return undefined;
      this.buf += this.decoder.write(got.data);
    }
  }

  /** The first n descriptors received and not yet taken (close-on-exec). */
  takeFds(n: number): number[] {
    if (this.fds.length < n) throw new Error(`channel: expected ${n} descriptors, received ${this.fds.length}`);
    return this.fds.splice(0, n);
  }
}
