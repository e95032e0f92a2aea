// What can be learnt about a container by reading its directory, without
// taking its lock: the saved state, its status and runc's `state` JSON. The
// read-only commands (state, list, kill) need nothing more; they take no lock
// (runc 1.1 has none at all; the lock, store.ts and lock.ts, loads no FFI either).
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Hook, Spec, State } from '../spec/types';
import { InvalidInputError, NoSuchContainerError } from '../errors';
import { isSameLiveProcess } from './proc';
import { validateId } from './id';
import { CgroupHandle, type SavedCgroup } from '../cgroups/handle';

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
  /** The container's cgroup, as its handle saves it (for pause, update, stats, delete). */
  cgroup?: SavedCgroup;
  /**
   * Without a mount namespace the container's mounts are made in the
   * caller's namespace (as runc does): their host paths, for delete to undo.
   */
  hostMounts?: string[];
  /** config.json has no process: create made the container, start must refuse (config.md#process). */
  noProcess?: boolean;
  /** The config, when it was given in memory (the library) rather than in the bundle's config.json. */
  config?: Spec;
}

const missing = (id: string) => new NoSuchContainerError(id);

/** A container's directory under --root, read without its lock. */
export class ContainerFiles {
  readonly dir: string;

  protected constructor(
    readonly root: string,
    readonly id: string,
  ) {
    this.dir = join(root, id);
  }

  /** An existing container, unlocked: state.json is replaced atomically, so a read sees a whole one. */
  static find(root: string, id: string): ContainerFiles {
    validateId(id);
    const c = new ContainerFiles(root, id);
    c.mustExist();
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

  get statePath(): string {
    return join(this.dir, 'state.json');
  }
  get fifoPath(): string {
    return join(this.dir, 'exec.fifo');
  }
  /** Where the container's sd_notify socket is bound, mounted at /run/notify inside (runtime/notify-socket.ts). */
  get notifyDir(): string {
    return join(this.dir, 'notify');
  }

  /** A directory without state.json still counts: `create` was killed before its first write. */
  protected mustExist(): void {
    if (!existsSync(this.dir)) throw missing(this.id);
  }

  read(): Saved | undefined {
    try {
      return JSON.parse(readFileSync(this.statePath, 'utf8')) as Saved;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new InvalidInputError(`${this.statePath}: unreadable state: ${(e as Error).message}`);
    }
  }

  /** The saved state of a container that has one; runc's error otherwise. */
  readExisting(): Saved {
    const saved = this.read();
    if (!saved) throw missing(this.id);
    return saved;
  }
}

export function statusOf(c: ContainerFiles, s: Saved | undefined): Status {
  if (!s || !isSameLiveProcess(s.pid, s.pidStart)) return 'stopped';
  if (s.phase === 'creating') return 'creating';
  // A created container can be paused too (runc reports it paused).
  if (s.cgroup && new CgroupHandle(s.cgroup).isFrozen()) return 'paused';
  if (existsSync(c.fifoPath)) return 'created';
  return 'running';
}

/** The spec's State, as plain JSON (the init plan and the hooks take any object). */
export type OciState = State & Record<string, unknown>;

/**
 * The runtime-spec State (runtime.md#state) of a saved container: what a hook
 * reads on its stdin. Empty annotations are left out, as runc does.
 */
export function ociState(s: Saved, status: Status): OciState {
  const st: OciState = { ociVersion: s.ociVersion, id: s.id, status, pid: s.pid, bundle: s.bundle };
  if (s.annotations && Object.keys(s.annotations).length) st.annotations = s.annotations;
  return st;
}

/**
 * runc's `state` JSON: the State, no pid once stopped, and where, when and
 * whose, in runc's key order (pid before status), for callers that compare text.
 */
export function publicState(s: Saved, status: Status): Record<string, unknown> {
  const { ociVersion, id, bundle, annotations } = ociState(s, status);
  const pid = status === 'stopped' ? 0 : s.pid;
  const where = { bundle, rootfs: s.rootfs, created: s.created, owner: s.owner };
  return { ociVersion, id, pid, status, ...where, ...(annotations && { annotations }) };
}
