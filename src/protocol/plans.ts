// The plans the parent hands its child over the sync socket (messages.ts).
import type { Process, Spec } from '../spec/types';
import type { CompiledSeccompJSON } from '../seccomp/compile';
import type { LogTarget } from '../log';

/** What `tsrun create` hands the container init. */
export interface InitPlan {
  id: string;
  bundle: string;
  rootfs: string;
  config: Spec;
  noPivot: boolean;
  noNewKeyring: boolean;
  /** The exec fifo, open read-write: the init blocks on it until `start` (src/init/main.ts). */
  fifoFd: number;
  consoleFd?: number;
  /** The container's stderr, kept here while fd 2 is /dev/null (runtime/child-stdio.ts); none: fd 2 is it. */
  stderrFd?: number;
  mountJoinFd?: number;
  /** Positions in config.mounts whose bind sources follow the plan as descriptors (bind-sources.ts). */
  bindSources?: number[];
  preserveFds: number;
  newCgroupNs: boolean;
  newUserNs: boolean;
  /** The spec state for the hooks the init runs (pid as seen from the host). */
  state: Record<string, unknown>;
  /** Compiled by the parent; loaded by the init right before execve. */
  seccomp?: CompiledSeccompJSON;
  /** Where the init's warnings and debug lines go: the parent's log (runtime/log-handover.ts). */
  log: LogTarget;
}

/** What `tsrun exec` hands the process it starts in a running container. */
export interface ExecPlan {
  process: Process;
  /** The container's mount namespace, open: entered on the main thread (absent: the container shares ours). */
  mntFd?: number;
  consoleFd?: number;
  /** The process's stderr, kept here while fd 2 is /dev/null (runtime/child-stdio.ts); none: fd 2 is it. */
  stderrFd?: number;
  preserveFds: number;
  seccomp?: CompiledSeccompJSON;
  /** The spec state a seccomp notify agent is sent. */
  state: Record<string, unknown>;
  personality?: NonNullable<Spec['linux']>['personality'];
  memoryPolicy?: NonNullable<Spec['linux']>['memoryPolicy'];
  /** exec --user as typed: resolved inside the container (names, a uid's gid). */
  user?: string;
  /** Where the process's warnings and debug lines go until execve: the parent's log. */
  log: LogTarget;
}
