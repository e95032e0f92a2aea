// One directory per container under --root: state.json (written atomically),
// the exec fifo, and an flock on the directory that serializes commands.
import { mkdirSync, readFileSync, writeFileSync, renameSync, rmSync, existsSync, readdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { Hook } from '../spec/types';
import { UserError } from '../cli/errors';
import { open, O, flockExclusive, closeQuiet } from '../sys/fs';
import { isSameLiveProcess } from './proc';
import { validateId } from './id';
import { loadCgroup, type SavedCgroup } from '../cgroups';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** What tsrun keeps about a container; `state` prints a subset in runc's layout. */
export interface Saved {
  ociVersion: string;
  id: string;
  /** Container init as seen from the host pid namespace; 0 until known. */
  pid: number;
  /** /proc/<pid>/stat start time, so a recycled pid is never taken for the container. */
  pidStart?: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  /** 'creating' until `create` has finished. */
  phase: 'creating' | 'created';
  hooks?: { poststart?: Hook[]; poststop?: Hook[] };
  cgroup?: unknown;
  /**
   * Without a mount namespace the container's mounts are made in the
   * caller's namespace (as runc does): their host paths, for delete to undo.
   */
  hostMounts?: string[];
}

export function ensureRoot(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
}

export class ContainerDir {
  readonly dir: string;
  private lockFd = -1;

  private constructor(
    readonly root: string,
    readonly id: string,
  ) {
    this.dir = join(root, id);
  }

  get statePath(): string {
    return join(this.dir, 'state.json');
  }
  get fifoPath(): string {
    return join(this.dir, 'exec.fifo');
  }

  /** Claim a new id: the directory's creation is the atomic test for duplicates. */
  static claim(root: string, id: string): ContainerDir {
    validateId(id);
    ensureRoot(root);
    const c = new ContainerDir(root, id);
    try {
      mkdirSync(c.dir, { mode: 0o711 });
      chmodSync(c.dir, 0o711); // traversable by the init after it changed user (see exec fifo)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new UserError(`container with id exists: ${id}`);
      throw e;
    }
    c.lock();
    return c;
  }

  /** An existing container, locked for the caller's command (`list` only peeks). */
  static open(root: string, id: string, lock = true): ContainerDir {
    validateId(id);
    const c = new ContainerDir(root, id);
    try {
      if (lock) c.lock();
      else if (!existsSync(c.dir)) throw Object.assign(new Error(c.dir), { code: 'ENOENT' });
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') throw new UserError(`container does not exist: ${id}`);
      throw e;
    }
    if (!existsSync(c.statePath) && !c.isBeingCreated()) {
      throw new UserError(`container does not exist: ${id}`);
    }
    return c;
  }

  static list(root: string): string[] {
    try {
      return readdirSync(root, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  private lock(): void {
    this.lockFd = open(this.dir, O.RDONLY | O.DIRECTORY);
    flockExclusive(this.lockFd, this.dir);
  }

  unlock(): void {
    closeQuiet(this.lockFd);
    this.lockFd = -1;
  }

  /** A directory without state.json: `create` was killed before its first write. */
  private isBeingCreated(): boolean {
    return existsSync(this.dir);
  }

  read(): Saved | undefined {
    try {
      return JSON.parse(readFileSync(this.statePath, 'utf8')) as Saved;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new UserError(`${this.statePath}: unreadable state: ${(e as Error).message}`);
    }
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

export function statusOf(c: ContainerDir, s: Saved | undefined): Status {
  if (!s || !isSameLiveProcess(s.pid, s.pidStart)) return 'stopped';
  if (s.phase === 'creating') return 'creating';
  // A created container can be paused too (runc reports it paused).
  if (s.cgroup && loadCgroup(s.cgroup as SavedCgroup).isFrozen()) return 'paused';
  if (existsSync(c.fifoPath)) return 'created';
  return 'running';
}

/** runc's `state` JSON. */
export function publicState(s: Saved, status: Status): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ociVersion: s.ociVersion,
    id: s.id,
    pid: status === 'stopped' ? 0 : s.pid,
    status,
    bundle: s.bundle,
    rootfs: s.rootfs,
    created: s.created,
    owner: s.owner,
  };
  if (s.annotations && Object.keys(s.annotations).length) out.annotations = s.annotations;
  return out;
}
