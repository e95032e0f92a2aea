// NETLINK_ROUTE sockets (rtnetlink): how the kernel lets a process move
// network devices between namespaces and configure them, without `ip`.
// The messages themselves are built in src/linux/netlink.ts.
import { libc, check, retryEintr } from './libc';
import { closeQuiet } from './fs';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_ROUTE = 0;
const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;

const _socket = libc.func('int socket(int domain, int type, int protocol)');
const _setsockopt = libc.func('int setsockopt(int fd, int level, int name, const int *value, uint32_t len)');
const _send = libc.func('long send(int fd, const uint8_t *buf, size_t len, int flags)');
const _recv = libc.func('long recv(int fd, _Out_ uint8_t *buf, size_t len, int flags)');

/** A netlink route socket in the calling thread's network namespace; it stays bound to that namespace. */
export function openRouteSocket(label: string): number {
  const fd = check(
    _socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE),
    'socket',
    `AF_NETLINK, NETLINK_ROUTE, ${label}`,
  );
  try {
    // Errors without the request echoed back, but with the kernel's own explanation.
    check(_setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, new Int32Array([1]), 4), 'setsockopt', 'NETLINK_CAP_ACK');
    check(_setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, new Int32Array([1]), 4), 'setsockopt', 'NETLINK_EXT_ACK');
  } catch (e) {
    closeQuiet(fd);
    throw e;
  }
  return fd;
}

/** One whole message to the kernel (netlink datagrams are never split). */
export function netlinkSend(fd: number, msg: Buffer, label: string): void {
  check(
    retryEintr(() => Number(_send(fd, msg, msg.length, 0))),
    'send',
    `netlink, ${label}`,
  );
}

// Larger than any datagram a route dump sends (the kernel sizes them to a page or 32 KiB).
const RECV_SIZE = 64 * 1024;

/** The next datagram from the kernel: one or more netlink messages. */
export function netlinkRecv(fd: number, label: string): Buffer {
  const buf = Buffer.alloc(RECV_SIZE);
  const n = check(
    retryEintr(() => Number(_recv(fd, buf, buf.length, 0))),
    'recv',
    `netlink, ${label}`,
  );
  return buf.subarray(0, n);
}
