// Namespace calls made from node itself (the init joins a mount namespace
// and creates its cgroup namespace on its main thread; see ARCHITECTURE.md).
import { libc, ioctl, check, lastErrno, errnoName } from './libc';

export const CLONE = {
  NEWTIME: 0x00000080,
  FS: 0x00000200,
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;

const _setns = libc.func('int setns(int fd, int nstype)');
const _unshare = libc.func('int unshare(int flags)');

export function setns(fd: number, type: number, label: string): void {
  check(_setns(fd, type), 'setns', label);
}

export function unshare(flags: number, label: string): void {
  check(_unshare(flags), 'unshare', label);
}

const NS_GET_NSTYPE = 0xb703; // _IO(0xb7, 0x3), linux/nsfs.h

/**
 * The CLONE_NEW* type of the namespace behind an nsfs fd, as the kernel
 * reports it. undefined when the kernel predates the ioctl (Linux < 4.11),
 * so the caller can fall back to the fd's link text.
 */
export function nsType(fd: number, label: string): number | undefined {
  const ret = ioctl(fd, NS_GET_NSTYPE) as number;
  if (ret >= 0) return ret;
  const errno = lastErrno();
  if (errnoName(errno) === 'ENOTTY' || errnoName(errno) === 'EINVAL') return undefined;
  return check(ret, 'ioctl', `NS_GET_NSTYPE, ${label}`);
}
