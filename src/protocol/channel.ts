// The sync socket as each side sees it: messages.ts's lines, read and written
// synchronously (neither side has anything else to do while it waits), typed
// by direction: the parent sends ParentMessages and receives ChildMessages,
// the child the other way round. A message may carry descriptors
// (SCM_RIGHTS): every read takes whatever arrives with the bytes, and the
// receiver of such a message takes them with takeFds — a plain read() would
// drop and close them.
import { writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { recvFds, sendFds } from '../sys/socket';
import { isErrno } from '../sys/libc';
import {
  CHILD_MESSAGE_TYPES,
  PARENT_MESSAGE_TYPES,
  encodeMessage,
  type ChildMessage,
  type Message,
  type ParentMessage,
} from './messages';

/** Descriptors per message: the kernel delivers one message's at a time, at most 253. */
export const MAX_FDS_PER_MESSAGE = 64;

export class Channel<Out extends Message, In extends Message> {
  private buf = '';
  private decoder = new StringDecoder('utf8');
  private fds: number[] = [];

  /** `accepts`: the types this side may receive; `peer` names the other side in errors. */
  constructor(
    readonly fd: number,
    private readonly accepts: Readonly<Record<In['type'], true>>,
    private readonly peer: string,
  ) {}

  send(msg: Out): void {
    const data = encodeMessage(msg);
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off);
  }

  /** One message with up to MAX_FDS_PER_MESSAGE descriptors attached (the caller keeps its own copies). */
  sendWithFds(msg: Out, fds: number[]): void {
    if (fds.length > MAX_FDS_PER_MESSAGE)
      throw new Error(`channel: ${fds.length} descriptors in one message (at most ${MAX_FDS_PER_MESSAGE})`);
    sendFds(this.fd, encodeMessage(msg), fds);
  }

  /** The next message, or undefined when the other side closed the socket. */
  receive(): In | undefined {
    for (;;) {
      const nl = this.buf.indexOf('\n');
      if (nl >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        return this.parse(line);
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

  /** Only the shape the union's discriminant promises is checked: both ends are this build. */
  private parse(line: string): In {
    let m: unknown;
    try {
      m = JSON.parse(line);
    } catch {
      throw new Error(`channel: not a message from ${this.peer}: ${JSON.stringify(line)}`);
    }
    const type = (m as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !Object.hasOwn(this.accepts, type)) {
      throw new Error(`channel: unknown message from ${this.peer}: ${line}`);
    }
    return m as In;
  }
}

export type ParentChannel = Channel<ParentMessage, ChildMessage>;
export type ChildChannel = Channel<ChildMessage, ParentMessage>;

/** The parent's end (create, exec). */
export function parentChannel(fd: number): ParentChannel {
  return new Channel<ParentMessage, ChildMessage>(fd, CHILD_MESSAGE_TYPES, 'the child');
}

/** The child's end (tsrun init). */
export function childChannel(fd: number): ChildChannel {
  return new Channel<ChildMessage, ParentMessage>(fd, PARENT_MESSAGE_TYPES, 'the parent');
}
