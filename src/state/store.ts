// One directory per container under --root: state.json (written atomically),
// the exec fifo, and an flock on the directory that serializes the commands
// that change a container. Reading it needs no lock (status.ts).
import { resolve } from 'node:path';
import { mkdirSync, writeFileSync, renameSync, rmSync, chmodSync } from 'node:fs';
import { ContainerStateError, InvalidInputError, NoSuchContainerError } from '../errors';
import { open, O, flockExclusive, closeQuiet } from '../sys/fs';
import { validateId } from './id';
import { ContainerFiles, type Saved } from './status';

export { statusOf, publicState, ociState, type Saved, type Status } from './status';

/**
 * The state root, made if missing. Under $XDG_RUNTIME_DIR it gets the sticky
 * bit, which the XDG spec asks of files the session's cleaner must not remove.
 */
export function ensureRoot(root: string): void {
  try {
    const made = mkdirSync(root, { recursive: true, mode: 0o700 });
    const xdg = process.env.XDG_RUNTIME_DIR;
    if (made && xdg && resolve(root).startsWith(`${resolve(xdg)}/`)) chmodSync(root, 0o1700);
  } catch (e) {
    throw rootError(root, e);
  }
}

function rootError(root: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  if (!err.code) return err;
  const unprivileged = process.geteuid?.() !== 0 && (err.code === 'EACCES' || err.code === 'EPERM');
  const hint = unprivileged
    ? ' (as an unprivileged user, set XDG_RUNTIME_DIR or pass --root a directory you can write)'
    : '';
  return new InvalidInputError(
    `--root ${root}: cannot create the container's state directory: ` +
      `${err.syscall ?? 'mkdir'} ${err.path ?? root}: ${err.code}${hint}`,
  );
}

export class ContainerDir extends ContainerFiles {
  private lockFd = -1;

  /** Claim a new id: the directory's creation is the atomic test for duplicates. */
  static claim(root: string, id: string): ContainerDir {
    validateId(id);
    ensureRoot(root);
    const c = new ContainerDir(root, id);
    try {
      mkdirSync(c.dir, { mode: 0o711 });
      chmodSync(c.dir, 0o711); // traversable by the init after it changed user (see exec fifo)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST')
        throw new ContainerStateError(`container with id exists: ${id}`);
      throw rootError(root, e);
    }
    c.lock();
    return c;
  }

  /** An existing container, locked for the caller's command. */
  static open(root: string, id: string): ContainerDir {
    validateId(id);
    const c = new ContainerDir(root, id);
    try {
      c.lock();
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') throw new NoSuchContainerError(id);
      throw e;
    }
    c.mustExist();
    return c;
  }

  private lock(): void {
    this.lockFd = open(this.dir, O.RDONLY | O.DIRECTORY);
    flockExclusive(this.lockFd, this.dir);
  }

  unlock(): void {
    closeQuiet(this.lockFd);
    this.lockFd = -1;
  }

  write(s: Saved): void {
    const tmp = `${this.statePath}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(s), { mode: 0o600 });
    renameSync(tmp, this.statePath);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
    this.unlock();
  }
}
