// `tsrun create`: validate and plan in the parent, spawn the init through the
// native helper, answer its requests (id maps, time offsets, hooks), record
// the state. Any failure kills what was started and removes every trace.
import { join } from 'node:path';
import { chmodSync } from 'node:fs';
import type { Spec } from '../spec/types';
import { loadBundle, type Bundle } from '../spec/bundle';
import { OCI_VERSION } from '../spec/version';
import { unimplementedFields } from '../spec/unimplemented';
import { runHooks } from '../hooks/run';
import { InvalidInputError } from '../errors';
import { warn, debug, type LogTarget } from '../log';
import { unattainableCaps } from '../linux/capabilities';
import { checkRootless } from '../linux/rootless-config';
import { ContainerDir, type Saved } from '../state/store';
import { procStat, waitGone } from '../state/proc';
import { planNamespaces, closeNamespaces, type NamespacePlan } from '../linux/namespaces';
import { nativeSpawn } from '../sys/native';
import { socketpair } from '../sys/socket';
import { open, O, mkfifo, closeQuiet } from '../sys/fs';
import { waitpid } from '../sys/wait';
import { createCgroup, CgroupError, type CgroupManager } from '../cgroups';
import { compileSeccomp, compiledToJSON, type CompiledSeccompJSON } from '../seccomp/compile';
import { applyCpuAffinity } from '../linux/sched';
import { cleanPath } from '../linux/in-root';
import { logForChild } from './log-handover';
import { Channel } from './channel';
import { INIT_COMMAND, type InitPlan } from './init-plan';
import { receiveConsoleMaster } from './tty-proxy';
import { ownExecutable, reportedError, spawnHandshake } from './spawn-handshake';
import { checkPreservedFds } from './preserved-fds';
import { checkTerminal, connectConsole, writePidFile } from './handover';
import { ociState as hookState } from '../state/status';
import { openInitBindSources } from '../linux/bind-sources';
import { sendBindSources } from './bind-source-fds';
import { checkNetDevices, moveNetDevices, type MovedNetDevices } from '../linux/netdevices';

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  preserveFds: number;
  /** `run` in the foreground keeps the init as its child (or reaps it as subreaper). */
  detach: boolean;
  systemdCgroup: boolean;
  /** --rootless, resolved (see linux/rootless.ts). */
  rootless: boolean;
  /** The tsrun executable the init runs from (default: this one; required outside it). */
  executable?: string;
  /** A bundle already loaded and checked (the library's in-memory config): loaded from `bundle` otherwise. */
  loaded?: Bundle;
}

export interface Created {
  container: ContainerDir;
  saved: Saved;
  /** A foreground run's terminal without --console-socket: the pty master, for run's proxy. */
  consoleMaster?: number;
}

function checkConfig(config: Spec, opts: CreateOptions): void {
  const unimplemented = unimplementedFields(config);
  if (unimplemented.length) throw new InvalidInputError(unimplemented.join('\n'));
  checkNetDevices(config);
  checkRootless(config);
  // config.md: process is "REQUIRED when start is called", so create goes on without one.
  if (!config.process) return;
  const unattainable = unattainableCaps(config.process.capabilities);
  if (unattainable.length) throw new InvalidInputError(unattainable.map((m) => `config.json: ${m}`).join('\n'));
  checkTerminal(config.process.terminal, opts.detach, opts.consoleSocket);
}

/** Validate and plan the cgroup (nothing is created until apply). */
function planCgroup(config: Spec, opts: CreateOptions): CgroupManager {
  try {
    const devicePaths = (config.linux?.devices ?? []).map((d) => cleanPath(d.path));
    const cgroup = createCgroup({ id: opts.id, cgroupsPath: config.linux?.cgroupsPath, systemd: opts.systemdCgroup, resources: config.linux?.resources, devicePaths, rootless: opts.rootless });
    for (const w of cgroup.warnings) warn(w);
    return cgroup;
  } catch (e) {
    if (e instanceof CgroupError) throw new InvalidInputError(e.code === 'EFROZEN' ? e.message : `config.json: ${e.message}`);
    throw e;
  }
}

function planSeccomp(config: Spec): CompiledSeccompJSON | undefined {
  if (!config.linux?.seccomp) return undefined;
  try {
    return compiledToJSON(compileSeccomp(config.linux.seccomp));
  } catch (e) {
    throw new InvalidInputError(`config.json: ${(e as Error).message}`);
  }
}

export function createContainer(opts: CreateOptions): Created {
  const { bundle, config, rootfs } = opts.loaded ?? loadBundle(opts.bundle);
  checkConfig(config, opts);
  const cgroup = planCgroup(config, opts);
  const container = ContainerDir.claim(opts.root, opts.id);
  const fds: number[] = [];
  let ns: NamespacePlan | undefined;
  let saved: Saved | undefined;
  let childPid = 0;
  let netDevices: MovedNetDevices | undefined;
  try {
    ns = planNamespaces(config);
    const st: Saved = initialState(opts, config, bundle, rootfs, ns);
    saved = st;
    container.write(st);
    const io = openInitChannels(container, config, opts, fds);
    const log = logForChild();
    childPid = spawnInit(io, ns, [...checkPreservedFds(opts.preserveFds), ...log.keep], opts.executable);
    const chan = new Channel(io.parentEnd);
    const initPid = spawnHandshake(chan, config, childPid, ns.forkAgain);
    debug('container init started', { pid: initPid });
    st.pid = initPid;
    st.pidStart = procStat(initPid)?.startTime;
    // Recorded before it exists, so that delete --force finds it whenever create dies.
    st.cgroup = cgroup.saved;
    container.write(st);
    // Into its cgroup before the init makes its cgroup namespace (it does so on receiving the plan).
    // The device rules follow once the init has made the device nodes (its "hooks" request).
    cgroup.apply(initPid, { deferDevices: true });
    applyCpuAffinity(initPid, config.process?.execCPUAffinity?.initial, '/process/execCPUAffinity/initial');
    // Now that the init has its network namespace, before it sets up the rootfs and any hook runs (as crun).
    netDevices = moveNetDevices(config, initPid, opts.id);
    // A user-namespaced init may not reach every source: opened for it, as runc.
    const bindSources = openInitBindSources(config, bundle, initPid, ns.mountJoinFd);
    fds.push(...bindSources.map((s) => s.fd));

    chan.send({ type: 'plan', plan: initPlan(opts, { bundle, config, rootfs }, ns, io, st, log.target, bindSources.map((s) => s.index)) });
    sendBindSources(chan, bindSources);
    initHandshake(chan, config, st, cgroup);

    st.phase = 'created';
    container.write(st);
    debug(`container ${opts.id} created`);
    if (opts.pidFile) writePidFile(opts.pidFile, initPid);
    // The init sent the master before "ready"; it is waiting in the socket.
    const consoleMaster = io.consoleReceiver !== undefined ? receiveConsoleMaster(io.consoleReceiver) : undefined;
    return { container, saved: st, consoleMaster };
  } catch (e) {
    // Before the kill: a dying namespace would destroy virtual devices, not give them back.
    netDevices?.restore();
    abortCreate(container, saved, childPid, cgroup);
    throw e;
  } finally {
    netDevices?.close();
    if (ns) closeNamespaces(ns);
    fds.forEach(closeQuiet);
  }
}

function initialState(opts: CreateOptions, config: Spec, bundle: string, rootfs: string, ns: NamespacePlan): Saved {
  return {
    ociVersion: OCI_VERSION,
    id: opts.id,
    pid: 0,
    bundle,
    rootfs,
    created: new Date().toISOString(),
    owner: '',
    annotations: config.annotations as Record<string, string> | undefined,
    phase: 'creating',
    hooks: { poststart: config.hooks?.poststart, poststop: config.hooks?.poststop },
    // Never the rootfs itself: it may be a mount of its own (containerd's overlay).
    hostMounts: ns.has('mount') ? undefined : (config.mounts ?? []).map((m) => join(rootfs, m.destination)).filter((p) => p !== rootfs),
    noProcess: config.process ? undefined : true,
    // Not on disk in a bundle: kept for exec, which starts from the config as created.
    config: opts.loaded ? config : undefined,
  };
}

/** The fds between create and its init; each is also pushed on `fds`, closed when create ends. */
interface InitChannels {
  fifoFd: number;
  consoleFd?: number;
  consoleReceiver?: number;
  parentEnd: number;
  childEnd: number;
}

function openInitChannels(container: ContainerDir, config: Spec, opts: CreateOptions, fds: number[]): InitChannels {
  // 0622 whatever the umask: the init writes to it after becoming the container's user.
  mkfifo(container.fifoPath, 0o622);
  chmodSync(container.fifoPath, 0o622);
  const fifoFd = open(container.fifoPath, O.RDWR);
  fds.push(fifoFd);
  // A foreground run with a terminal and no socket keeps the master itself (tty-proxy).
  let consoleReceiver: number | undefined;
  let consoleFd: number | undefined;
  if (opts.consoleSocket) consoleFd = connectConsole(opts.consoleSocket);
  else if (config.process?.terminal) [consoleReceiver, consoleFd] = socketpair('stream');
  if (consoleFd !== undefined) fds.push(consoleFd);
  if (consoleReceiver !== undefined) fds.push(consoleReceiver);
  const [parentEnd, childEnd] = socketpair('stream');
  fds.push(parentEnd);
  return { fifoFd, consoleFd, consoleReceiver, parentEnd, childEnd };
}

/** The native helper clones the init into its namespaces; it keeps exactly these fds. */
function spawnInit(io: InitChannels, ns: NamespacePlan, extraKeep: number[], executable: string | undefined): number {
  const keep = [0, 1, 2, ...extraKeep, io.childEnd, io.fifoFd];
  if (io.consoleFd !== undefined) keep.push(io.consoleFd);
  if (ns.mountJoinFd !== undefined) keep.push(ns.mountJoinFd);
  try {
    return nativeSpawn({
      syncFd: io.childEnd,
      joins: ns.joins,
      unshareFlags: ns.unshareFlags,
      forkAgain: ns.forkAgain,
      keepFds: keep,
      path: ownExecutable(executable),
      argv: ['tsrun', INIT_COMMAND, String(io.childEnd)],
      env: [],
    });
  } finally {
    closeQuiet(io.childEnd);
  }
}

function initPlan(opts: CreateOptions, b: Bundle, ns: NamespacePlan, io: InitChannels, st: Saved, log: LogTarget, bindSources: number[]): InitPlan {
  return {
    id: opts.id,
    bundle: b.bundle,
    rootfs: b.rootfs,
    config: b.config,
    noPivot: opts.noPivot,
    noNewKeyring: opts.noNewKeyring,
    fifoFd: io.fifoFd,
    consoleFd: io.consoleFd,
    mountJoinFd: ns.mountJoinFd,
    bindSources: bindSources.length ? bindSources : undefined,
    preserveFds: opts.preserveFds,
    newCgroupNs: ns.newCgroupNs,
    newUserNs: ns.newUserNs,
    state: hookState(st, 'creating'),
    // Compiled while the init starts up (Docker's profile: several ms in a
    // fresh process); a bad profile still fails create, cleaned up by the caller.
    seccomp: planSeccomp(b.config),
    log,
  };
}

/**
 * When the init has mounted the rootfs and made its device nodes it asks for
 * the runtime-namespace hooks: the device rules go in then, as runc sets its
 * cgroup at that point, before the hooks and before the container runs.
 */
function initHandshake(chan: Channel, config: Spec, saved: Saved, cgroup: CgroupManager): void {
  for (;;) {
    const m = chan.receive();
    if (!m) throw new Error('container init exited during setup');
    switch (m.type) {
      case 'hooks': {
        const state = hookState(saved, 'creating');
        try {
          cgroup.applyDeviceRules();
          runHooks('prestart', config.hooks?.prestart, state);
          runHooks('createRuntime', config.hooks?.createRuntime, state);
        } catch (e) {
          chan.send({ type: 'abort' });
          throw new InvalidInputError((e as Error).message);
        }
        chan.send({ type: 'ack' });
        break;
      }
      case 'ready':
        return;
      case 'error':
        throw new InvalidInputError(reportedError(m, 'container init'));
      default:
        throw new Error(`container init: unexpected message ${JSON.stringify(m)}`);
    }
  }
}

/** Undo a failed create: nothing may remain (process, state dir). */
function abortCreate(container: ContainerDir, saved: Saved | undefined, childPid: number, cgroup: CgroupManager): void {
  const pids = [saved?.pid, childPid].filter((p): p is number => !!p);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const pid of pids) {
    // The init after a double fork is ours too when run is its subreaper.
    try {
      waitpid(pid);
    } catch {
      // not our child, or already reaped
    }
    if (!waitGone(pid, undefined, 5000)) debug(`abort: process ${pid} did not exit`);
  }
  try {
    cgroup.destroy(true);
  } catch (e) {
    debug(`abort: cgroup: ${(e as Error).message}`);
  }
  container.remove();
}
