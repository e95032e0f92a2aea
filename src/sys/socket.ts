// AF_UNIX sockets and descriptor passing (SCM_RIGHTS): the sync channel
// between tsrun and its init, the console socket through which the
// terminal's master end goes to containerd/podman/conmon, and the datagram
// sockets of sd_notify (NOTIFY_SOCKET).
import { koffi, libc, check, retryEintr, SysError } from './libc';
import { closeQuiet } from './fs';

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_CTRUNC = 0x8;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const MSG_CMSG_CLOEXEC = 0x40000000;
const EAGAIN = 11;

const _socket = libc.func('int socket(int domain, int type, int protocol)');
const _socketpair = libc.func('int socketpair(int domain, int type, int protocol, _Out_ int *sv)');
const _connect = libc.func('int connect(int fd, const void *addr, uint32_t len)');
const _bind = libc.func('int bind(int fd, const void *addr, uint32_t len)');
const _listen = libc.func('int listen(int fd, int backlog)');
const _accept4 = libc.func('int accept4(int fd, void *addr, void *len, int flags)');
const _sendmsg = libc.func('long sendmsg(int fd, void *msg, int flags)');
const _recvmsg = libc.func('long recvmsg(int fd, void *msg, int flags)');
const _send = libc.func('long send(int fd, const void *buf, unsigned long len, int flags)');
const _recv = libc.func('long recv(int fd, _Out_ void *buf, unsigned long len, int flags)');

export function socketpair(type: 'stream' | 'seqpacket' = 'stream'): [number, number] {
  const sv = new Int32Array(2);
  const t = (type === 'seqpacket' ? SOCK_SEQPACKET : SOCK_STREAM) | SOCK_CLOEXEC;
  check(_socketpair(AF_UNIX, t, 0, sv), 'socketpair', `AF_UNIX, ${type}`);
  return [sv[0], sv[1]];
}

// sockaddr_un: sa_family_t (2 bytes) + sun_path[108].
const SUN_PATH_MAX = 108;

function unixAddress(call: string, path: string): { addr: Buffer; len: number } {
  const encoded = Buffer.from(path);
  if (encoded.length >= SUN_PATH_MAX) {
    throw new Error(`${call}(${path}): socket path longer than ${SUN_PATH_MAX - 1} bytes`);
  }
  const addr = Buffer.alloc(2 + SUN_PATH_MAX);
  addr.writeUInt16LE(AF_UNIX, 0);
  encoded.copy(addr, 2);
  return { addr, len: 2 + encoded.length + 1 };
}

/** A new AF_UNIX socket (close-on-exec) for path, closed again when `setup` throws. */
function unixSocket(type: 'stream' | 'datagram', path: string, setup: (fd: number) => void): number {
  const t = (type === 'datagram' ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC;
  const fd = check(_socket(AF_UNIX, t, 0), 'socket', `AF_UNIX${type === 'datagram' ? ' datagram' : ''} for ${path}`);
  try {
    setup(fd);
  } catch (err) {
    closeQuiet(fd);
    throw err;
  }
  return fd;
}

function bindTo(fd: number, path: string): void {
  const { addr, len } = unixAddress('bind', path);
  check(_bind(fd, addr, len), 'bind', path);
}

function connectTo(fd: number, path: string): void {
  const { addr, len } = unixAddress('connect', path);
  check(
    retryEintr(() => _connect(fd, addr, len)),
    'connect',
    path,
  );
}

/** A listening AF_UNIX stream socket at path (what a console-socket receiver such as runc's recvtty offers). */
export function listenUnix(path: string, backlog = 16): number {
  return unixSocket('stream', path, (fd) => {
    bindTo(fd, path);
    check(_listen(fd, backlog), 'listen', path);
  });
}

/** Blocking accept of one connection (close-on-exec). */
export function acceptUnix(listener: number): number {
  return check(
    retryEintr(() => _accept4(listener, null, null, SOCK_CLOEXEC)),
    'accept4',
    `fd ${listener}`,
  );
}

export function connectUnix(path: string): number {
  return unixSocket('stream', path, (fd) => connectTo(fd, path));
}

/** An AF_UNIX datagram socket bound at path (the receiving end of sd_notify). */
export function bindUnixDgram(path: string): number {
  return unixSocket('datagram', path, (fd) => bindTo(fd, path));
}

/** An AF_UNIX datagram socket connected to path: it fails here when nobody is bound there. */
export function connectUnixDgram(path: string): number {
  return unixSocket('datagram', path, (fd) => connectTo(fd, path));
}

/** One datagram on a connected socket, whole or not at all. */
export function sendDatagram(fd: number, data: Buffer): void {
  check(
    retryEintr(() => _send(fd, data, data.length, MSG_NOSIGNAL)),
    'send',
    `fd ${fd}, ${data.length} bytes`,
  );
}

/** The next datagram (cut to max bytes), or undefined when none is waiting. */
export function recvDatagram(fd: number, max: number): Buffer | undefined {
  const buf = Buffer.alloc(max);
  const n = Number(retryEintr(() => _recv(fd, buf, max, MSG_DONTWAIT)));
  if (n >= 0) return buf.subarray(0, n);
  const errno = koffi.errno();
  if (errno === EAGAIN) return undefined;
  throw new SysError('recv', `fd ${fd}`, errno);
}

// struct msghdr (x86_64/aarch64, 56 bytes): name ptr @0, namelen @8, iov ptr @16,
// iovlen @24, control ptr @32, controllen @40, flags @48.
// struct iovec: base ptr @0, len @8. struct cmsghdr: len (size_t) @0, level @8,
// type @12, data @16; CMSG_SPACE aligns the data to 8 bytes.
const MSGHDR_SIZE = 56;
const IOVEC_SIZE = 16;
const CMSG_HDR = 16;
const cmsgSpace = (n: number) => CMSG_HDR + ((n + 7) & ~7);

/** Native memory the kernel can read and write, viewed as a Buffer. */
class NativeBlock {
  readonly ptr: unknown;
  readonly buf: Buffer;
  readonly addr: bigint;
  constructor(size: number) {
    this.ptr = koffi.alloc('uint8_t', Math.max(size, 1));
    this.buf = Buffer.from(koffi.view(this.ptr, Math.max(size, 1)));
    this.buf.fill(0);
    this.addr = koffi.address(this.ptr);
  }
  free(): void {
    koffi.free(this.ptr);
  }
}

/** One native block laid out as msghdr + iovec + control + data. */
function layoutMessage(dataLen: number, fdCount: number) {
  const controlLen = fdCount > 0 ? cmsgSpace(4 * fdCount) : 0;
  const block = new NativeBlock(MSGHDR_SIZE + IOVEC_SIZE + controlLen + dataLen);
  const iovOff = MSGHDR_SIZE;
  const controlOff = iovOff + IOVEC_SIZE;
  const dataOff = controlOff + controlLen;
  const b = block.buf;
  b.writeBigUInt64LE(block.addr + BigInt(iovOff), 16);
  b.writeBigUInt64LE(1n, 24);
  if (controlLen > 0) {
    b.writeBigUInt64LE(block.addr + BigInt(controlOff), 32);
    b.writeBigUInt64LE(BigInt(controlLen), 40);
  }
  b.writeBigUInt64LE(block.addr + BigInt(dataOff), iovOff);
  b.writeBigUInt64LE(BigInt(dataLen), iovOff + 8);
  return { block, controlOff, controlLen, dataOff };
}

/**
 * sendmsg with the fds attached as SCM_RIGHTS. A stream socket may take the
 * data in pieces; the fds travel with the first one, the rest follows.
 */
export function sendFds(sock: number, data: Buffer, fds: number[]): void {
  // A zero-length sendmsg on a Linux stream socket sends nothing, ancillary
  // data included, so an empty payload goes out as one NUL byte.
  const payload = data.length > 0 ? data : Buffer.from([0]);
  const { block, controlOff, dataOff } = layoutMessage(payload.length, fds.length);
  try {
    const b = block.buf;
    payload.copy(b, dataOff);
    if (fds.length > 0) {
      b.writeBigUInt64LE(BigInt(CMSG_HDR + 4 * fds.length), controlOff);
      b.writeInt32LE(SOL_SOCKET, controlOff + 8);
      b.writeInt32LE(SCM_RIGHTS, controlOff + 12);
      fds.forEach((fd, i) => b.writeInt32LE(fd, controlOff + CMSG_HDR + 4 * i));
    }
    let sent = Number(
      check(
        retryEintr(() => _sendmsg(sock, block.ptr, MSG_NOSIGNAL)),
        'sendmsg',
        `fd ${sock}`,
      ),
    );
    while (sent < payload.length) {
      // Later pieces carry no control data.
      b.writeBigUInt64LE(0n, 32);
      b.writeBigUInt64LE(0n, 40);
      b.writeBigUInt64LE(block.addr + BigInt(dataOff + sent), MSGHDR_SIZE);
      b.writeBigUInt64LE(BigInt(payload.length - sent), MSGHDR_SIZE + 8);
      sent += Number(
        check(
          retryEintr(() => _sendmsg(sock, block.ptr, MSG_NOSIGNAL)),
          'sendmsg',
          `fd ${sock}`,
        ),
      );
    }
  } finally {
    block.free();
  }
}

/**
 * One recvmsg: up to maxData bytes and maxFds descriptors (received
 * close-on-exec). An empty `data` means the peer closed the socket.
 */
export function recvFds(sock: number, maxData: number, maxFds: number): { data: Buffer; fds: number[] } {
  const { block, controlOff, controlLen, dataOff } = layoutMessage(maxData, maxFds);
  try {
    const b = block.buf;
    const n = Number(
      check(
        retryEintr(() => _recvmsg(sock, block.ptr, MSG_CMSG_CLOEXEC)),
        'recvmsg',
        `fd ${sock}`,
      ),
    );
    const fds: number[] = [];
    // Walk the control messages the kernel filled in (msg_controllen is updated).
    const filled = Number(b.readBigUInt64LE(40));
    let off = 0;
    while (controlLen > 0 && off + CMSG_HDR <= filled) {
      const len = Number(b.readBigUInt64LE(controlOff + off));
      const level = b.readInt32LE(controlOff + off + 8);
      const type = b.readInt32LE(controlOff + off + 12);
      if (len < CMSG_HDR) break;
      if (level === SOL_SOCKET && type === SCM_RIGHTS) {
        for (let p = CMSG_HDR; p + 4 <= len; p += 4) fds.push(b.readInt32LE(controlOff + off + p));
      }
      off += cmsgSpace(len - CMSG_HDR);
    }
    const flags = b.readInt32LE(48);
    if (flags & MSG_CTRUNC) {
      fds.forEach(closeQuiet);
      throw new SysError('recvmsg', `fd ${sock}: more than ${maxFds} descriptors sent`, 105 /* ENOBUFS */);
    }
    return { data: Buffer.from(b.subarray(dataOff, dataOff + n)), fds };
  } finally {
    block.free();
  }
}
