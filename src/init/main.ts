// The container init: the tsrun executable entered as `tsrun init <fd>` by
// the native helper, pid 1 of the container, in all its namespaces. (The
// same entry serves `tsrun exec`: the first message says which, exec.ts.)
// It sets up the container from the plan the parent sends, waits for
// `tsrun start` on the exec fifo, then becomes the user's program with
// execve. It never prints: errors go to the parent over the sync socket
// while it listens, then to `tsrun start` over the exec fifo; warnings and
// debug lines go to the parent's log (runtime/log-handover.ts).
import { writeSync, fstatSync } from 'node:fs';
import { childChannel, type ChildChannel } from '../protocol/channel';
import { Msg } from '../protocol/messages';
import type { InitPlan } from '../protocol/plans';
import { setLogTarget, debug, log } from '../log';
import { phase } from '../log/phase';
import { enterAndExec } from './exec';
import { runHooks } from '../hooks/run';
import { prepareRootfs, pivotRoot, finishRootfs, type RootfsPlan } from '../linux/rootfs';
import { applyRlimits } from '../linux/rlimits';
import { applyOomScoreAdj } from '../linux/oom-score';
import { procfsHandleSource, releaseProcfsHandle, takeProcfsHandle } from '../linux/proc-file';
import { readSetgroupsPolicy } from '../linux/credentials';
import { applyApparmor, checkSelinuxLabel } from '../linux/lsm';
import { resolveExecutable } from '../linux/path-lookup';
import { setupConsole } from '../linux/terminal';
import { setDumpable } from '../sys/process';
import { joinSessionKeyring } from '../sys/keyring';
import { CLONE, setns, unshare } from '../sys/ns';
import { closeQuiet, setNonblocking } from '../sys/fs';
import { connectAgent } from '../seccomp/load';
import { becomeProcess, refuseOwnExecutable } from './become';
import { withContainerStderr } from './stderr';
import { releaseMemoryFds } from '../sys/memory-library';
import type { Process, Spec, State } from '../spec/types';
import { createCwd, enterCwd } from './cwd';
import { receiveBindSources } from '../protocol/bind-sources';
import { applySchedulingAttrs } from '../linux/sched';
import { applyMemoryPolicy } from '../linux/mempolicy';

let chan: ChildChannel;
let listening = true;
/** The exec fifo's write end while `tsrun start` reads it: errors go there until execve closes it. */
let startFd = -1;

/** Report an error once, to whoever reports it on: the parent, `tsrun start`, else the log. */
function fail(err: unknown): never {
  const msg = err instanceof Error ? err.message : String(err);
  try {
    if (listening) chan.send({ type: Msg.Error, msg });
    else if (startFd >= 0) writeSync(startFd, msg);
    else log('error', `container init: ${msg}`);
  } catch {
    // nobody left to tell
  }
  process.exit(1);
}

/**
 * Block until `tsrun start` reads the exec fifo. The init holds the fifo open
 * read-write (handed over by create: no path, no host directory, no /proc
 * needed): it fills the pipe, then one more byte blocks until `start` drains
 * it. The fd stays open (close-on-exec): `start` reads until execve closes
 * it, and any error before then is written there, so `start` can report it.
 * The filler is NUL bytes, which no error message contains.
 */
function waitForStart(fifoFd: number): void {
  const page = Buffer.alloc(4096);
  setNonblocking(fifoFd, true);
  try {
    for (;;) writeSync(fifoFd, page);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
  }
  setNonblocking(fifoFd, false);
  startFd = fifoFd;
  writeSync(fifoFd, page, 0, 1);
}

/** After "ready" the parent no longer reads: errors go to the exec fifo or the log. */
function stopListening(): void {
  listening = false;
  closeQuiet(chan.fd);
}

function main(): void {
  // No container process may ptrace or read this process: it still sees the host.
  setDumpable(false);
  const first = chan.receive();
  phase('init.plan-received');
  // Before anything of the container is mounted or entered: every later
  // /proc access goes through this handle, not the container's /proc.
  takeProcfsHandle();
  if (first?.type === Msg.Exec) enterAndExec(chan, first.plan);
  if (first?.type !== Msg.Plan) process.exit(1);
  const plan = withContainerStderr(first.plan);
  setLogTarget(plan.log);
  debug(`init: procfs handle from ${procfsHandleSource()}`);
  const { config } = plan;
  // Without a process (allowed until start, which then refuses) the init
  // sets up everything else and waits to be deleted.
  const proc: Process = config.process ?? { cwd: '/', args: [] };
  const bindSourceFds = receiveBindSources(chan, plan.bindSources ?? []);

  joinNamespaces(plan);
  phase('init.namespaces'); // cgroup ns, a joined mount ns, the keyring
  // The notify agent's socket is a host path: connect while the host root is still ours.
  const notifySocket = setUpRootfs(plan, proc, bindSourceFds);
  const exe = prepareProcess(config, proc);
  phase('init.process'); // rlimits, oom score, LSM, cwd, the program's path

  // The init's last /proc read (the user switch after start needs it); then the handle goes.
  readSetgroupsPolicy();
  releaseProcfsHandle();
  debug('init: ready, waiting for start');
  phase('init.ready');
  chan.send({ type: Msg.Ready });
  stopListening();

  // The init may wait in created for a long time: what setting up the
  // container allocated goes back first (measured: RssAnon 6.7 -> 5.5 MB),
  // while the parent finishes, so create and start take no longer.
  globalThis.Bun?.gc(true);
  phase('init.gc');
  waitForStart(plan.fifoFd);
  phase('init.released');
  if (!config.process) process.exit(1);
  becomeAfterStart(plan, proc, exe, notifySocket);
}

/** What the init does in its own namespaces before the rootfs: cgroup ns, a joined mount ns, the keyring. */
function joinNamespaces(plan: InitPlan): void {
  if (plan.newCgroupNs) unshare(CLONE.NEWCGROUP, 'cgroup');
  if (plan.mountJoinFd !== undefined) {
    // setns(mnt) needs a thread that does not share its fs_struct.
    unshare(CLONE.FS, 'fs');
    setns(plan.mountJoinFd, CLONE.NEWNS, 'mnt');
    closeQuiet(plan.mountJoinFd);
  }
  if (!plan.noNewKeyring) joinSessionKeyring(`_ses.${plan.id}`);
}

/**
 * The rootfs in runc's order, with the createContainer hooks inside it and
 * the console before /dev may turn read-only; returns the seccomp agent's
 * socket, connected while the host's root is still reachable.
 */
function setUpRootfs(
  plan: InitPlan,
  proc: Process,
  bindSourceFds: ReturnType<typeof receiveBindSources>,
): number | undefined {
  const { config } = plan;
  const rootfsPlan: RootfsPlan = {
    rootfs: plan.rootfs,
    bundle: plan.bundle,
    config,
    noPivot: plan.noPivot,
    userns: plan.newUserNs,
    mountNs: (config.linux?.namespaces ?? []).some((n) => n.type === 'mount'),
    bindSourceFds,
  };
  debug('init: setting up the root filesystem');
  try {
    prepareRootfs(rootfsPlan);
    phase('init.rootfs'); // mounts, devices
  } finally {
    // Host objects opened by the parent: none may reach the container's process.
    bindSourceFds.forEach((fd) => closeQuiet(fd));
  }
  const notifySocket = plan.seccomp?.notify ? connectAgent(plan.seccomp.listenerPath!) : undefined;

  chan.send({ type: Msg.Hooks });
  // abort: a runtime hook failed, and the parent reports it.
  if (chan.receive()?.type !== Msg.Ack) process.exit(1);
  phase('init.hooks-acked'); // the parent's device rules and runtime hooks
  // As runc: in the container's namespaces, before pivot_root, with the
  // rootfs as working directory (a hook's relative paths land in it).
  runHooks('createContainer', config.hooks?.createContainer, plan.state, { cwd: plan.rootfs });

  pivotRoot(rootfsPlan);
  phase('init.pivot'); // after createContainer hooks and pivot_root
  // Before the root may turn read-only (finishRootfs), as runc.
  createCwd(proc.cwd || '/');
  if (proc.terminal && plan.consoleFd !== undefined) {
    setupConsole(plan.consoleFd, proc.consoleSize, { stderrFd: plan.stderrFd });
    closeQuiet(plan.consoleFd);
  }
  finishRootfs(rootfsPlan); // also hostname, domainname and sysctl, before /proc/sys turns read-only
  phase('init.rootfs-finished'); // console, masked and read-only paths, hostname, sysctl
  return notifySocket;
}

/** The process's settings that may fail create (runc applies them before "ready"); returns the program's path. */
function prepareProcess(config: Spec, proc: Process): string {
  applyRlimits(proc.rlimits);
  applyOomScoreAdj(proc.oomScoreAdj);
  checkSelinuxLabel(proc.selinuxLabel);
  applyApparmor(proc.apparmorProfile);
  const env = proc.env ?? [];
  const cwd = proc.cwd || '/';
  enterCwd(cwd);
  const exe = config.process ? resolveExecutable(proc.args?.[0] ?? '', env, cwd) : '';
  if (config.process) refuseOwnExecutable(exe, proc.args?.[0] ?? '');
  // The main thread's policy from here on, kept across execve.
  applyMemoryPolicy(config.linux?.memoryPolicy);
  return exe;
}

/** After start: scheduling, then the user, capabilities, seccomp and execve (become.ts). */
function becomeAfterStart(plan: InitPlan, proc: Process, exe: string, notifySocket: number | undefined): never {
  const { config } = plan;
  applySchedulingAttrs(proc, config.linux?.personality);
  return becomeProcess(proc, exe, {
    preserveFds: plan.preserveFds,
    keepOpen: [startFd, plan.log.fd],
    stderrFd: plan.stderrFd,
    seccomp: plan.seccomp,
    seccompState: { ...plan.state, status: 'created' } as unknown as State,
    notifySocket,
    // Last before execve, as runc 1.1 does: the hook runs as the
    // container's user, with its capabilities and its seccomp filter.
    startContainer: { hooks: config.hooks?.startContainer ?? [], state: { ...plan.state, status: 'created' } },
    beforeExec: () => debug(`init: about to exec ${exe}`),
  });
}

/** Entered as `tsrun init <sync fd>` by the native helper (src/tsrun.ts). */
export function runInit(args: string[]): void {
  const fd = Number(args[0]);
  if (args.length !== 1 || !Number.isInteger(fd) || !isSocket(fd)) {
    writeSync(2, 'tsrun: init is internal: it is started by tsrun create, never by hand\n');
    process.exit(1);
  }
  chan = childChannel(fd);
  phase('init.loaded'); // every module evaluated, koffi and the helper included
  try {
    // Everything native is loaded by now (module evaluation): while it waits
    // in `created`, the init holds no fd it does not need.
    releaseMemoryFds();
    main();
  } catch (e) {
    fail(e);
  }
}

function isSocket(fd: number): boolean {
  try {
    return fstatSync(fd).isSocket();
  } catch {
    return false;
  }
}
