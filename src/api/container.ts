// A container under a state root, as the library's caller holds it. It keeps
// nothing but its root, id and executable: every method reads the state
// directory afresh, as each CLI command does, so several Container objects
// (or processes) may act on one container, and containers of different
// roots live side by side in one process.
import type { LinuxResources, Process, State } from '../spec/types';
import { InvalidInputError } from '../errors';
import { validateProcess } from '../spec/validate';
import { ContainerDir } from '../state/store';
import { ContainerFiles, publicState, statusOf } from '../state/status';
import { startContainer } from '../runtime/start';
import { killContainer } from '../runtime/kill';
import { deleteContainer } from '../runtime/delete';
import { pauseContainer, resumeContainer } from '../runtime/pause';
import { containerPids } from '../runtime/ps';
import { updateContainer } from '../runtime/update';
import { streamEvents, type ContainerEvent } from '../runtime/events';
import { containerConfig, execInContainer } from '../runtime/exec';
import { checkCount, checkOptionalPath } from './args';
import { iterate } from './event-queue';
import { execInForeground } from './foreground-exec';

export type { ContainerEvent } from '../runtime/events';

export interface ExecOptions {
  /** Give the process a terminal (process.terminal). Detached, it needs consoleSocket. */
  tty?: boolean;
  /** Resolve once the process runs instead of when it exits. */
  detach?: boolean;
  consoleSocket?: string;
  /** AF_UNIX socket that receives a pidfd of the process (runc's --pidfd-socket). */
  pidfdSocket?: string;
  pidFile?: string;
  /** Hand the caller's fds 3 … 3+N-1 to the process. */
  preserveFds?: number;
  /** Exec even into a paused container (the process starts frozen). */
  ignorePaused?: boolean;
}

export interface EventsOptions {
  /** Milliseconds between stats events; default 5000, as runc. */
  interval?: number;
}

export class Container {
  /** Use createContainer or loadContainer. */
  constructor(
    readonly root: string,
    readonly id: string,
    /** The tsrun executable its init and exec'd processes run from. */
    readonly executable: string,
  ) {}

  /** Runs the config's process (runtime.md start); resolves once it has exec'd. */
  async start(): Promise<void> {
    const c = ContainerDir.open(this.root, this.id);
    try {
      startContainer(c);
    } finally {
      c.unlock();
    }
  }

  /** The OCI state (runtime.md state): status, pid, bundle, annotations. */
  async state(): Promise<State> {
    const c = ContainerFiles.find(this.root, this.id);
    const saved = c.readExisting();
    return publicState(saved, statusOf(c, saved)) as unknown as State;
  }

  /** A signal (name as "SIGTERM" or "TERM", or number) to the init, or with `all` to every process of the container. */
  async kill(signal: string | number = 'SIGTERM', opts: { all?: boolean } = {}): Promise<void> {
    killContainer(this.root, this.id, String(signal), !!opts.all);
  }

  /** Removes the container; `force` kills it first if it still runs. */
  async delete(opts: { force?: boolean } = {}): Promise<void> {
    await deleteContainer(this.root, this.id, !!opts.force);
  }

  /**
   * Runs one more process in the container. Fields of `process` left out are
   * the config's process's (as `tsrun exec <id> <command>`). Resolves to its
   * exit status (128+signal if killed), or to 0 once it runs with `detach`.
   */
  async exec(process: Partial<Process> & { args: string[] }, opts: ExecOptions = {}): Promise<number> {
    const preserveFds = checkCount('preserveFds', opts.preserveFds);
    const { saved, config } = containerConfig(this.root, this.id, !!opts.ignorePaused);
    const base: Partial<Process> = { ...config.process, terminal: false };
    const proc = { ...base, ...process, ...(opts.tty === undefined ? {} : { terminal: opts.tty }) } as Process;
    const problems = validateProcess(proc, 'process');
    if (problems.length) throw new InvalidInputError(problems.join('\n'));
    if (!opts.detach) {
      const pidFile = checkOptionalPath('pidFile', opts.pidFile);
      const consoleSocket = checkOptionalPath('consoleSocket', opts.consoleSocket);
      const pidfdSocket = checkOptionalPath('pidfdSocket', opts.pidfdSocket);
      return execInForeground({
        root: this.root,
        id: this.id,
        process: proc,
        executable: this.executable,
        pidFile,
        consoleSocket,
        pidfdSocket,
        preserveFds,
        ignorePaused: !!opts.ignorePaused,
      });
    }
    return execInContainer(
      {
        root: this.root,
        id: this.id,
        process: proc,
        detach: !!opts.detach,
        pidFile: checkOptionalPath('pidFile', opts.pidFile),
        consoleSocket: checkOptionalPath('consoleSocket', opts.consoleSocket),
        pidfdSocket: checkOptionalPath('pidfdSocket', opts.pidfdSocket),
        preserveFds,
        ignorePaused: !!opts.ignorePaused,
        cgroups: [],
        executable: this.executable,
      },
      saved,
      config,
    );
  }

  /** Freezes every process of the container (cgroup freezer). */
  async pause(): Promise<void> {
    pauseContainer(this.root, this.id);
  }

  async resume(): Promise<void> {
    resumeContainer(this.root, this.id);
  }

  /** New limits in runc's terms: a zero or absent value leaves the current one. */
  async update(resources: LinuxResources): Promise<void> {
    if (typeof resources !== 'object' || resources === null || Array.isArray(resources))
      throw new InvalidInputError('resources: must be a LinuxResources object');
    await updateContainer(this.root, this.id, resources);
  }

  /** runc's stats "data" (cpu, memory, pids, blkio, hugetlb); counters past 2^53 are BigInt. */
  async stats(): Promise<Record<string, unknown>> {
    let data: Record<string, unknown> | undefined;
    await streamEvents(this.root, this.id, { intervalMs: 1, statsOnly: true }, (e) => (data = e.data));
    return data as Record<string, unknown>;
  }

  /**
   * runc's event stream: a stats event every interval and an oom event on
   * each OOM kill, until the container stops or the loop is left.
   */
  events(opts: EventsOptions = {}): AsyncIterable<ContainerEvent> {
    const intervalMs = opts.interval ?? 5000;
    if (typeof intervalMs !== 'number' || !(intervalMs > 0))
      throw new InvalidInputError(
        `interval: must be a number of milliseconds above 0, got ${JSON.stringify(opts.interval)}`,
      );
    return iterate<ContainerEvent>((push, signal) =>
      streamEvents(this.root, this.id, { intervalMs, statsOnly: false, signal }, push),
    );
  }

  /** The pids of every process in the container (host pid namespace). */
  async ps(): Promise<number[]> {
    return containerPids(this.root, this.id);
  }
}
