// Installing a compiled filter: called by the container init on its main
// thread right before execve (seccomp without TSYNC binds only the calling
// thread), and handing a SCMP_ACT_NOTIFY listener to the agent at
// listenerPath with the runtime-spec's seccomp notify protocol.
import type { State } from '../spec/types';
import { seccompSetModeFilter, seccompFlagSupported } from '../sys/seccomp';
import { connectUnix, sendFds } from '../sys/socket';
import { closeQuiet } from '../sys/fs';
import { compiledFromJSON, type CompiledSeccomp, type CompiledSeccompJSON } from './compile';
import { SECCOMP_FILTER_FLAG } from './profile';

export interface NotifyContext {
  /** The container's state (state.json) as the agent is to receive it. */
  state: State;
  /**
   * A socket already connected to listenerPath: the container init connects
   * before pivot_root, since the path is a host path.
   */
  socketFd?: number;
}

export interface LoadResult {
  /**
   * The listener fd, when the filter has SCMP_ACT_NOTIFY rules and no
   * NotifyContext was given: the caller must hand it on (e.g. to the parent,
   * which calls sendSeccompListener) and close it.
   */
  listenerFd?: number;
}

const FLAG_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(SECCOMP_FILTER_FLAG).map(([k, v]) => [v, `SECCOMP_FILTER_FLAG_${k}`]),
);

/**
 * Whether this kernel takes a SECCOMP_FILTER_FLAG_*. WAIT_KILLABLE_RECV is
 * only valid with NEW_LISTENER, so it is probed together with it.
 */
export function kernelSupportsFlag(flag: number): boolean {
  const probe = flag === SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV ? flag | SECCOMP_FILTER_FLAG.NEW_LISTENER : flag;
  return seccompFlagSupported(probe);
}

function checkFlags(flags: number): void {
  for (let bit = 1; bit <= flags; bit <<= 1) {
    if (flags & bit && !kernelSupportsFlag(bit)) {
      throw new Error(`seccomp: this kernel does not support ${FLAG_NAMES[bit] ?? `flag 0x${bit.toString(16)}`}`);
    }
  }
}

export function loadSeccomp(compiled: CompiledSeccomp | CompiledSeccompJSON, notify?: NotifyContext): LoadResult {
  const c = compiledFromJSON(compiled);
  const flags = c.flags | (c.notify ? SECCOMP_FILTER_FLAG.NEW_LISTENER : 0);
  checkFlags(flags);
  const fd = seccompSetModeFilter(flags, c.program);
  if (!c.notify) return {};
  if (!notify) return { listenerFd: fd };
  try {
    sendSeccompListener(notify.socketFd ?? c.listenerPath!, fd, notify.state, c.listenerMetadata);
  } finally {
    closeQuiet(fd);
  }
  return {};
}

/**
 * The runtime-spec's notify protocol: connect to listenerPath (a unix
 * stream socket) and send the container process state as JSON, with the
 * listener fd attached as SCM_RIGHTS and named "seccompFd" in `fds`.
 */
export function sendSeccompListener(
  listener: string | number,
  listenerFd: number,
  state: State,
  metadata?: string,
): void {
  const processState = {
    ociVersion: state.ociVersion,
    fds: ['seccompFd'],
    pid: state.pid,
    ...(metadata !== undefined ? { metadata } : {}),
    state,
  };
  const sock = typeof listener === 'number' ? listener : connectUnix(listener);
  try {
    sendFds(sock, Buffer.from(JSON.stringify(processState)), [listenerFd]);
  } finally {
    closeQuiet(sock);
  }
}
