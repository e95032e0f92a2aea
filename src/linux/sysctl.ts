// linux.sysctl: writes under /proc/sys of the container's own procfs. Each
// file is opened beneath an fd on /proc with no symlinks and no mount
// crossings, and checked to be procfs, so a container-made link or mount
// cannot redirect the write.
import { writeSync } from 'node:fs';
import type { Spec } from '../spec/types';
import { FS_MAGIC, O, RESOLVE, closeQuiet, fsType, open, openat2 } from '../sys/fs';
import { SysError } from '../sys/libc';

export function applySysctl(config: Spec): void {
  const entries = Object.entries(config.linux?.sysctl ?? {});
  if (entries.length === 0) return;
  const proc = open('/proc', O.PATH | O.DIRECTORY);
  try {
    if (fsType(proc, '/proc') !== FS_MAGIC.PROC) throw new Error('sysctl: /proc is not a procfs');
    for (const [key, value] of entries) writeSysctl(proc, key, value ?? '');
  } finally {
    closeQuiet(proc);
  }
}

function writeSysctl(proc: number, key: string, value: string): void {
  const rel = 'sys/' + key.replace(/\./g, '/');
  const label = '/proc/' + rel;
  const resolve = RESOLVE.BENEATH | RESOLVE.NO_SYMLINKS | RESOLVE.NO_MAGICLINKS | RESOLVE.NO_XDEV;
  const fd = openat2(proc, rel, O.WRONLY | O.NOFOLLOW, resolve, 0, label);
  try {
    if (fsType(fd, label) !== FS_MAGIC.PROC) throw new Error(`sysctl ${key}: ${label} is not on procfs`);
    try {
      writeSync(fd, value);
    } catch (err) {
      const errno = -((err as NodeJS.ErrnoException).errno ?? -5);
      throw new SysError('write', `${label} = ${value}`, errno);
    }
  } finally {
    closeQuiet(fd);
  }
}
