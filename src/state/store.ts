// One directory per container under --root: state.json (written atomically),
// the exec fifo, and the lock token that serializes the commands that change
// a container (lock.ts). Reading it needs no lock (status.ts). No FFI here.
import { join, resolve } from 'node:path';
import { mkdirSync, writeFileSync, renameSync, rmSync, chmodSync, readdirSync } from 'node:fs';
import { ContainerStateError, InvalidInputError, NoSuchContainerError } from '../errors';
import { validateId } from './id';
import { ContainerFiles, type Saved } from './status';
import { heldName, holderAlive, placeHeldToken, releaseLock, takeLock } from './lock';
import { isSameLiveProcess } from './proc';

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

/** Where create makes a container's directory before naming it: no id has a ":". */
const claimPrefix = (id: string) => `.claim:${id}:`;

export class ContainerDir extends ContainerFiles {
  private locked = false;

  /**
   * Claim a new id: the directory is made under a name no id can have (":" is
   * not allowed in one), gets its lock token, held, and is renamed to the id:
   * a rename onto an existing container fails, so that is the atomic test for
   * duplicates, and no directory named for an id is ever without its token.
   */
  static claim(root: string, id: string): ContainerDir {
    validateId(id);
    ensureRoot(root);
    const c = new ContainerDir(root, id);
    const making = join(root, `${claimPrefix(id)}${process.pid}`);
    try {
      mkdirSync(making, { mode: 0o711 });
    } catch (e) {
      // The directory being made is the container's: named as such (the name it starts under is ours).
      throw rootError(root, Object.assign(e as Error, { path: c.dir }));
    }
    try {
      chmodSync(making, 0o711); // traversable by the init after it changed user (see exec fifo)
      placeHeldToken(making);
      renameSync(making, c.dir);
    } catch (e) {
      rmSync(making, { recursive: true, force: true });
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTEMPTY' || code === 'ENOTDIR')
        throw new ContainerStateError(`container with id exists: ${id}`);
      throw rootError(root, e);
    }
    c.locked = true;
    return c;
  }

  /**
   * What a create killed between making its directory and renaming it left
   * (a few syscalls of a create): removed once the process that made it is gone.
   */
  static sweepClaims(root: string, id: string): void {
    let names: string[];
    try {
      names = readdirSync(root);
    } catch {
      return;
    }
    for (const name of names.filter((n) => n.startsWith(claimPrefix(id)))) {
      const dir = join(root, name);
      const pid = Number(name.slice(claimPrefix(id).length));
      try {
        if (!(holderAlive(dir) ?? isSameLiveProcess(pid, undefined))) rmSync(dir, { recursive: true, force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
  }

  /** An existing container, locked for the caller's command. */
  static open(root: string, id: string): ContainerDir {
    validateId(id);
    const c = new ContainerDir(root, id);
    try {
      takeLock(c.dir);
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') throw new NoSuchContainerError(id);
      throw e;
    }
    c.locked = true;
    return c;
  }

  unlock(): void {
    if (this.locked) releaseLock(this.dir);
    this.locked = false;
  }

  write(s: Saved): void {
    const tmp = `${this.statePath}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(s), { mode: 0o600 });
    renameSync(tmp, this.statePath);
  }

  /**
   * Everything but the held token first, then the rest: a delete killed
   * midway leaves its token, which the next one takes over (lock.ts).
   */
  remove(): void {
    const token = heldName();
    try {
      for (const name of readdirSync(this.dir))
        if (name !== token) rmSync(join(this.dir, name), { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    rmSync(this.dir, { recursive: true, force: true });
    this.locked = false;
  }
}
