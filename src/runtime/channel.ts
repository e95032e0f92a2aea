// The sync socket between `tsrun create` and its child: one JSON object per
// line, both ways, read and written synchronously (neither side has anything
// else to do while it waits). The native helper speaks the same protocol.
import { readSync, writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

export type Message = { type: string; [k: string]: unknown };

export class Channel {
  private buf = '';
  private decoder = new StringDecoder('utf8');

  constructor(readonly fd: number) {}

  send(msg: Message): void {
    const data = Buffer.from(JSON.stringify(msg) + '\n');
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off);
  }

  /** The next message, or undefined when the other side closed the socket. */
  receive(): Message | undefined {
    const chunk = Buffer.alloc(65536);
    for (;;) {
      const nl = this.buf.indexOf('\n');
      if (nl >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        return JSON.parse(line) as Message;
      }
      let n: number;
      try {
        n = readSync(this.fd, chunk, 0, chunk.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EINTR' || (e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        throw e;
      }
      if (n === 0) return undefined;
      this.buf += this.decoder.write(chunk.subarray(0, n));
    }
  }
}
