import type { Spec } from '../spec/types';

/** What `tsrun create` hands the container init over the sync socket. */
export interface InitPlan {
  id: string;
  bundle: string;
  rootfs: string;
  config: Spec;
  noPivot: boolean;
  noNewKeyring: boolean;
  /** O_PATH fd of the exec fifo; reopened for writing to wait for `start`. */
  fifoFd: number;
  consoleFd?: number;
  mountJoinFd?: number;
  preserveFds: number;
  newCgroupNs: boolean;
  newUserNs: boolean;
  /** The spec state for the hooks the init runs (pid as seen from the host). */
  state: Record<string, unknown>;
}
