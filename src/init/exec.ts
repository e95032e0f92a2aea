// A process that `tsrun exec` starts in a running container: the executable
// entered like the init, already in every namespace of the container but
// its mount namespace (the native helper joined them, user first, and forked
// again for the pid namespace). It enters that one on its main thread, then
// becomes the process the plan describes, as the init does for its own.
import type { ChildChannel } from '../protocol/channel';
import { Msg } from '../protocol/messages';
import type { ExecPlan } from '../protocol/plans';
import type { State } from '../spec/types';
import { applyRlimits } from '../linux/rlimits';
import { applyOomScoreAdj } from '../linux/oom-score';
import { applyApparmor } from '../linux/lsm';
import { procfsHandleSource } from '../linux/proc-file';
import { resolveExecutable } from '../linux/path-lookup';
import { applySchedulingAttrs } from '../linux/sched';
import { applyMemoryPolicy } from '../linux/mempolicy';
import { setupConsole } from '../linux/terminal';
import { CLONE, setns, unshare } from '../sys/ns';
import { closeQuiet } from '../sys/fs';
import { connectAgent } from '../seccomp/load';
import { enterCwd } from './cwd';
import { resolveUser } from '../linux/passwd';
import { becomeProcess, refuseOwnExecutable } from './become';
import { withContainerStderr } from './stderr';
import { setLogTarget, debug } from '../log';

/**
 * Sets the process up, says "ready", and execs it. The parent reads until
 * execve closes the socket: every error up to the exec reaches it.
 */
export function enterAndExec(chan: ChildChannel, handed: ExecPlan): never {
  const plan = withContainerStderr(handed);
  setLogTarget(plan.log);
  debug(`exec: procfs handle from ${procfsHandleSource()}`);
  const proc = plan.process;
  // A seccomp notify agent's socket is a host path: connect while it is reachable.
  const notifySocket = plan.seccomp?.notify ? connectAgent(plan.seccomp.listenerPath!) : undefined;
  if (plan.mntFd !== undefined) {
    // setns(mnt) needs a thread that does not share its fs_struct; it leaves
    // the process at the root of the container's mount namespace.
    unshare(CLONE.FS, 'fs');
    setns(plan.mntFd, CLONE.NEWNS, 'mnt');
    closeQuiet(plan.mntFd);
  }
  if (proc.terminal && plan.consoleFd !== undefined) {
    // The container's own /dev/ptmx; /dev/console stays the init's.
    setupConsole(plan.consoleFd, proc.consoleSize, { mountConsole: false, stderrFd: plan.stderrFd });
    closeQuiet(plan.consoleFd);
  }
  if (plan.user !== undefined) {
    const u = resolveUser(plan.user);
    proc.user = {
      ...proc.user,
      uid: u.uid,
      gid: u.gid,
      additionalGids: [...new Set([...u.groups, ...(proc.user?.additionalGids ?? [])])],
    };
  }
  applyRlimits(proc.rlimits);
  applyOomScoreAdj(proc.oomScoreAdj);
  applyApparmor(proc.apparmorProfile);
  const cwd = proc.cwd || '/';
  enterCwd(cwd);
  const exe = resolveExecutable(proc.args?.[0] ?? '', proc.env, cwd);
  refuseOwnExecutable(exe, proc.args?.[0] ?? '');
  // As the init's (runc 1.2+ gives exec's process scheduler and ioPriority too).
  applySchedulingAttrs(proc, plan.personality);
  // The container's policy, as runc gives an exec'd process.
  applyMemoryPolicy(plan.memoryPolicy);
  chan.send({ type: Msg.Ready });
  debug(`exec: about to exec ${exe}`);
  becomeProcess(proc, exe, {
    preserveFds: plan.preserveFds,
    keepOpen: [chan.fd, plan.log.fd],
    stderrFd: plan.stderrFd,
    seccomp: plan.seccomp,
    seccompState: { ...plan.state, status: 'running' } as unknown as State,
    notifySocket,
  });
}
