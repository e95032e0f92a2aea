import type { Spec } from '../spec/types';
import type { CompiledSeccompJSON } from '../seccomp/compile';

/** What `tsrun create` hands the container init over the sync socket. */
export interface InitPlan {
  id: string;
  bundle: string;
  rootfs: string;
  config: Spec;
  noPivot: boolean;
  noNewKeyring: boolean;
  /** O_PATH fd of the container's state directory, where the exec fifo is. */
  stateDirFd: number;
  consoleFd?: number;
  mountJoinFd?: number;
  preserveFds: number;
  newCgroupNs: boolean;
  newUserNs: boolean;
  /** The spec state for the hooks the init runs (pid as seen from the host). */
  state: Record<string, unknown>;
  /** Compiled by the parent; loaded by the init right before execve. */
  seccomp?: CompiledSeccompJSON;
}
