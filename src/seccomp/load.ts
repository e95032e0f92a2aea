// Installing a compiled filter, and handing a SCMP_ACT_NOTIFY listener to
// the agent at listenerPath with the runtime-spec's seccomp notify protocol.
// A container's process gets its filter from native code right before
// execve (prepareFilter, then tsrun_finish): no JavaScript may run under it.
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

/** The filter's flags (a listener for SCMP_ACT_NOTIFY rules), each one checked against the kernel. */
function checkedFlags(c: CompiledSeccomp): number {
  const flags = c.flags | (c.notify ? SECCOMP_FILTER_FLAG.NEW_LISTENER : 0);
  checkFlags(flags);
  return flags;
}

function checkFlags(flags: number): void {
  for (let bit = 1; bit <= flags; bit <<= 1) {
    if (flags & bit && !kernelSupportsFlag(bit)) {
      throw new Error(`seccomp: this kernel does not support ${FLAG_NAMES[bit] ?? `flag 0x${bit.toString(16)}`}`);
    }
  }
}

/** A filter ready for tsrun_finish: the program, its flags, and the agent's socket and message. */
export interface PreparedFilter {
  program: Buffer;
  flags: number;
  notify?: { fd: number; message: Buffer };
}

/**
 * Everything about loading `compiled` that can be done before it is loaded:
 * the flags checked against the kernel, and with SCMP_ACT_NOTIFY rules the
 * agent's socket (connected now if the caller has none) and the state it is
 * to receive with the listener fd.
 */
export function prepareFilter(compiled: CompiledSeccomp | CompiledSeccompJSON, notify: NotifyContext): PreparedFilter {
  const c = compiledFromJSON(compiled);
  const flags = checkedFlags(c);
  if (!c.notify) return { program: c.program, flags };
  const fd = notify.socketFd ?? connectAgent(c.listenerPath!);
  return { program: c.program, flags, notify: { fd, message: agentMessage(notify.state, c.listenerMetadata) } };
}

/**
 * Connects to the seccomp agent at listenerPath. The error opens with runc's
 * words, which tools and runc's seccomp-notify.bats look for; the call,
 * path and errno follow.
 */
export function connectAgent(listenerPath: string): number {
  try {
    return connectUnix(listenerPath);
  } catch (err) {
    throw new Error(`failed to connect with seccomp agent: ${(err as Error).message}`, { cause: err });
  }
}

export function loadSeccomp(compiled: CompiledSeccomp | CompiledSeccompJSON, notify?: NotifyContext): LoadResult {
  const c = compiledFromJSON(compiled);
  const flags = checkedFlags(c);
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
  const sock = typeof listener === 'number' ? listener : connectAgent(listener);
  try {
    sendFds(sock, agentMessage(state, metadata), [listenerFd]);
  } finally {
    closeQuiet(sock);
  }
}

/** The container process state the agent receives, the listener fd named "seccompFd". */
function agentMessage(state: State, metadata?: string): Buffer {
  const processState = {
    ociVersion: state.ociVersion,
    fds: ['seccompFd'],
    pid: state.pid,
    ...(metadata !== undefined ? { metadata } : {}),
    state,
  };
  return Buffer.from(JSON.stringify(processState));
}
