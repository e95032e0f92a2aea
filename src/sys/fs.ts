// File-descriptor level calls that node:fs does not offer: *at() variants,
// openat2 with RESOLVE_* flags, O_PATH handles and filesystem magic checks.
import { koffi, libc, check } from './libc';

export const O = {
  RDONLY: 0o0,
  WRONLY: 0o1,
  RDWR: 0o2,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  NONBLOCK: 0o4000,
  DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000,
  CLOEXEC: 0o2000000,
  PATH: 0o10000000,
} as const;

export const RESOLVE = {
  NO_XDEV: 0x01,
  NO_MAGICLINKS: 0x02,
  NO_SYMLINKS: 0x04,
  BENEATH: 0x08,
  IN_ROOT: 0x10,
  CACHED: 0x20,
} as const;

export const AT_FDCWD = -100;
export const AT_EMPTY_PATH = 0x1000;
export const AT_SYMLINK_NOFOLLOW = 0x100;

const SYS_openat2 = 437;

const _open = libc.func('int open(const char *path, int flags, uint32_t mode)');
const _openat = libc.func('int openat(int dirfd, const char *path, int flags, uint32_t mode)');
const _close = libc.func('int close(int fd)');
const _mkdirat = libc.func('int mkdirat(int dirfd, const char *path, uint32_t mode)');
const _mknodat = libc.func('int mknodat(int dirfd, const char *path, uint32_t mode, uint64_t dev)');
const _fchdir = libc.func('int fchdir(int fd)');
const _fchown = libc.func('int fchown(int fd, uint32_t uid, uint32_t gid)');
const _fcntl = libc.func('int fcntl(int fd, int cmd, int arg)');
const _dup2 = libc.func('int dup2(int oldfd, int newfd)');
const _dup3 = libc.func('int dup3(int oldfd, int newfd, int flags)');
const _closeRange = libc.func('int close_range(unsigned int first, unsigned int last, int flags)');

const OpenHow = koffi.struct('tsrun_open_how', { flags: 'uint64_t', mode: 'uint64_t', resolve: 'uint64_t' });
const _openat2 = libc.func('long syscall(long nr, int dirfd, const char *path, tsrun_open_how *how, size_t size)');
const openHowSize = koffi.sizeof(OpenHow);

// statfs is 120 bytes on x86_64/aarch64; f_type is the first field.
const _fstatfs = libc.func('int fstatfs(int fd, _Out_ uint8_t *buf)');

export function open(path: string, flags: number, mode = 0): number {
  return check(_open(path, flags | O.CLOEXEC, mode), 'open', path);
}

export function openat(dirfd: number, path: string, flags: number, mode = 0, label = path): number {
  return check(_openat(dirfd, path, flags | O.CLOEXEC, mode), 'openat', label);
}

/** openat2(2): `resolve` flags confine how `path` is walked (RESOLVE_IN_ROOT …). */
export function openat2(dirfd: number, path: string, flags: number, resolve: number, mode = 0, label = path): number {
  const how = { flags: BigInt(flags | O.CLOEXEC), mode: BigInt(mode), resolve: BigInt(resolve) };
  return Number(check(_openat2(SYS_openat2, dirfd, path, how, openHowSize) as number, 'openat2', label));
}

export function close(fd: number): void {
  check(_close(fd), 'close', String(fd));
}

export function closeQuiet(fd: number | undefined): void {
  if (fd !== undefined && fd >= 0) _close(fd);
}

export function mkdirat(dirfd: number, name: string, mode: number, label = name): void {
  check(_mkdirat(dirfd, name, mode), 'mkdirat', label);
}

export function mknodat(dirfd: number, name: string, mode: number, dev: bigint, label = name): void {
  check(_mknodat(dirfd, name, mode, dev), 'mknodat', label);
}

export function fchdir(fd: number, label = String(fd)): void {
  check(_fchdir(fd), 'fchdir', label);
}

export function fchown(fd: number, uid: number, gid: number, label = String(fd)): void {
  check(_fchown(fd, uid, gid), 'fchown', label);
}

const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;

/** FD_CLOEXEC of an open fd; undefined when fd is not open. */
export function isCloexec(fd: number): boolean | undefined {
  const cur = _fcntl(fd, F_GETFD, 0) as number;
  return cur < 0 ? undefined : (cur & FD_CLOEXEC) !== 0;
}

export function setCloexec(fd: number, on: boolean): void {
  const cur = check(_fcntl(fd, F_GETFD, 0), 'fcntl(F_GETFD)', String(fd));
  const next = on ? cur | FD_CLOEXEC : cur & ~FD_CLOEXEC;
  if (next !== cur) check(_fcntl(fd, F_SETFD, next), 'fcntl(F_SETFD)', String(fd));
}

const F_GETFL = 3;
const F_SETFL = 4;

export function setNonblocking(fd: number, on: boolean): void {
  const cur = check(_fcntl(fd, F_GETFL, 0), 'fcntl(F_GETFL)', String(fd));
  const next = on ? cur | O.NONBLOCK : cur & ~O.NONBLOCK;
  if (next !== cur) check(_fcntl(fd, F_SETFL, next), 'fcntl(F_SETFL)', String(fd));
}

export function dup2(oldfd: number, newfd: number): void {
  check(_dup2(oldfd, newfd), 'dup2', `${oldfd} → ${newfd}`);
}

const F_DUPFD_CLOEXEC = 1030;

/** A close-on-exec copy of `fd` at the lowest free number >= `min`. */
export function dupAbove(fd: number, min: number): number {
  return check(_fcntl(fd, F_DUPFD_CLOEXEC, min), 'fcntl(F_DUPFD_CLOEXEC)', String(fd));
}

export function dup3Cloexec(oldfd: number, newfd: number): void {
  check(_dup3(oldfd, newfd, O.CLOEXEC), 'dup3', `${oldfd} → ${newfd}`);
}

export const CLOSE_RANGE_CLOEXEC = 4;

export function closeRange(first: number, last: number, flags: number): void {
  check(_closeRange(first, last >>> 0, flags), 'close_range', `${first}..${last}`);
}

export const FS_MAGIC = {
  PROC: 0x9fa0,
  SYSFS: 0x62656572,
  TMPFS: 0x01021994,
  CGROUP: 0x27e0eb,
  CGROUP2: 0x63677270,
  DEVPTS: 0x1cd1,
  NSFS: 0x6e736673,
} as const;

export function fsType(fd: number, label = String(fd)): number {
  const buf = Buffer.alloc(120);
  check(_fstatfs(fd, buf), 'fstatfs', label);
  return Number(buf.readBigInt64LE(0));
}

const S_IFIFO = 0o010000;

export function mkfifo(path: string, mode: number): void {
  check(_mknodat(AT_FDCWD, path, S_IFIFO | mode, 0n), 'mkfifo', path);
}
