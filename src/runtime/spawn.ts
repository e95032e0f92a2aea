// The parent side of starting a process in a container, one path for create
// (the container's init) and exec (one more process in a running one): the
// native helper clones the child into its namespaces and execs `tsrun init`
// from the protected executable; the parent answers the helper (id maps,
// time offsets), puts the child in its cgroup (unless it was cloned into it,
// clone-into-cgroup.ts), hands it its plan over the
// sync socket (protocol/messages.ts) and waits until it is ready, raising
// the child's own errors as the request's. What differs between create and
// exec is a ChildSpec. Any failure kills what was started.
import type { Spec } from '../spec/types';
import { InvalidInputError, TsrunError } from '../errors';
import { debug } from '../log';
import { phase, phaseEnv } from '../log/phase';
import { nativeSpawn } from '../sys/native';
import { socketpair } from '../sys/socket';
import { closeQuiet } from '../sys/fs';
import { waitpid, signalName, WNOHANG } from '../sys/wait';
import { sleepMs } from '../sys/sleep';
import { waitGone } from '../state/proc';
import { parentChannel, type ParentChannel } from '../protocol/channel';
import { INIT_COMMAND, Msg, exhausted, unexpectedMessage, type ParentMessage } from '../protocol/messages';
import { sendBindSources } from '../protocol/bind-sources';
import { ownExecutable, reportedError, spawnHandshake, waitUntilExecd } from './spawn-handshake';
import { receiveConsoleMaster } from './tty-proxy';
import { connectConsole, connectPidfdSocket, sendPidfd, writePidFile } from './handover';
import { quietStderr, type QuietStderr } from './child-stdio';
import { cloneIntoCgroup, type Cloned } from './clone-into-cgroup';
import type { CloneTarget } from '../cgroups/handle';

/** What the child gets once it is in place: its plan, and the bind sources that follow it (create). */
export interface Handover {
  plan: Extract<ParentMessage, { type: typeof Msg.Plan | typeof Msg.Exec }>;
  bindSources?: number[];
}

export interface ChildSpec {
  /** Names the child in errors: 'container init', 'exec'. */
  who: string;
  /** The debug line once its pid is known. */
  started: string;
  /** The error when it dies before it is ready without saying why. */
  diedEarly: string;
  /** Its id maps and time offsets, written when the helper asks. */
  config: Spec;
  /** Joined by fd (user first) and created (CLONE_NEW* flags) by the helper, which forks again for pid and time. */
  namespaces: { joins: { fd: number; type: number }[]; unshareFlags: number; forkAgain: boolean };
  /** The descriptors it keeps beyond stdio, the sync socket and its console. */
  keepFds: number[];
  terminal: boolean;
  consoleSocket?: string;
  /** --pidfd-socket: a pidfd of the process is sent there once it is ready, with runc's word for its kind. */
  pidfdSocket?: { path: string; name: 'standard' | 'setns' };
  executable?: string;
  /** cgroup v2: the directory to clone it straight into, or why not (CgroupHandle.cloneTarget). */
  cloneInto?: CloneTarget;
  /** Wraps the clone (exec: on execCPUAffinity.initial's CPUs, so the child starts there). */
  aroundClone?: (clone: () => number) => number;
  /**
   * exec: the child goes into the container's cgroup (in `prepare`) only
   * once it runs tsrun init from the read-only bind (waitUntilExecd), never
   * as a copy of the caller. create's init goes in at once: its cgroup is
   * new, and it must be there before it makes its cgroup namespace. Neither
   * waits when it was cloned into its cgroup (never into a frozen one).
   */
  waitForExecve: boolean;
  /**
   * Between its pid and its plan: its cgroup (unless `inCgroup`: cloned into it), and whatever else must come
   * first; `io` goes into the plan.
   */
  prepare(pid: number, io: { consoleFd?: number; stderrFd?: number; inCgroup: boolean }): Handover;
  /** create: the init asks for the runtime's hooks once its rootfs is up; a throw aborts it. Unexpected elsewhere. */
  onHooks?: () => void;
  /**
   * exec: its last steps after "ready" (credentials, seccomp, execve) may
   * still fail: read until execve closes the socket.
   */
  readUntilExecve: boolean;
  pidFile?: string;
  /** On failure, before the child is killed (create: the network devices go back first). */
  beforeKill?: () => void;
}

export interface Spawned {
  pid: number;
  /** A terminal without --console-socket: the pty master the child sent (run's and exec's proxy). */
  consoleMaster?: number;
}

/** Starts the child and waits until it is ready (exec: until it runs the process). */
export function spawnChild(s: ChildSpec): Spawned {
  const fds: number[] = [];
  let childPid = 0;
  let pid = 0;
  try {
    const io = openChildEnds(s, fds);
    phase('spawn.fds');
    const cloned = spawnThroughHelper(s, io);
    phase('spawn.cloned');
    childPid = cloned.pid;
    const chan = parentChannel(io.parentEnd);
    pid = spawnHandshake(chan, s.config, childPid, s.namespaces.forkAgain, s.who);
    phase('spawn.handshake'); // id maps, time offsets, the pid
    if (s.waitForExecve && !cloned.inCgroup) waitUntilExecd(pid);
    debug(s.started, { pid });
    const { inCgroup } = cloned;
    const { plan, bindSources } = s.prepare(pid, { consoleFd: io.consoleFd, stderrFd: io.stderr.stderrFd, inCgroup });
    phase('spawn.prepared'); // cgroup, plan (seccomp compiled)
    chan.send(plan);
    if (bindSources) sendBindSources(chan, bindSources);
    awaitReady(chan, s, pid);
    phase('spawn.ready');
    if (s.readUntilExecve) awaitExecve(chan, s);
    // As runc: after the console's master, before the pid file.
    if (io.pidfdSocket !== undefined) sendPidfd(io.pidfdSocket, pid, s.pidfdSocket!.name);
    if (s.pidFile) writePidFile(s.pidFile, pid);
    const consoleMaster = io.consoleReceiver !== undefined ? receiveConsoleMaster(io.consoleReceiver) : undefined;
    return { pid, consoleMaster };
  } catch (e) {
    s.beforeKill?.();
    // A write to a child that is gone: say that it died, and how, not EPIPE.
    const error = (e as NodeJS.ErrnoException).code === 'EPIPE' ? new TsrunError(diedEarly(s, pid)) : e;
    killAndReap([pid, childPid]);
    throw error;
  } finally {
    fds.forEach(closeQuiet);
  }
}

/** The sync socket and the console; each is also pushed on `fds`, closed when the spawn ends. */
interface ChildEnds {
  parentEnd: number;
  childEnd: number;
  consoleFd?: number;
  /** A terminal without --console-socket: the child sends the master here. */
  consoleReceiver?: number;
  /** /dev/null on its fd 2 while it runs tsrun, its stderr kept aside (child-stdio.ts). */
  stderr: QuietStderr;
  /** --pidfd-socket, connected before anything starts. */
  pidfdSocket?: number;
}

function openChildEnds(s: ChildSpec, fds: number[]): ChildEnds {
  let consoleReceiver: number | undefined;
  let consoleFd: number | undefined;
  if (s.consoleSocket) consoleFd = connectConsole(s.consoleSocket);
  else if (s.terminal) [consoleReceiver, consoleFd] = socketpair('stream');
  if (consoleFd !== undefined) fds.push(consoleFd);
  if (consoleReceiver !== undefined) fds.push(consoleReceiver);
  const pidfdSocket = s.pidfdSocket ? connectPidfdSocket(s.pidfdSocket.path) : undefined;
  if (pidfdSocket !== undefined) fds.push(pidfdSocket);
  const [parentEnd, childEnd] = socketpair('stream');
  fds.push(parentEnd);
  // Above every fd the child keeps, so that none is taken for it.
  const keep = [...s.keepFds, childEnd, consoleFd ?? 2];
  const stderr = quietStderr(Math.max(2, ...keep) + 1, fds);
  return { parentEnd, childEnd, consoleFd, consoleReceiver, stderr, pidfdSocket };
}

/**
 * The child's whole environment: Bun's engine told to start no helper
 * threads of its own (JIT compiler, concurrent and parallel GC, mimalloc's
 * purge thread). The child runs inside the container's cgroup, where every
 * thread counts against linux.resources.pids.limit; a thread Bun cannot
 * start aborts it (docs/cgroups.md, "pids.limit and the init's threads").
 */
export const CHILD_ENV = [
  'BUN_JSC_useConcurrentJIT=0',
  'BUN_JSC_useConcurrentGC=0',
  'BUN_JSC_numberOfGCMarkers=1',
  'BUN_JSC_useParallelMarkingConstraintSolver=0',
  'BUN_JSC_useWarmUpMarkedBlocks=0',
  'MIMALLOC_PURGE_DELAY=-1',
  'BUN_ENABLE_CRASH_REPORTING=0',
];

/** The native helper clones the child into its namespaces (and cgroup, where it can); it keeps exactly these fds. */
function spawnThroughHelper(s: ChildSpec, io: ChildEnds): Cloned {
  const keep = [0, 1, 2, ...s.keepFds, io.childEnd];
  if (io.consoleFd !== undefined) keep.push(io.consoleFd);
  if (io.stderr.stderrFd !== undefined) keep.push(io.stderr.stderrFd);
  const clone = (cgroup?: { fd: number; path: string }) =>
    nativeSpawn({
      syncFd: io.childEnd,
      joins: s.namespaces.joins,
      unshareFlags: s.namespaces.unshareFlags,
      forkAgain: s.namespaces.forkAgain,
      keepFds: keep,
      quietFd: io.stderr.quietFd,
      path: ownExecutable(s.executable),
      argv: ['tsrun', INIT_COMMAND, String(io.childEnd)],
      env: [...CHILD_ENV, ...phaseEnv()],
      cgroup,
    });
  const around = s.aroundClone ?? ((f: () => number) => f());
  try {
    return cloneIntoCgroup(s.who, s.cloneInto, (cgroup) => around(() => clone(cgroup)));
  } finally {
    closeQuiet(io.childEnd);
  }
}

/** Until the child says it is ready: its hooks request answered, its error raised. */
function awaitReady(chan: ParentChannel, s: ChildSpec, pid: number): void {
  for (;;) {
    const m = chan.receive();
    if (!m) throw new TsrunError(diedEarly(s, pid));
    switch (m.type) {
      case Msg.Ready:
        return;
      case Msg.Hooks:
        if (!s.onHooks) throw unexpectedMessage(s.who, m);
        answerHooks(chan, s.onHooks);
        break;
      case Msg.Error:
        throw new InvalidInputError(reportedError(m, s.who));
      case Msg.UserMap:
      case Msg.TimeNs:
      case Msg.Debug:
      case Msg.Pid:
        throw unexpectedMessage(s.who, m);
      default:
        return exhausted(m);
    }
  }
}

/**
 * The error when the child closed the socket without a word: a crash of the
 * runtime (its report went to /dev/null, child-stdio.ts) is named by its
 * signal when the child is ours to wait for; otherwise the plain words.
 */
function diedEarly(s: ChildSpec, pid: number): string {
  const deadline = Date.now() + 2000;
  for (;;) {
    let status;
    try {
      status = waitpid(pid, WNOHANG);
    } catch {
      return s.diedEarly; // not our child (after a second fork): no status to read
    }
    if (status?.signal) return `${s.who} crashed (${signalName(status.signal)}) during setup`;
    if (status || Date.now() > deadline) return s.diedEarly;
    sleepMs(10);
  }
}

function answerHooks(chan: ParentChannel, runHooks: () => void): void {
  phase('spawn.hooks-asked');
  try {
    runHooks();
  } catch (e) {
    chan.send({ type: Msg.Abort });
    throw new InvalidInputError((e as Error).message);
  }
  chan.send({ type: Msg.Ack });
  phase('spawn.hooks-done');
}

/** After "ready": an error, or the end of the stream when execve closes the socket. */
function awaitExecve(chan: ParentChannel, s: ChildSpec): void {
  const m = chan.receive();
  if (m?.type === Msg.Error) throw new InvalidInputError(reportedError(m, s.who));
  if (m) throw unexpectedMessage(s.who, m);
}

/** Kill what was started and wait until it is gone (the child after a second fork is ours only as subreaper). */
export function killAndReap(pids: number[]): void {
  const started = [...new Set(pids.filter((p) => p > 0))];
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const pid of started) {
    try {
      waitpid(pid);
    } catch {
      // not our child, or already reaped
    }
    if (!waitGone(pid, undefined, 5000)) debug(`abort: process ${pid} did not exit`);
  }
}
