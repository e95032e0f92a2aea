// A blocking D-Bus connection to a peer: systemd's private socket
// (/run/systemd/private, or a user manager's $XDG_RUNTIME_DIR/systemd/private),
// which needs no bus daemon and gets every signal unasked. tsrun's commands
// are synchronous and short-lived, so a call is a write and a polled read
// with a deadline; the wire format (marshalling, message headers) is
// d-bus-message-protocol's.
import { readSync, writeSync } from 'node:fs';
import {
  MessageType,
  parseMessage,
  serializeMessage,
  type Message,
  type MethodReturnMessage,
  type SignalMessage,
} from 'd-bus-message-protocol';
import { BufferReader, parseTypes } from 'd-bus-type-system';
import { connectUnix } from '../sys/socket';
import { poll, POLL } from '../sys/poll';
import { closeQuiet } from '../sys/fs';

/** An error reply (org.freedesktop.systemd1.NoSuchUnit…) or a broken conversation. */
export class DBusError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Call {
  destination?: string;
  path: string;
  interface: string;
  member: string;
  /** The body's signature, e.g. "ssa(sv)a(sa(sv))". */
  signature?: string;
  args?: unknown[];
}

const FIXED_HEADER = 16;
const align8 = (n: number) => (n + 7) & ~7;

export class DBusConnection {
  private serial = 0;
  private pending: Buffer = Buffer.alloc(0);
  /** Signals read while waiting for replies, oldest first. */
  private signals: SignalMessage[] = [];

  private constructor(
    private fd: number,
    readonly path: string,
  ) {}

  /** Connects and authenticates (EXTERNAL, as the peer credentials say: right inside a user namespace too). */
  static open(path: string, timeoutMs: number): DBusConnection {
    const c = new DBusConnection(connectUnix(path), path);
    try {
      c.authenticate(Date.now() + timeoutMs);
    } catch (err) {
      c.close();
      throw err;
    }
    return c;
  }

  private authenticate(deadline: number): void {
    this.write(Buffer.from('\0AUTH EXTERNAL\r\n'));
    let line = this.readLine(deadline);
    if (line === 'DATA') {
      this.write(Buffer.from('DATA\r\n'));
      line = this.readLine(deadline);
    }
    if (!line.startsWith('OK '))
      throw new DBusError('org.freedesktop.DBus.Error.AuthFailed', `${this.path}: authentication refused (${line})`);
    this.write(Buffer.from('BEGIN\r\n'));
  }

  /** A method call; its reply's arguments, or the error reply as a DBusError. */
  call(c: Call, timeoutMs: number): unknown[] {
    const serial = ++this.serial;
    this.write(
      Buffer.from(
        serializeMessage({
          messageType: MessageType.MethodCall,
          serial,
          destination: c.destination,
          objectPath: c.path,
          interfaceName: c.interface,
          memberName: c.member,
          types: c.signature ? parseTypes(c.signature) : undefined,
          args: c.args as [unknown, ...unknown[]] | undefined,
        }),
      ),
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.readMessage(deadline, `${c.interface}.${c.member}`);
      if (m.messageType === MessageType.Signal) this.signals.push(m);
      else if (m.messageType === MessageType.MethodReturn && m.replySerial === serial)
        return [...((m as MethodReturnMessage).args ?? [])];
      else if (m.messageType === MessageType.Error && m.replySerial === serial)
        throw new DBusError(m.errorName, `${c.interface}.${c.member}: ${m.errorName}: ${String(m.args?.[0] ?? '')}`);
    }
  }

  /** The first signal (already read, or arriving before the deadline) that `match` accepts. */
  waitSignal(match: (s: SignalMessage) => boolean, timeoutMs: number, what: string): SignalMessage {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.signals.findIndex(match);
      if (i >= 0) return this.signals.splice(i, 1)[0];
      const m = this.readMessage(deadline, what);
      if (m.messageType === MessageType.Signal) this.signals.push(m);
    }
  }

  close(): void {
    closeQuiet(this.fd);
    this.fd = -1;
  }

  private write(data: Buffer): void {
    for (let off = 0; off < data.length;) off += writeSync(this.fd, data, off, data.length - off);
  }

  /** More bytes from the peer, waiting until the deadline. */
  private fill(deadline: number, what: string): void {
    const left = deadline - Date.now();
    if (left <= 0 || poll([{ fd: this.fd, events: POLL.IN }], left)[0] === 0)
      throw new DBusError('org.freedesktop.DBus.Error.Timeout', `${this.path}: no answer to ${what} in time`);
    const chunk = Buffer.alloc(64 * 1024);
    const n = readSync(this.fd, chunk, 0, chunk.length, null);
    if (n === 0) throw new DBusError('org.freedesktop.DBus.Error.Disconnected', `${this.path}: closed by the peer`);
    this.pending = Buffer.concat([this.pending, chunk.subarray(0, n)]);
  }

  private readLine(deadline: number): string {
    for (;;) {
      const end = this.pending.indexOf('\r\n');
      if (end >= 0) {
        const line = this.pending.subarray(0, end).toString('latin1');
        this.pending = this.pending.subarray(end + 2);
        return line;
      }
      this.fill(deadline, 'authentication');
    }
  }

  private readMessage(deadline: number, what: string): Message {
    for (;;) {
      const total = messageLength(this.pending);
      if (total !== undefined && this.pending.length >= total) {
        const bytes = this.pending.subarray(0, total);
        this.pending = this.pending.subarray(total);
        const copy = new Uint8Array(bytes); // an ArrayBuffer of its own, as the reader wants
        return parseMessage(new BufferReader(copy.buffer, { littleEndian: bytes[0] === 0x6c }));
      }
      this.fill(deadline, what);
    }
  }
}

/** The whole message's length once its fixed header is in, from the header and body lengths. */
function messageLength(b: Buffer): number | undefined {
  if (b.length < FIXED_HEADER) return undefined;
  const le = b[0] === 0x6c; // 'l'
  const body = le ? b.readUInt32LE(4) : b.readUInt32BE(4);
  const fields = le ? b.readUInt32LE(12) : b.readUInt32BE(12);
  return align8(FIXED_HEADER + fields) + body;
}
