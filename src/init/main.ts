// The container init: node as pid 1 of the container, started by the native
// helper in all its namespaces. It sets up the container from the plan the
// parent sends, waits for `tsrun start` on the exec fifo, then becomes the
// user's program with execve. It never prints: errors go to the parent over
// the sync socket while it listens, and to fd 2 only after that.
import { writeSync } from 'node:fs';
import { Channel } from '../runtime/channel';
import type { InitPlan } from '../runtime/init-plan';
import { runHooks } from '../hooks/run';
import { prepareRootfs, pivotRoot, finishRootfs, setHostname, applySysctl, type RootfsPlan } from '../linux/rootfs';
import {
  applyRlimits,
  applyOomScoreAdj,
  applyUser,
  applyNoNewPrivileges,
  applyApparmor,
  checkSelinuxLabel,
  resolveExecutable,
} from '../linux/process';
import { setupConsole } from '../linux/terminal';
import { setDumpable } from '../sys/process';
import { joinSessionKeyring } from '../sys/keyring';
import { CLONE, setns, unshare } from '../sys/ns';
import { open, openat, O, closeQuiet, closeRange, setCloexec, CLOSE_RANGE_CLOEXEC, fsType, FS_MAGIC } from '../sys/fs';
import { nativeExec } from '../sys/native';
import { enterCwd } from './cwd';

const chan = new Channel(Number(process.argv[2]));
let listening = true;

function fail(err: unknown): never {
  const msg = err instanceof Error ? err.message : String(err);
  if (listening) {
    try {
      chan.send({ type: 'error', msg });
    } catch {
      // parent gone
    }
  } else {
    try {
      writeSync(2, `tsrun init: ${msg}\n`);
    } catch {
      // no stderr
    }
  }
  process.exit(1);
}

/** Before pivot_root: a handle on the host's procfs to reopen the exec fifo through. */
function openHostProc(): number {
  const fd = open('/proc', O.PATH | O.DIRECTORY);
  if (fsType(fd, '/proc') !== FS_MAGIC.PROC) throw new Error('/proc is not a procfs mount');
  return fd;
}

/** Block until `tsrun start` opens the fifo for reading, then release it. */
function waitForStart(procFd: number, fifoFd: number): void {
  const w = openat(procFd, `self/fd/${fifoFd}`, O.WRONLY, 0, 'exec fifo');
  writeSync(w, '0');
  closeQuiet(w);
  closeQuiet(fifoFd);
  closeQuiet(procFd);
}

function main(): void {
  // /proc/<pid>/exe of this process is the host's node binary: keep it out of the container's reach.
  setDumpable(false);
  const first = chan.receive();
  if (!first || first.type !== 'plan') process.exit(1);
  const plan = first.plan as InitPlan;
  const { config } = plan;
  const proc = config.process!;

  if (plan.newCgroupNs) unshare(CLONE.NEWCGROUP, 'cgroup');
  if (plan.mountJoinFd !== undefined) {
    // setns(mnt) needs a thread that does not share its fs_struct.
    unshare(CLONE.FS, 'fs');
    setns(plan.mountJoinFd, CLONE.NEWNS, 'mnt');
    closeQuiet(plan.mountJoinFd);
  }
  if (!plan.noNewKeyring) joinSessionKeyring(`_ses.${plan.id}`);

  const rootfsPlan: RootfsPlan = {
    rootfs: plan.rootfs,
    bundle: plan.bundle,
    config,
    noPivot: plan.noPivot,
    userns: plan.newUserNs,
  };
  const hostProc = openHostProc();
  prepareRootfs(rootfsPlan);

  chan.send({ type: 'hooks' });
  const answer = chan.receive();
  if (!answer || answer.type !== 'ack') process.exit(1);
  runHooks('createContainer', config.hooks?.createContainer, plan.state);

  pivotRoot(rootfsPlan);
  finishRootfs(rootfsPlan);
  setHostname(config);
  applySysctl(config);
  if (proc.terminal && plan.consoleFd !== undefined) {
    setupConsole(plan.consoleFd, proc.consoleSize);
    closeQuiet(plan.consoleFd);
  }

  applyRlimits(proc.rlimits);
  applyOomScoreAdj(proc.oomScoreAdj);
  checkSelinuxLabel(proc.selinuxLabel);
  applyApparmor(proc.apparmorProfile);
  const env = proc.env ?? [];
  const cwd = proc.cwd || '/';
  enterCwd(cwd);
  const exe = resolveExecutable(proc.args?.[0] ?? '', env, cwd);
  applyUser(proc.user ?? { uid: 0, gid: 0 }, proc.capabilities);
  applyNoNewPrivileges(proc.noNewPrivileges);

  chan.send({ type: 'ready' });
  listening = false;
  closeQuiet(chan.fd);

  waitForStart(hostProc, plan.fifoFd);
  runHooks('startContainer', config.hooks?.startContainer, { ...plan.state, status: 'created' });

  // Only stdio and the preserved fds reach the program.
  const firstClosed = 3 + plan.preserveFds;
  closeRange(firstClosed, 0xffffffff, CLOSE_RANGE_CLOEXEC);
  for (let fd = 0; fd < firstClosed; fd++) {
    try {
      setCloexec(fd, false);
    } catch {
      // not open: nothing to hand over
    }
  }
  nativeExec(exe, proc.args ?? [], env);
}

try {
  main();
} catch (e) {
  fail(e);
}
