// Recursive copy for tmpcopyup: regular files, directories, symlinks and
// device/fifo nodes, keeping mode and owner, never following symlinks.
import {
  lstatSync,
  readdirSync,
  mkdirSync,
  copyFileSync,
  symlinkSync,
  readlinkSync,
  lchownSync,
  chmodSync,
  utimesSync,
} from 'node:fs';
import { join } from 'node:path';
import { AT_FDCWD, mknodat } from '../sys/fs';

/**
 * Copies the content of directory `src` into the existing directory `dst`.
 * dst's own mode and owner are the caller's: src is often a /proc/self/fd
 * magic link, whose lstat is the link's (mode 0 for an O_PATH fd), and a
 * copied-up tmpfs keeps its own root unless the destination existed (runc).
 */
export function copyTree(src: string, dst: string): void {
  copyEntries(src, dst);
}

function copyEntries(src: string, dst: string): void {
  for (const name of readdirSync(src)) {
    const from = join(src, name);
    const to = join(dst, name);
    const st = lstatSync(from, { bigint: true });
    const mode = Number(st.mode);
    if (st.isDirectory()) {
      mkdirSync(to, 0o700);
      copyEntries(from, to);
    } else if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(from), to);
    } else if (st.isFile()) {
      copyFileSync(from, to);
    } else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
      mknodat(AT_FDCWD, to, mode, st.rdev);
    } else {
      continue; // sockets cannot be copied
    }
    lchownSync(to, Number(st.uid), Number(st.gid));
    if (!st.isSymbolicLink()) {
      chmodSync(to, mode & 0o7777);
      utimesSync(to, st.atime, st.mtime);
    }
  }
}
