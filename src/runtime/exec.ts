// `tsrun exec`: start one more process in a created or running container.
// The native helper joins the init's namespaces (user first, a second fork
// for the pid namespace) and execs this executable, which enters the mount
// namespace on its main thread and becomes the process (src/init/exec.ts).
// It is in the container's cgroup before it runs anything of the user's.
import { posix } from 'node:path';
import type { Process, Spec } from '../spec/types';
import { InvalidInputError, ContainerStateError } from '../errors';
import { debug } from '../log';
import { loadBundle } from '../spec/bundle';
import { ContainerFiles, statusOf, type Saved } from '../state/status';
import { CgroupHandle, type SavedCgroup } from '../cgroups/handle';
import { CgroupError } from '../cgroups/files';
import { compileSeccomp, compiledToJSON } from '../seccomp/compile';
import { NS_FLAG, NS_PROC_NAME } from '../linux/namespaces';
import { nativeSpawn } from '../sys/native';
import { open, O, closeQuiet } from '../sys/fs';
import { socketpair } from '../sys/socket';
import { setChildSubreaper } from '../sys/process';
import { waitpid } from '../sys/wait';
import { Channel } from './channel';
import { INIT_COMMAND, type ExecPlan } from './init-plan';
import { ownExecutable, reportedError, spawnHandshake, waitUntilExecd } from './spawn-handshake';
import { logForChild } from './log-handover';
import { ociState as hookState } from '../state/status';
import { receiveConsoleMaster, TtyProxy } from './tty-proxy';
import { forwardSignals, waitExit } from './foreground';
import { checkTerminal, connectConsole, writePidFile } from './handover';
import { checkPreservedFds } from './preserved-fds';

export interface ExecOptions {
  root: string;
  id: string;
  process: Process;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
  ignorePaused: boolean;
  /** --user as typed, resolved inside the container. */
  user?: string;
  /** --cgroup: sub-cgroups of the container's to run in. */
  cgroups: SubCgroup[];
  /** The tsrun executable the process enters from (default: this one; required outside it). */
  executable?: string;
}

export interface SubCgroup {
  controller?: string;
  path: string;
}

/** --cgroup [controller:]path, relative to the container's cgroup and inside it. */
export function parseSubCgroup(flag: string): SubCgroup {
  const colon = flag.indexOf(':');
  const controller = colon >= 0 ? flag.slice(0, colon) : undefined;
  const path = posix.normalize((colon >= 0 ? flag.slice(colon + 1) : flag).replace(/^\/+/, ''));
  if (controller === '' || path === '.' || path === '') throw new InvalidInputError(`--cgroup ${JSON.stringify(flag)}: must be [controller:]path`);
  if (path === '..' || path.startsWith('../')) throw new InvalidInputError(`--cgroup ${JSON.stringify(flag)}: leaves the container's cgroup`);
  return { controller, path };
}

/** The container, if a process may be started in it now; runc's errors otherwise. */
function runningContainer(root: string, id: string, ignorePaused: boolean): Saved {
  const c = ContainerFiles.find(root, id);
  const saved = c.readExisting();
  const status = statusOf(c, saved);
  if (status === 'stopped' || status === 'creating') throw new ContainerStateError(`cannot exec in a stopped container: ${id}`);
  if (status === 'paused' && !ignorePaused) throw new ContainerStateError(`cannot exec in a paused container (use --ignore-paused to override): ${id}`);
  return saved;
}

/** The container's config as created; the base of an exec'd process. */
export function containerConfig(root: string, id: string, ignorePaused: boolean): { saved: Saved; config: Spec } {
  const saved = runningContainer(root, id, ignorePaused);
  return { saved, config: (saved.config as Spec | undefined) ?? loadBundle(saved.bundle).config };
}

interface Joins {
  joins: { fd: number; type: number }[];
  mntFd?: number;
  forkAgain: boolean;
}

/** The init's namespaces of every type the config lists, user first; mount apart. */
function openJoins(pid: number, config: Spec): Joins {
  const types = [...new Set((config.linux?.namespaces ?? []).map((n) => n.type))].sort((a, b) => Number(b === 'user') - Number(a === 'user'));
  const j: Joins = { joins: [], forkAgain: false };
  try {
    for (const type of types) {
      const fd = open(`/proc/${pid}/ns/${NS_PROC_NAME[type]}`, O.RDONLY);
      if (type === 'mount') j.mntFd = fd;
      else j.joins.push({ fd, type: NS_FLAG[type] });
      if (type === 'pid' || type === 'time') j.forkAgain = true;
    }
  } catch (e) {
    closeJoins(j);
    throw e;
  }
  return j;
}

function closeJoins(j: Joins): void {
  j.joins.forEach((n) => closeQuiet(n.fd));
  closeQuiet(j.mntFd);
}

interface Started {
  pid: number;
  consoleMaster?: number;
}

/** Spawns the process into the container and waits until it is about to exec. */
function startProcess(o: ExecOptions, saved: Saved, config: Spec): Started {
  const fds: number[] = [];
  const j = openJoins(saved.pid, config);
  let childPid = 0;
  let pid = 0;
  try {
    let consoleFd: number | undefined;
    let consoleReceiver: number | undefined;
    if (o.consoleSocket) consoleFd = connectConsole(o.consoleSocket);
    else if (o.process.terminal) [consoleReceiver, consoleFd] = socketpair('stream');
    if (consoleFd !== undefined) fds.push(consoleFd);
    if (consoleReceiver !== undefined) fds.push(consoleReceiver);
    const [parentEnd, childEnd] = socketpair('stream');
    fds.push(parentEnd);
    const keep = [0, 1, 2, ...Array.from({ length: o.preserveFds }, (_, i) => 3 + i), childEnd];
    if (j.mntFd !== undefined) keep.push(j.mntFd);
    if (consoleFd !== undefined) keep.push(consoleFd);
    const log = logForChild();
    keep.push(...log.keep);
    try {
      childPid = nativeSpawn({ syncFd: childEnd, joins: j.joins, unshareFlags: 0, forkAgain: j.forkAgain, keepFds: keep, path: ownExecutable(o.executable), argv: ['tsrun', INIT_COMMAND, String(childEnd)], env: [] });
    } finally {
      closeQuiet(childEnd);
    }
    const chan = new Channel(parentEnd);
    pid = spawnHandshake(chan, config, childPid, j.forkAgain, 'exec');
    waitUntilExecd(pid);
    debug('exec: process started', { pid });
    // In every hierarchy before it runs anything: limits, freezing and kill --all cover it.
    if (saved.cgroup) joinCgroup(new CgroupHandle(saved.cgroup as SavedCgroup), pid, o.cgroups);
    else if (o.cgroups.length) throw new InvalidInputError(`--cgroup: container ${saved.id} has no cgroup`);
    const plan: ExecPlan = {
      process: o.process,
      mntFd: j.mntFd,
      consoleFd,
      preserveFds: o.preserveFds,
      seccomp: config.linux?.seccomp ? compiledToJSON(compileSeccomp(config.linux.seccomp)) : undefined,
      state: hookState(saved, 'running'),
      personality: config.linux?.personality,
      memoryPolicy: config.linux?.memoryPolicy,
      user: o.user,
      log: log.target,
    };
    chan.send({ type: 'exec', plan });
    const m = chan.receive();
    if (m?.type === 'error') throw new InvalidInputError(reportedError(m, 'exec'));
    if (m?.type !== 'ready') throw new InvalidInputError('exec: the process exited before it could run');
    // Its last steps (user, capabilities, seccomp, execve) may still fail: it says so, or execve closes the socket.
    const last = chan.receive();
    if (last?.type === 'error') throw new InvalidInputError(reportedError(last, 'exec'));
    if (o.pidFile) writePidFile(o.pidFile, pid);
    return { pid, consoleMaster: consoleReceiver !== undefined ? receiveConsoleMaster(consoleReceiver) : undefined };
  } catch (e) {
    for (const p of [pid, childPid]) if (p) killQuiet(p);
    if (childPid && !pid) waitQuiet(childPid);
    throw e;
  } finally {
    closeJoins(j);
    fds.forEach(closeQuiet);
  }
}

function joinCgroup(cg: CgroupHandle, pid: number, subs: SubCgroup[]): void {
  try {
    if (subs.length) cg.joinSub(pid, subs);
    else cg.join(pid);
  } catch (e) {
    if (e instanceof CgroupError) throw new InvalidInputError(`--cgroup: ${e.message}`);
    throw e;
  }
}

function killQuiet(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function waitQuiet(pid: number): void {
  try {
    waitpid(pid);
  } catch {
    // reaped already
  }
}

/** Runs the process; resolves to its exit status (128+signal), or 0 once it runs with detach. */
export async function execInContainer(o: ExecOptions, saved: Saved, config: Spec): Promise<number> {
  checkTerminal(o.process.terminal, o.detach, o.consoleSocket);
  checkPreservedFds(o.preserveFds);
  if (!o.process.args?.length) throw new InvalidInputError('exec: args must not be empty');
  // After the second fork the process is not our child; as subreaper we still reap it.
  if (!o.detach) setChildSubreaper();
  const { pid, consoleMaster } = startProcess(o, saved, config);
  if (o.detach) return 0;
  const tty = consoleMaster !== undefined ? new TtyProxy(consoleMaster) : undefined;
  const stopForwarding = forwardSignals(pid, tty);
  try {
    const code = await waitExit(pid);
    await tty?.finish();
    return code;
  } finally {
    tty?.close();
    stopForwarding();
  }
}
