// The plan of a container process's last steps for tsrun_finish
// (native/tsrun.c), and the error a failed step is reported with. Every
// step that can be done before the seccomp filter is done here, in
// TypeScript; what must follow the filter in runc's order is only prepared.
import type { Hook, Process, State } from '../spec/types';
import type { CompiledSeccompJSON } from '../seccomp/compile';
import { prepareFilter } from '../seccomp/load';
import { prepareUserSwitch } from '../linux/credentials';
import { dedupEnv } from './environ';
import { withHome } from '../linux/passwd';
import { hookName, hookFailure, hookCommand, hookError } from '../hooks/run';
import { FINISH_STEP, type FinalPlan, type FinishFailure } from '../sys/native';
import { SysError, errnoName } from '../sys/errno';
import { capsetArg } from '../sys/process';
import { signalName } from '../sys/wait';
import { debug } from '../log';

export interface FinalInputs {
  seccomp?: CompiledSeccompJSON;
  /** The state a seccomp notify agent is sent. */
  seccompState: State;
  /** A socket connected to the notify agent (listenerPath is a host path). */
  notifySocket?: number;
  /** Hooks run as the process is about to be, under its filter (runc 1.1's order). */
  startContainer?: { hooks: Hook[]; state: object };
  /** The process's stderr, put on fd 2 by the native steps (init/stderr.ts). */
  stderrFd?: number;
}

/** Everything but the native steps: bounding set, stdio owner, umask, flags checked, messages built. */
export function finalPlan(proc: Process, exe: string, s: FinalInputs): FinalPlan {
  const user = prepareUserSwitch(proc.user ?? { uid: 0, gid: 0 }, proc.capabilities);
  const filter = s.seccomp ? prepareFilter(s.seccomp, { state: s.seccompState, socketFd: s.notifySocket }) : undefined;
  const hooks = s.startContainer?.hooks ?? [];
  hooks.forEach((h, i) => debug(`running ${hookName('startContainer', i, h)}`));
  return {
    // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which the user switch may drop.
    filter: filter && { ...filter, first: !proc.noNewPrivileges },
    groups: user.groups,
    uid: user.uid,
    gid: user.gid,
    caps: user.caps,
    noNewPrivs: proc.noNewPrivileges === true,
    hooks: hooks.map((h) => ({ ...hookCommand(h), timeout: h.timeout ?? 0 })),
    hookInput: Buffer.from(JSON.stringify(s.startContainer?.state ?? {})),
    path: exe,
    argv: proc.args ?? [],
    // Read while / is the container's and nothing stops the read yet (user switch, seccomp).
    env: withHome(dedupEnv(proc.env ?? []), proc.user?.uid ?? 0),
    stderrFd: s.stderrFd,
  };
}

/** The error of a failed native step, worded as the TypeScript calls word theirs. */
export function finalError(plan: FinalPlan, hooks: Hook[], f: FinishFailure): Error {
  if (f.hook >= 0) {
    const hook = hooks[f.hook];
    const why = hookFailure(hook, {
      timedOut: f.hookTimedOut,
      errorCode: f.step === FINISH_STEP.HOOK_STATUS ? undefined : errnoName(f.errno),
      signal: f.hookSignal ? signalName(f.hookSignal) : null,
      status: f.hookStatus,
      stderr: f.hookStderr,
    });
    return new Error(hookError(hookName('startContainer', f.hook, hook), why ?? 'failed'));
  }
  const [call, arg] = stepCall(plan, f.step);
  return new SysError(call, arg, f.errno);
}

function stepCall(p: FinalPlan, step: number): [string, string] {
  const S = FINISH_STEP;
  switch (step) {
    case S.SECCOMP:
      return ['seccomp', `SET_MODE_FILTER, flags 0x${(p.filter?.flags ?? 0).toString(16)}`];
    case S.NOTIFY_SEND:
      return ['sendmsg', `fd ${p.filter?.notify?.fd}`];
    case S.SETGROUPS:
      return ['setgroups', `[${(p.groups ?? []).join(',')}]`];
    case S.KEEPCAPS_ON:
      return ['prctl', 'PR_SET_KEEPCAPS, 1'];
    case S.SETRESGID:
      return ['setresgid', String(p.gid)];
    case S.SETRESUID:
      return ['setresuid', String(p.uid)];
    case S.KEEPCAPS_OFF:
      return ['prctl', 'PR_SET_KEEPCAPS, 0'];
    case S.CAPSET:
      return ['capset', capsetArg(p.caps!)];
    case S.AMBIENT_CLEAR:
      return ['prctl', 'PR_CAP_AMBIENT_CLEAR_ALL'];
    case S.NO_NEW_PRIVS:
      return ['prctl', 'PR_SET_NO_NEW_PRIVS, 1'];
    case S.STDERR:
      return ['dup2', `${p.stderrFd} → 2`];
    default:
      return ['execve', p.path];
  }
}
