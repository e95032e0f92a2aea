// `tsrun create`: validate and plan in the parent, start the init (spawn.ts:
// through the native helper, answering its requests) and put it in its cgroup
// (on cgroup v2 the cgroup is made first and the init cloned into it),
// run the runtime's hooks when it asks, record the state. Any failure kills
// what was started and removes every trace.
import { join } from 'node:path';
import { chmodSync } from 'node:fs';
import type { Spec } from '../spec/types';
import { loadBundle, type Bundle } from '../spec/bundle';
import { OCI_VERSION } from '../spec/version';
import { unimplementedFields } from '../spec/unimplemented';
import { runHooks } from '../hooks/run';
import { InvalidInputError } from '../errors';
import { warn, debug, type LogTarget } from '../log';
import { phase } from '../log/phase';
import { unattainableCaps } from '../linux/capabilities';
import { checkRootless } from '../linux/rootless-config';
import { ContainerDir, type Saved } from '../state/store';
import { procStat } from '../state/proc';
import { planNamespaces, closeNamespaces, type NamespacePlan } from '../linux/namespaces';
import { open, O, mkfifo, closeQuiet } from '../sys/fs';
import { createCgroup, cgroupOwner, CgroupError, type CgroupManager, type CloneTarget } from '../cgroups';
import { compileSeccomp, compiledToJSON, type CompiledSeccompJSON } from '../seccomp/compile';
import { resetCpuAffinity } from '../linux/sched';
import { cleanPath } from '../linux/in-root';
import { Msg } from '../protocol/messages';
import type { InitPlan } from '../protocol/plans';
import { logForChild } from './log-handover';
import { spawnChild, killAndReap, type ChildSpec } from './spawn';
import { checkPreservedFds } from './preserved-fds';
import { checkTerminal } from './handover';
import { ociState as hookState } from '../state/status';
import { openInitBindSources, type BindSource } from '../linux/bind-sources';
import { checkNetDevices, moveNetDevices, type MovedNetDevices } from '../linux/netdevices';
import { makeNotifyDir, withNotifySocket } from './notify-socket';

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  /** An AF_UNIX socket that gets a pidfd of the init (runc's --pidfd-socket). */
  pidfdSocket?: string;
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
  /** The caller's NOTIFY_SOCKET: the container gets a notify socket of its own (notify-socket.ts). */
  notifySocket?: string;
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
    const cgroup = createCgroup({
      id: opts.id,
      cgroupsPath: config.linux?.cgroupsPath,
      systemd: opts.systemdCgroup,
      resources: config.linux?.resources,
      devicePaths,
      rootless: opts.rootless,
      owner: cgroupOwner(config),
      annotations: config.annotations,
    });
    for (const w of cgroup.warnings) warn(w);
    return cgroup;
  } catch (e) {
    if (e instanceof CgroupError)
      throw new InvalidInputError(e.code === 'EFROZEN' ? e.message : `config.json: ${e.message}`);
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
  const loaded = opts.loaded ?? loadBundle(opts.bundle);
  phase('create.config'); // read, parsed, schema-validated
  checkConfig(loaded.config, opts);
  phase('create.checked');
  const cgroup = planCgroup(loaded.config, opts);
  phase('create.cgroup-plan');
  const container = ContainerDir.claim(opts.root, opts.id);
  phase('create.claimed');
  let ns: NamespacePlan | undefined;
  let c: Creating | undefined;
  let initPid = 0;
  try {
    const b = withNotify(loaded, opts, container);
    ns = planNamespaces(b.config);
    c = { opts, b, ns, st: initialState(opts, b, ns), container, cgroup, fds: [] };
    container.write(c.st);
    phase('create.state-creating');
    c.cloneInto = cgroupBeforeClone(c);
    phase('create.cgroup-before-clone');
    const started = spawnChild(initSpec(c));
    initPid = started.pid;
    c.st.phase = 'created';
    container.write(c.st);
    phase('create.state-created');
    debug(`container ${opts.id} created`);
    return { container, saved: c.st, consoleMaster: started.consoleMaster };
  } catch (e) {
    // Before the kill: a dying namespace would destroy virtual devices, not give them back.
    c?.netDevices?.restore();
    abortCreate(container, initPid, cgroup);
    throw e;
  } finally {
    c?.netDevices?.close();
    if (ns) closeNamespaces(ns);
    c?.fds.forEach(closeQuiet);
  }
}

/** With the caller's NOTIFY_SOCKET, the container is made from runc's config plus its notify mount. */
function withNotify(b: Bundle, opts: CreateOptions, container: ContainerDir): Bundle {
  if (!opts.notifySocket) return b;
  makeNotifyDir(container);
  return { ...b, config: withNotifySocket(b.config, container) };
}

/** What create holds while the init starts; `fds` are closed when create ends. */
interface Creating {
  opts: CreateOptions;
  b: Bundle;
  ns: NamespacePlan;
  st: Saved;
  container: ContainerDir;
  cgroup: CgroupManager;
  fds: number[];
  netDevices?: MovedNetDevices;
  /** The cgroup was made before the clone (cgroupBeforeClone), and where the init is to be cloned into. */
  cgroupMade?: boolean;
  cloneInto?: CloneTarget;
}

/**
 * On a v2-only host the init is cloned straight into its cgroup, so it is made
 * first: directories, controllers, limits (the device rules still wait for
 * the init's device nodes, see runtimeHooks). Elsewhere it is made once the
 * init's pid is known (placeInit). Returns where to clone the init, or why not.
 */
function cgroupBeforeClone(c: Creating): CloneTarget {
  if (c.opts.rootless) return { why: 'rootless: its cgroups are found by moving the init in' };
  if (c.cgroup.saved.systemd) return { why: "systemd: the scope is started with the init's pid" };
  if (c.cgroup.saved.mode === 'v2') {
    recordCgroup(c);
    c.cgroup.apply(undefined, { deferDevices: true });
    c.cgroupMade = true;
  }
  // The helper's intermediate process (a second fork for a pid or time namespace) counts as a task too.
  return c.cgroup.cloneTarget(c.ns.forkAgain ? 2 : 1);
}

/** Recorded before it exists, so that delete --force finds it whenever create dies. */
function recordCgroup({ st, cgroup, container }: Creating): void {
  st.cgroup = cgroup.saved;
  container.write(st);
}

/** The init: new namespaces, the exec fifo, a plan to set the container up, hooks on its request. */
function initSpec(c: Creating): ChildSpec {
  const { opts, b, ns, st } = c;
  const fifoFd = openExecFifo(c.container);
  c.fds.push(fifoFd);
  const log = logForChild();
  const keepFds = [...checkPreservedFds(opts.preserveFds), ...log.keep, fifoFd];
  if (ns.mountJoinFd !== undefined) keepFds.push(ns.mountJoinFd);
  return {
    who: 'container init',
    started: 'container init started',
    diedEarly: 'container init exited during setup',
    config: b.config,
    namespaces: ns,
    keepFds,
    terminal: !!b.config.process?.terminal,
    consoleSocket: opts.consoleSocket,
    pidfdSocket: opts.pidfdSocket ? { path: opts.pidfdSocket, name: 'standard' } : undefined,
    executable: opts.executable,
    cloneInto: c.cloneInto,
    waitForExecve: false,
    prepare: (pid, { consoleFd, stderrFd, inCgroup }) => {
      const sources = placeInit(c, pid, inCgroup);
      const bindSources = sources.map((s) => s.index);
      const plan = initPlan(c, { fifoFd, consoleFd, stderrFd, log: log.target, bindSources });
      return { plan: { type: Msg.Plan, plan }, bindSources: sources.map((s) => s.fd) };
    },
    onHooks: () => runtimeHooks(b.config, st, c.cgroup),
    readUntilExecve: false,
    pidFile: opts.pidFile,
    beforeKill: () => c.netDevices?.restore(),
  };
}

/**
 * The init's pid recorded, then what must precede its plan: its cgroup
 * (before it makes its cgroup namespace; unless cloned into it), CPU affinity
 * reset, network devices, and the bind sources it may not reach itself.
 * Returns those.
 */
function placeInit(c: Creating, initPid: number, inCgroup: boolean): BindSource[] {
  const { st } = c;
  const { config, bundle } = c.b;
  st.pid = initPid;
  st.pidStart = procStat(initPid)?.startTime;
  recordCgroup(c);
  // The device rules follow once the init has made the device nodes (its "hooks" request).
  if (c.cgroupMade) {
    if (!inCgroup) c.cgroup.join(initPid);
  } else c.cgroup.apply(initPid, { deferDevices: true });
  phase('create.cgroup');
  // Not the caller's affinity, but what its cpuset allows (runc 1.2+); execCPUAffinity is exec's only (config.md).
  resetCpuAffinity(initPid);
  // Now that the init has its network namespace, before it sets up the rootfs and any hook runs (as crun).
  c.netDevices = moveNetDevices(config, initPid, c.opts.id);
  // A user-namespaced init may not reach every source: opened for it, as runc.
  const bindSources = openInitBindSources(config, bundle, initPid, c.ns.mountJoinFd);
  c.fds.push(...bindSources.map((s) => s.fd));
  phase('create.placed'); // affinity, network devices, bind sources
  return bindSources;
}

function initialState(opts: CreateOptions, { bundle, config, rootfs }: Bundle, ns: NamespacePlan): Saved {
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
    hostMounts: ns.has('mount')
      ? undefined
      : (config.mounts ?? []).map((m) => join(rootfs, m.destination)).filter((p) => p !== rootfs),
    noProcess: config.process ? undefined : true,
    // Not on disk in a bundle: kept for exec, which starts from the config as created.
    config: opts.loaded ? config : undefined,
  };
}

/** The exec fifo, open read-write for the init: it blocks on it until `start` (src/init/main.ts). */
function openExecFifo(container: ContainerDir): number {
  // 0622 whatever the umask: the init writes to it after becoming the container's user.
  mkfifo(container.fifoPath, 0o622);
  chmodSync(container.fifoPath, 0o622);
  return open(container.fifoPath, O.RDWR);
}

interface InitFds {
  fifoFd: number;
  consoleFd?: number;
  stderrFd?: number;
  log: LogTarget;
  bindSources: number[];
}

function initPlan({ opts, b, ns, st }: Creating, io: InitFds): InitPlan {
  return {
    id: opts.id,
    bundle: b.bundle,
    rootfs: b.rootfs,
    config: b.config,
    noPivot: opts.noPivot,
    noNewKeyring: opts.noNewKeyring,
    fifoFd: io.fifoFd,
    consoleFd: io.consoleFd,
    stderrFd: io.stderrFd,
    mountJoinFd: ns.mountJoinFd,
    bindSources: io.bindSources.length ? io.bindSources : undefined,
    preserveFds: opts.preserveFds,
    newCgroupNs: ns.newCgroupNs,
    newUserNs: ns.newUserNs,
    state: hookState(st, 'creating'),
    // Compiled while the init starts up (Docker's profile: several ms in a
    // fresh process); a bad profile still fails create, cleaned up by the caller.
    seccomp: planSeccomp(b.config),
    log: io.log,
  };
}

/**
 * When the init has mounted the rootfs and made its device nodes it asks for
 * the runtime-namespace hooks: the device rules go in then, as runc sets its
 * cgroup at that point, before the hooks and before the container runs.
 */
function runtimeHooks(config: Spec, saved: Saved, cgroup: CgroupManager): void {
  const state = hookState(saved, 'creating');
  cgroup.applyDeviceRules();
  runHooks('prestart', config.hooks?.prestart, state);
  runHooks('createRuntime', config.hooks?.createRuntime, state);
}

/** Undo a failed create: nothing may remain (process, cgroup, state dir). */
function abortCreate(container: ContainerDir, initPid: number, cgroup: CgroupManager): void {
  // A failure inside spawnChild killed the init already; one after it (initPid set) did not.
  killAndReap([initPid]);
  try {
    cgroup.destroy(true);
  } catch (e) {
    debug(`abort: cgroup: ${(e as Error).message}`);
  }
  container.remove();
}
