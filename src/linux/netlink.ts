// rtnetlink requests built and parsed in TypeScript: find a link by name or
// index, move it to another network namespace (renaming it on the way), set
// it up, read and add its addresses. See rtnetlink(7) and linux/rtnetlink.h.
import { SysError } from '../sys/libc';
import { openRouteSocket, netlinkSend, netlinkRecv } from '../sys/netlink';
import { closeQuiet } from '../sys/fs';

const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const NLM_F_DUMP = 0x300;
const NLM_F_ACK_TLVS = 0x200; // in an NLMSG_ERROR's own flags
const NLMSGERR_ATTR_MSG = 1;

const RTM = { NEWLINK: 16, GETLINK: 18, NEWADDR: 20, GETADDR: 22 } as const;
const RTM_NAME: Record<number, string> = { 16: 'RTM_NEWLINK', 18: 'RTM_GETLINK', 20: 'RTM_NEWADDR', 22: 'RTM_GETADDR' };

const IFLA_IFNAME = 3;
const IFLA_NET_NS_FD = 28;
export const IFF_UP = 0x1;

const IFA = { ADDRESS: 1, LOCAL: 2, BROADCAST: 4, ANYCAST: 5, FLAGS: 8 } as const;
export const IFA_F_PERMANENT = 0x80;
export const RT_SCOPE_UNIVERSE = 0;
// The flags an address is configured with (not the states the kernel reports, e.g. tentative).
const IFA_F_CONFIGURABLE =
  0x02 /* NODAD */ |
  0x10 /* HOMEADDRESS */ |
  0x100 /* MANAGETEMPADDR */ |
  0x200 /* NOPREFIXROUTE */ |
  0x400; /* MCAUTOJOIN */

const NLMSG_HDRLEN = 16;
const IFINFOMSG_LEN = 16;
const IFADDRMSG_LEN = 8;
const align4 = (n: number) => (n + 3) & ~3;

export interface Link {
  index: number;
  name: string;
  flags: number;
}

/** An address as the kernel reported it, with the attributes needed to add it again. */
export interface Address {
  family: number;
  prefixlen: number;
  flags: number;
  scope: number;
  index: number;
  attrs: Map<number, Buffer>;
}

/**
 * A netlink request failed: `rtnetlink RTM_NEWLINK(eth7 → netns of c1): EEXIST`, with the kernel's reason if it gave
 * one.
 */
export class NetlinkError extends SysError {
  constructor(type: number, arg: string, errno: number, reason?: string) {
    super(`rtnetlink ${RTM_NAME[type] ?? type}`, arg, errno);
    if (reason) this.message += ` (${reason})`;
  }
}

function attr(type: number, data: Buffer): Buffer {
  const b = Buffer.alloc(align4(4 + data.length));
  b.writeUInt16LE(4 + data.length, 0);
  b.writeUInt16LE(type, 2);
  data.copy(b, 4);
  return b;
}

const u32Attr = (type: number, v: number) => attr(type, Buffer.from(new Uint32Array([v >>> 0]).buffer));
const stringAttr = (type: number, s: string) => attr(type, Buffer.from(`${s}\0`));

function ifinfomsg(index: number, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(IFINFOMSG_LEN);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(change, 12);
  return b;
}

function ifaddrmsg(a: Pick<Address, 'family' | 'prefixlen' | 'flags' | 'scope' | 'index'>): Buffer {
  const b = Buffer.alloc(IFADDRMSG_LEN);
  b.writeUInt8(a.family, 0);
  b.writeUInt8(a.prefixlen, 1);
  b.writeUInt8(a.flags & 0xff, 2);
  b.writeUInt8(a.scope, 3);
  b.writeUInt32LE(a.index, 4);
  return b;
}

/** The attributes after a fixed header, by type (the last one wins, as the kernel reads them). */
function parseAttrs(b: Buffer, from: number): Map<number, Buffer> {
  const attrs = new Map<number, Buffer>();
  for (let off = from; off + 4 <= b.length;) {
    const len = b.readUInt16LE(off);
    if (len < 4 || off + len > b.length) break;
    attrs.set(b.readUInt16LE(off + 2) & 0x3fff, b.subarray(off + 4, off + len));
    off += align4(len);
  }
  return attrs;
}

const cString = (b: Buffer | undefined) => (b ? b.toString('utf8', 0, b.indexOf(0) < 0 ? b.length : b.indexOf(0)) : '');

function parseLink(body: Buffer): Link {
  const attrs = parseAttrs(body, IFINFOMSG_LEN);
  return { index: body.readInt32LE(4), flags: body.readUInt32LE(8), name: cString(attrs.get(IFLA_IFNAME)) };
}

function parseAddress(body: Buffer): Address {
  const attrs = parseAttrs(body, IFADDRMSG_LEN);
  const wide = attrs.get(IFA.FLAGS);
  return {
    family: body.readUInt8(0),
    prefixlen: body.readUInt8(1),
    flags: wide && wide.length >= 4 ? wide.readUInt32LE(0) : body.readUInt8(2),
    scope: body.readUInt8(3),
    index: body.readUInt32LE(4),
    attrs,
  };
}

interface Reply {
  type: number;
  body: Buffer;
}

/** One NETLINK_ROUTE socket, bound to the network namespace it was opened in. */
export class RouteNetlink {
  private seq = 0;

  private constructor(readonly fd: number) {}

  /** In the calling thread's network namespace. */
  static open(label: string): RouteNetlink {
    return new RouteNetlink(openRouteSocket(label));
  }

  close(): void {
    closeQuiet(this.fd);
  }

  /**
   * Send one request and collect its replies up to the ACK (or NLMSG_DONE
   * for a dump); a negative error becomes a NetlinkError naming `what`.
   */
  private exchange(type: number, flags: number, body: Buffer, what: string): Reply[] {
    const seq = ++this.seq;
    const hdr = Buffer.alloc(NLMSG_HDRLEN);
    const msg = Buffer.concat([hdr, body]);
    msg.writeUInt32LE(msg.length, 0);
    msg.writeUInt16LE(type, 4);
    msg.writeUInt16LE(NLM_F_REQUEST | flags, 6);
    msg.writeUInt32LE(seq, 8);
    netlinkSend(this.fd, msg, `${RTM_NAME[type]}(${what})`);
    const replies: Reply[] = [];
    for (;;) {
      const dgram = netlinkRecv(this.fd, `${RTM_NAME[type]}(${what})`);
      for (let off = 0; off + NLMSG_HDRLEN <= dgram.length;) {
        const len = dgram.readUInt32LE(off);
        if (len < NLMSG_HDRLEN || off + len > dgram.length) break;
        const m = dgram.subarray(off, off + len);
        off += align4(len);
        if (m.readUInt32LE(8) !== seq) continue; // not ours (nothing else is sent on this socket)
        const mtype = m.readUInt16LE(4);
        if (mtype === NLMSG_DONE) return replies;
        if (mtype === NLMSG_ERROR) {
          const errno = -m.readInt32LE(NLMSG_HDRLEN);
          if (errno === 0) return replies;
          throw new NetlinkError(type, what, errno, extAckMessage(m));
        }
        replies.push({ type: mtype, body: m.subarray(NLMSG_HDRLEN) });
        // A plain request (no ACK asked) is answered by exactly one message.
        if (!(flags & (NLM_F_ACK | NLM_F_DUMP))) return replies;
      }
    }
  }

  /** The link called `name`; undefined when there is none (ENODEV). */
  linkByName(name: string, where: string): Link | undefined {
    return this.getLink(Buffer.concat([ifinfomsg(0), stringAttr(IFLA_IFNAME, name)]), `${name} in ${where}`);
  }

  linkByIndex(index: number, where: string): Link | undefined {
    return this.getLink(ifinfomsg(index), `index ${index} in ${where}`);
  }

  private getLink(body: Buffer, what: string): Link | undefined {
    try {
      const [reply] = this.exchange(RTM.GETLINK, 0, body, what);
      return reply ? parseLink(reply.body) : undefined;
    } catch (e) {
      if (e instanceof NetlinkError && e.code === 'ENODEV') return undefined;
      throw e;
    }
  }

  /**
   * Move link `index` into the network namespace behind nsFd, renamed to `name` there (the kernel renames after the
   * move).
   */
  moveLink(index: number, nsFd: number, name: string, what: string): void {
    const body = Buffer.concat([ifinfomsg(index), u32Attr(IFLA_NET_NS_FD, nsFd), stringAttr(IFLA_IFNAME, name)]);
    this.exchange(RTM.NEWLINK, NLM_F_ACK, body, what);
  }

  setUp(index: number, what: string): void {
    this.exchange(RTM.NEWLINK, NLM_F_ACK, ifinfomsg(index, IFF_UP, IFF_UP), what);
  }

  /** Every address of link `index`, of any family. */
  addresses(index: number, what: string): Address[] {
    const replies = this.exchange(
      RTM.GETADDR,
      NLM_F_DUMP,
      ifaddrmsg({ family: 0, prefixlen: 0, flags: 0, scope: 0, index: 0 }),
      what,
    );
    return replies
      .filter((r) => r.type === RTM.NEWADDR)
      .map((r) => parseAddress(r.body))
      .filter((a) => a.index === index);
  }

  /** Add `a` to link `index` as it was configured (not its label: that names the old device). */
  addAddress(a: Address, index: number, what: string): void {
    const flags = a.flags & IFA_F_CONFIGURABLE;
    const parts = [ifaddrmsg({ ...a, flags, index })];
    for (const t of [IFA.ADDRESS, IFA.LOCAL, IFA.BROADCAST, IFA.ANYCAST]) {
      const v = a.attrs.get(t);
      if (v) parts.push(attr(t, v));
    }
    parts.push(u32Attr(IFA.FLAGS, flags));
    this.exchange(RTM.NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, Buffer.concat(parts), what);
  }
}

/** The kernel's explanation in an extended ACK (NETLINK_EXT_ACK), if any. */
function extAckMessage(m: Buffer): string | undefined {
  if (!(m.readUInt16LE(6) & NLM_F_ACK_TLVS)) return undefined;
  // With NETLINK_CAP_ACK only the request's header follows the error code.
  const msg = parseAttrs(m, NLMSG_HDRLEN + 4 + NLMSG_HDRLEN).get(NLMSGERR_ATTR_MSG);
  return msg ? cString(msg) : undefined;
}

/** A printable form of an address for messages: 169.254.1.2/32. */
export function addressText(a: Address): string {
  const raw = a.attrs.get(IFA.LOCAL) ?? a.attrs.get(IFA.ADDRESS);
  if (!raw) return `family ${a.family} address`;
  const text = raw.length === 4 ? [...raw].join('.') : (raw.toString('hex').match(/.{4}/g) ?? []).join(':');
  return `${text}/${a.prefixlen}`;
}
