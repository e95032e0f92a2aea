// Mount-table system calls: mount(2), umount2, pivot_root, chroot, the new
// mount API (open_tree, move_mount, mount_setattr, fsopen/fsconfig/fsmount),
// plus the uts setters and fstatvfs (for the flags a mount currently carries).
// Errors name the call, source → destination and errno.
import { constants } from 'node:os';
import { libc, koffi, check, lastErrno } from './libc';
import { closeQuiet } from './fs';

export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  SILENT: 0x8000,
  POSIXACL: 0x10000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  I_VERSION: 0x800000,
  STRICTATIME: 0x1000000,
  LAZYTIME: 0x2000000,
} as const;

export const MNT_DETACH = 0x2;

export const MOUNT_ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  ATIME_MASK: 0x70,
  RELATIME: 0x0,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  IDMAP: 0x100000,
  NOSYMFOLLOW: 0x200000,
} as const;

export const OPEN_TREE_CLONE = 0x1;
export const OPEN_TREE_CLOEXEC = 0o2000000;
const MOVE_MOUNT_F_EMPTY_PATH = 0x4;
const MOVE_MOUNT_T_EMPTY_PATH = 0x40;

export const AT_RECURSIVE = 0x8000;

// Syscall numbers: the new mount API shares numbers across architectures,
// pivot_root does not.
const SYS_open_tree = 428;
const SYS_move_mount = 429;
const SYS_fsopen = 430;
const SYS_fsconfig = 431;
const SYS_fsmount = 432;
const SYS_mount_setattr = 442;
const SYS_pivot_root = process.arch === 'arm64' ? 41 : 155;

const _mount = libc.func(
  'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)',
);
const _umount2 = libc.func('int umount2(const char *target, int flags)');
const _chroot = libc.func('int chroot(const char *path)');
const _sethostname = libc.func('int sethostname(const char *name, size_t len)');
const _setdomainname = libc.func('int setdomainname(const char *name, size_t len)');
const _pivotRoot = libc.func('long syscall(long nr, const char *new_root, const char *put_old)');
const MountAttr = koffi.struct('tsrun_mount_attr', {
  attr_set: 'uint64_t',
  attr_clr: 'uint64_t',
  propagation: 'uint64_t',
  userns_fd: 'uint64_t',
});
const _mountSetattr = libc.func(
  'long syscall(long nr, int dirfd, const char *path, unsigned int flags, tsrun_mount_attr *attr, size_t size)',
);
// struct statvfs on 64-bit Linux: nine 8-byte counters, then f_flag at byte 72;
// glibc fills it with ST_* values, which equal the MS_* bits.
const _openTree = libc.func('long syscall(long nr, int dirfd, const char *path, unsigned int flags)');
const _moveMount = libc.func(
  'long syscall(long nr, int from_dirfd, const char *from_path, int to_dirfd, const char *to_path, unsigned int flags)',
);
const _fsopen = libc.func('long syscall(long nr, const char *fsname, unsigned int flags)');
const _fsconfig = libc.func(
  'long syscall(long nr, int fsfd, unsigned int cmd, const char *key, const char *value, int aux)',
);
const _fsmount = libc.func('long syscall(long nr, int fsfd, unsigned int flags, unsigned int attr_flags)');
const _fstatvfs = libc.func('int fstatvfs(int fd, _Out_ uint8_t *buf)');
const STATVFS_SIZE = 112;
const STATVFS_FLAG_OFFSET = 72;

/**
 * mount(2). `label` is what errors show as the destination (the container
 * path), since `target` is usually a /proc/self/fd/N handle.
 */
export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null = null,
  label?: { source?: string; target?: string },
): void {
  const shownSource = label?.source ?? source ?? fstype ?? 'none';
  const shownTarget = label?.target ?? target;
  check(_mount(source, target, fstype, flags >>> 0, data), 'mount', `${shownSource} → ${shownTarget}`);
}

export function umount2(target: string, flags: number, label = target): void {
  check(_umount2(target, flags), 'umount2', label);
}

export function pivotRoot(newRoot: string, putOld: string, label = newRoot): void {
  check(Number(_pivotRoot(SYS_pivot_root, newRoot, putOld)), 'pivot_root', label);
}

export function chroot(path: string): void {
  check(_chroot(path), 'chroot', path);
}

export interface MountAttrs {
  attrSet: number;
  attrClr: number;
  propagation?: number;
  /** With MOUNT_ATTR.IDMAP in attrSet: the user namespace whose mapping the mount gets. */
  usernsFd?: number;
}

/** mount_setattr(2) on the mount at dirfd/path (AT_EMPTY_PATH with path ""). */
export function mountSetattr(dirfd: number, path: string, flags: number, attrs: MountAttrs, label = path): void {
  const attr = {
    attr_set: BigInt(attrs.attrSet),
    attr_clr: BigInt(attrs.attrClr),
    propagation: BigInt(attrs.propagation ?? 0),
    userns_fd: BigInt(attrs.usernsFd ?? 0),
  };
  check(
    Number(_mountSetattr(SYS_mount_setattr, dirfd, path, flags, attr, koffi.sizeof(MountAttr))),
    'mount_setattr',
    label,
  );
}

/** mount_setattr with no arguments: false only when the kernel lacks the call (ENOSYS) or a filter forbids it. */
export function hasMountSetattr(): boolean {
  if (Number(_mountSetattr(SYS_mount_setattr, -1, null, 0, null, 0)) === 0) return true;
  const errno = lastErrno();
  return errno !== constants.errno.ENOSYS && errno !== constants.errno.EPERM;
}

/** open_tree(2): with OPEN_TREE_CLONE, a detached copy of the mount (tree, AT_RECURSIVE) at path; returns its fd. */
export function openTree(dirfd: number, path: string, flags: number, label = path): number {
  return check(Number(_openTree(SYS_open_tree, dirfd, path, flags)), 'open_tree', label);
}

const FSOPEN_CLOEXEC = 0x1;
const FSCONFIG_CMD_CREATE = 6;
const FSMOUNT_CLOEXEC = 0x1;

/**
 * A new, detached (close-on-exec) mount of filesystem `fsname` made with
 * fsopen, fsconfig(FSCONFIG_CMD_CREATE) and fsmount with MOUNT_ATTR_* `attrs`;
 * no other process's mount can cover anything in it.
 */
export function fsmountNew(fsname: string, attrs: number): number {
  const ctx = check(Number(_fsopen(SYS_fsopen, fsname, FSOPEN_CLOEXEC)), 'fsopen', fsname);
  try {
    check(Number(_fsconfig(SYS_fsconfig, ctx, FSCONFIG_CMD_CREATE, null, null, 0)), 'fsconfig(CMD_CREATE)', fsname);
    return check(Number(_fsmount(SYS_fsmount, ctx, FSMOUNT_CLOEXEC, attrs)), 'fsmount', fsname);
  } finally {
    closeQuiet(ctx);
  }
}

/** move_mount(2) of the (detached) mount under fromFd onto the object under toFd. */
export function moveMount(fromFd: number, toFd: number, label: string): void {
  check(
    Number(_moveMount(SYS_move_mount, fromFd, '', toFd, '', MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)),
    'move_mount',
    label,
  );
}

/** The MS_* flags (RDONLY, NOSUID, NODEV, NOEXEC, atime bits …) the mount under fd carries. */
export function mountFlagsOf(fd: number, label = String(fd)): number {
  const buf = Buffer.alloc(STATVFS_SIZE);
  check(_fstatvfs(fd, buf), 'fstatvfs', label);
  return Number(buf.readBigUInt64LE(STATVFS_FLAG_OFFSET));
}

export function sethostname(name: string): void {
  const buf = Buffer.from(name);
  check(_sethostname(name, buf.length), 'sethostname', name);
}

export function setdomainname(name: string): void {
  const buf = Buffer.from(name);
  check(_setdomainname(name, buf.length), 'setdomainname', name);
}
