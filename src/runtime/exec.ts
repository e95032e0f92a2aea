// `tsrun exec`: start one more process in a created or running container.
// The native helper joins the init's namespaces (user first, a second fork
// for the pid namespace) and execs this executable, which enters the mount
// namespace on its main thread and becomes the process (src/init/exec.ts);
// the parent's side is create's (spawn.ts) with other data. It is in the
// container's cgroup before it runs anything of the user's: on cgroup v2 from
// its first instruction (cloned into it), else moved in once it runs tsrun.
import { posix } from 'node:path';
import type { Process, Spec } from '../spec/types';
import { InvalidInputError, ContainerStateError } from '../errors';
import { loadBundle } from '../spec/bundle';
import { ContainerFiles, statusOf, type Saved } from '../state/status';
import { CgroupHandle, type SavedCgroup, type SubPath } from '../cgroups/handle';
import { CgroupError } from '../cgroups/files';
import { compileSeccomp, compiledToJSON } from '../seccomp/compile';
import { NS_FLAG, NS_PROC_NAME } from '../linux/namespaces';
import { execAffinity, withInitialAffinity, applyFinalAffinity, type ExecAffinity } from '../linux/sched';
import { open, O, closeQuiet } from '../sys/fs';
import { setChildSubreaper } from '../sys/process';
import { Msg } from '../protocol/messages';
import type { ExecPlan } from '../protocol/plans';
import { spawnChild, type ChildSpec, type Spawned } from './spawn';
import { logForChild } from './log-handover';
import { ociState as hookState } from '../state/status';
import { TtyProxy } from './tty-proxy';
import { forwardSignals, waitExit } from './foreground';
import { checkTerminal } from './handover';
import { checkPreservedFds } from './preserved-fds';
import { capabilityWarnings } from '../spec/capabilities';
import { warn } from '../log';

export interface ExecOptions {
  root: string;
  id: string;
  process: Process;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  /** An AF_UNIX socket that gets a pidfd of the process (runc's --pidfd-socket). */
  pidfdSocket?: string;
  /** Where `process` came from, for its errors (a --process file); the container's config.json otherwise. */
  processFile?: string;
  preserveFds: number;
  ignorePaused: boolean;
  /** --user as typed, resolved inside the container. */
  user?: string;
  /** --cgroup: sub-cgroups of the container's to run in. */
  cgroups: SubCgroup[];
  /** The tsrun executable the process enters from (default: this one; required outside it). */
  executable?: string;
}

export type SubCgroup = SubPath;

/**
 * --cgroup [controller[,controller…]:]path, relative to the container's cgroup and inside it; "/" is the
 * container's cgroup itself, as in runc.
 */
export function parseSubCgroup(flag: string): SubCgroup {
  const colon = flag.indexOf(':');
  const controller = colon >= 0 ? flag.slice(0, colon) : undefined;
  const given = colon >= 0 ? flag.slice(colon + 1) : flag;
  const path = posix.normalize(given.replace(/^\/+/, '') || '.');
  if (controller === '' || controller?.split(',').includes('') || given === '' || given.includes(':'))
    throw new InvalidInputError(`invalid --cgroup argument: ${flag} (must be [controller[,controller…]:]path)`);
  // runc's words first: tools (and runc's own tests) look for them.
  if (path === '..' || path.startsWith('../'))
    throw new InvalidInputError(
      `${given} is not a sub cgroup path: --cgroup ${JSON.stringify(flag)} leaves the container's cgroup`,
    );
  return { controller, path };
}

/** The container, if a process may be started in it now; runc's errors otherwise. */
function runningContainer(root: string, id: string, ignorePaused: boolean): Saved {
  const c = ContainerFiles.find(root, id);
  const saved = c.readExisting();
  const status = statusOf(c, saved);
  if (status === 'stopped' || status === 'creating')
    throw new ContainerStateError(`cannot exec in a stopped container: ${id}`);
  if (status === 'paused' && !ignorePaused)
    throw new ContainerStateError(`cannot exec in a paused container (use --ignore-paused to override): ${id}`);
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
  const types = [...new Set((config.linux?.namespaces ?? []).map((n) => n.type))].sort(
    (a, b) => Number(b === 'user') - Number(a === 'user'),
  );
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

/**
 * runc's exec: the process's own scheduler, ioPriority and execCPUAffinity,
 * or the container's (config.json's process) where it has none.
 */
function withContainerDefaults(p: Process, base: Process | undefined): Process {
  const pick = <K extends 'scheduler' | 'ioPriority' | 'execCPUAffinity'>(k: K) => p[k] ?? base?.[k];
  return {
    ...p,
    scheduler: pick('scheduler'),
    ioPriority: pick('ioPriority'),
    execCPUAffinity: pick('execCPUAffinity'),
  };
}

/** The JSON object its execCPUAffinity came from, for errors. */
function affinityWhere(o: ExecOptions): string {
  return o.process.execCPUAffinity && o.processFile
    ? `${o.processFile}: /execCPUAffinity`
    : 'config.json: /process/execCPUAffinity';
}

/** Spawns the process into the container and waits until it runs (or says why not). */
function startProcess(o: ExecOptions, saved: Saved, config: Spec, preserved: number[]): Spawned {
  const proc = withContainerDefaults(o.process, config.process);
  const affinity = execAffinity(proc.execCPUAffinity, affinityWhere(o));
  const j = openJoins(saved.pid, config);
  try {
    return spawnChild(execSpec({ ...o, process: proc }, saved, config, j, preserved, affinity));
  } finally {
    closeJoins(j);
  }
}

/** The process: the init's namespaces joined, its cgroup (cloned into, or once it runs tsrun init), its plan. */
function execSpec(
  o: ExecOptions,
  saved: Saved,
  config: Spec,
  j: Joins,
  preserved: number[],
  affinity: ExecAffinity,
): ChildSpec {
  const log = logForChild();
  const keepFds = [...preserved, ...log.keep];
  if (j.mntFd !== undefined) keepFds.push(j.mntFd);
  const cg = saved.cgroup ? new CgroupHandle(saved.cgroup as SavedCgroup) : undefined;
  return {
    who: 'exec',
    started: 'exec: process started',
    diedEarly: 'exec: the process exited before it could run',
    config,
    namespaces: { joins: j.joins, unshareFlags: 0, forkAgain: j.forkAgain },
    keepFds,
    terminal: !!o.process.terminal,
    consoleSocket: o.consoleSocket,
    pidfdSocket: o.pidfdSocket ? { path: o.pidfdSocket, name: 'setns' } : undefined,
    executable: o.executable,
    // The helper's intermediate process (a second fork for the pid namespace) counts as a task too.
    cloneInto: cg && withFlags(o.cgroups, () => cg.cloneTarget(j.forkAgain ? 2 : 1, o.cgroups)),
    aroundClone: (clone) => withInitialAffinity(affinity, clone),
    waitForExecve: true,
    prepare: (pid, { consoleFd, stderrFd, inCgroup }) => {
      // In every hierarchy before it runs anything: limits, freezing and kill --all cover it.
      if (cg && !inCgroup) withFlags(o.cgroups, () => joinCgroup(cg, pid, o.cgroups));
      else if (!cg && o.cgroups.length) throw new InvalidInputError(`--cgroup: container ${saved.id} has no cgroup`);
      applyFinalAffinity(pid, affinity);
      const plan = execPlan(o, saved, config, { mntFd: j.mntFd, consoleFd, stderrFd, log: log.target });
      return { plan: { type: Msg.Exec, plan } };
    },
    readUntilExecve: true,
    pidFile: o.pidFile,
  };
}

type ExecFds = Pick<ExecPlan, 'mntFd' | 'consoleFd' | 'stderrFd' | 'log'>;

function execPlan(o: ExecOptions, saved: Saved, config: Spec, fds: ExecFds): ExecPlan {
  return {
    // A process without capabilities (exec --process) gets the container's, as in runc; none if it has none.
    process: { ...o.process, capabilities: o.process.capabilities ?? config.process?.capabilities },
    ...fds,
    preserveFds: o.preserveFds,
    seccomp: config.linux?.seccomp ? compiledToJSON(compileSeccomp(config.linux.seccomp)) : undefined,
    state: hookState(saved, 'running'),
    personality: config.linux?.personality,
    memoryPolicy: config.linux?.memoryPolicy,
    user: o.user,
  };
}

function joinCgroup(cg: CgroupHandle, pid: number, subs: SubCgroup[]): void {
  if (subs.length) cg.joinSub(pid, subs);
  else cg.join(pid);
}

/** A cgroup error of `f` as the request's: runc's words, then the --cgroup flags it came from. */
function withFlags<T>(subs: SubCgroup[], f: () => T): T {
  try {
    return f();
  } catch (e) {
    // runc's words lead the message (tools match them); which flag it was follows.
    const flags = subs.map((c) => `--cgroup ${c.controller ? `${c.controller}:` : ''}${c.path === '.' ? '/' : c.path}`);
    if (e instanceof CgroupError)
      throw new InvalidInputError(subs.length ? `${e.message} (${flags.join(' ')})` : e.message);
    throw e;
  }
}

/** Runs the process; resolves to its exit status (128+signal), or 0 once it runs with detach. */
export async function execInContainer(o: ExecOptions, saved: Saved, config: Spec): Promise<number> {
  checkTerminal(o.process.terminal, o.detach, o.consoleSocket);
  const preserved = checkPreservedFds(o.preserveFds);
  if (!o.process.args?.length) throw new InvalidInputError('exec: args must not be empty');
  // The names its init would ignore, as create's config check says of the container's.
  for (const w of capabilityWarnings(o.process.capabilities, '/capabilities')) warn(`process: ${w.path}: ${w.message}`);
  // After the second fork the process is not our child; as subreaper we still reap it.
  if (!o.detach) setChildSubreaper();
  const { pid, consoleMaster } = startProcess(o, saved, config, preserved);
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
