// Writes to /proc files that set something about this process or thread,
// refused unless the file really is on procfs: a container could have put
// something else at that path (runc's 2025 /proc redirection advisories).
import { writeSync } from 'node:fs';
import { open, closeQuiet, fsType, FS_MAGIC, O } from '../sys/fs';

/** Opens a /proc file for writing and refuses it unless it really is on procfs. */
export function writeProcFile(path: string, value: string): void {
  const fd = open(path, O.WRONLY | O.NOFOLLOW);
  try {
    if (fsType(fd, path) !== FS_MAGIC.PROC) throw new Error(`${path} is not on procfs; refusing to write it`);
    try {
      writeSync(fd, value);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new Error(`write(${path}, "${value}"): ${reason}`, { cause: err });
    }
  } finally {
    closeQuiet(fd);
  }
}
