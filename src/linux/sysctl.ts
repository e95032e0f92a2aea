// linux.sysctl: writes under /proc/sys through the runtime's verified
// procfs handle (proc-file.ts), never through the container's /proc, so a
// container-made link or mount cannot redirect the write (CVE-2025-52881).
// /proc/sys acts on the writer's namespaces, whichever procfs it is reached by.
import { writeSync } from 'node:fs';
import type { Spec } from '../spec/types';
import { O, RESOLVE, closeQuiet } from '../sys/fs';
import { SysError } from '../sys/libc';
import { openProcFile } from './proc-file';

export function applySysctl(config: Spec): void {
  for (const [key, value] of Object.entries(config.linux?.sysctl ?? {})) writeSysctl(key, value ?? '');
}

function writeSysctl(key: string, value: string): void {
  const label = '/proc/sys/' + key.replace(/\./g, '/');
  let fd: number;
  try {
    fd = openProcFile(label, O.WRONLY, RESOLVE.NO_SYMLINKS);
  } catch (err) {
    throw new Error(`sysctl ${key}: ${(err as Error).message}`, { cause: err });
  }
  try {
    writeSync(fd, value);
  } catch (err) {
    const errno = -((err as NodeJS.ErrnoException).errno ?? -5);
    throw new SysError('write', `${label} = ${value}`, errno);
  } finally {
    closeQuiet(fd);
  }
}
