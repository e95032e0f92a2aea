// Every message on the sync socket between tsrun's parent side (create and
// exec, src/runtime) and the process it starts in a container: first the
// native helper's child (native/tsrun.c), then, after its execveat, the
// same process as `tsrun init <fd>` (src/init). One JSON object a line, both
// ways; a line may carry descriptors (SCM_RIGHTS, channel.ts). This file is
// the only place that names them: native/tsrun.c writes its own ("helper"
// below) as C strings and points here. (As runc's libcontainer/sync.go and
// youki's `enum Message`.)
//
// create (a new user or time namespace adds the usermap or timens step):
//
//   tsrun create                 native helper (C, the child)          tsrun init (the same process)
//   nativeSpawn ───clone───────► dumpable off; protect the executable
//                                (ro bind, else a sealed memfd copy:
//        ◄─────────────────────  debug {msg, call, errno})
//                                setns() given namespaces, user first
//                                unshare(user)
//        ◄─────────────────────  usermap {pid}
//   write uid_map, gid_map
//        ──────── ack ─────────► setresgid/setresuid(0)
//                                unshare(the other namespaces)
//        ◄─────────────────────  timens {pid}
//   write the time offsets
//        ──────── ack ─────────►
//                                fork again (pid, time namespace)
//        ◄─────────────────────  pid {pid}
//   cgroup, CPU affinity,        setsid; execveat ───────────────────► tsrun init <fd>
//   network devices,
//   open the bind sources
//        ─────────────────────── plan {InitPlan} ───────────────────────►
//        ─────────────────────── bindsources {count} + SCM_RIGHTS ──────► (64 fds a line)
//                                                                      cgroup ns, rootfs, mounts, devices
//        ◄────────────────────────────────────────────────────── hooks
//   device rules; prestart,
//   createRuntime hooks
//        ─────────────────────── ack (abort if a hook failed) ──────────►
//                                                                      createContainer hooks, pivot_root,
//                                                                      console, sysctl, the process's settings
//        ◄────────────────────────────────────────────────────── ready
//   state "created", exit                                              closes the socket; waits for `start`
//                                                                      on the exec fifo
//
// exec (joins only: no usermap or timens; the mount namespace is the init's job):
//
//   tsrun exec                   native helper (C, the child)          tsrun init (as exec's process)
//   nativeSpawn ───clone───────► protect the executable; setns() user
//                                (then setresuid 0), the others
//                                fork again (pid, time namespace)
//        ◄─────────────────────  pid {pid}
//                                setsid; execveat ───────────────────► tsrun init <fd>
//   wait until it runs tsrun init
//   from the ro bind; its cgroup
//        ─────────────────────── exec {ExecPlan} ───────────────────────►
//                                                                      setns(mnt), console, user, cwd, ...
//        ◄────────────────────────────────────────────────────── ready
//                                                                      credentials, seccomp, execve
//   end of stream: it runs                                             (the socket closes at execve)
//
// Either child may answer any step with `error` instead: the helper's names
// a failed call {call, arg, errno}, the init's is its own words {msg}. The
// parent kills what it started when anything fails, and a socket closed
// early says the child died.

import type { ExecPlan, InitPlan } from './plans';

/** The hidden subcommand through which the native helper enters the executable: `tsrun init <sync fd>`. */
export const INIT_COMMAND = 'init';

/** Every message's type, the discriminant of the unions below. */
export const Msg = {
  // child -> parent, written by native/tsrun.c
  UserMap: 'usermap',
  TimeNs: 'timens',
  Debug: 'debug',
  Pid: 'pid',
  // child -> parent, from the helper (a failed call) or from tsrun init (its message)
  Error: 'error',
  // child -> parent, from tsrun init
  Hooks: 'hooks',
  Ready: 'ready',
  // parent -> child
  Ack: 'ack',
  Abort: 'abort',
  Plan: 'plan',
  BindSources: 'bindsources',
  Exec: 'exec',
} as const;

/** A call that failed in the native helper; errno as a number. */
export interface FailedCall {
  call: string;
  arg?: string;
  errno: number;
}

/** What native/tsrun.c writes: it reads nothing but the end of a line (an ack). */
export type HelperMessage =
  /** It made a user namespace: the parent writes its id maps, then acks. */
  | { type: typeof Msg.UserMap; pid: number }
  /** It made a time namespace: the parent writes its offsets, then acks. */
  | { type: typeof Msg.TimeNs; pid: number }
  /** A fallback taken (binary protection), for the parent's debug log. */
  | ({ type: typeof Msg.Debug; msg: string } & FailedCall)
  | ({ type: typeof Msg.Error } & FailedCall)
  /** The process that will run in the container (after the second fork, the grandchild). */
  | { type: typeof Msg.Pid; pid: number };

/** What tsrun init writes, as create's init or as exec's process. */
export type InitMessage =
  /** create: rootfs and devices are up; the parent runs its hooks and answers ack or abort. */
  | { type: typeof Msg.Hooks }
  /** Set up: create's init waits for `start`; exec's process goes on to execve. */
  | { type: typeof Msg.Ready }
  | { type: typeof Msg.Error; msg: string };

/** child -> parent. */
export type ChildMessage = HelperMessage | InitMessage;

/** parent -> child. */
export type ParentMessage =
  /** Answers usermap and timens (the helper waits for the line) and the init's hooks. */
  | { type: typeof Msg.Ack }
  /** Answers hooks when one failed: the init exits, the parent reports the hook's error. */
  | { type: typeof Msg.Abort }
  | { type: typeof Msg.Plan; plan: InitPlan }
  /** `count` descriptors ride on this line (bind-sources.ts). */
  | { type: typeof Msg.BindSources; count: number }
  | { type: typeof Msg.Exec; plan: ExecPlan };

export type Message = ChildMessage | ParentMessage;

/** The types a side may receive: a line of any other type is refused (channel.ts). */
export const CHILD_MESSAGE_TYPES: Readonly<Record<ChildMessage['type'], true>> = {
  [Msg.UserMap]: true,
  [Msg.TimeNs]: true,
  [Msg.Debug]: true,
  [Msg.Pid]: true,
  [Msg.Error]: true,
  [Msg.Hooks]: true,
  [Msg.Ready]: true,
};
export const PARENT_MESSAGE_TYPES: Readonly<Record<ParentMessage['type'], true>> = {
  [Msg.Ack]: true,
  [Msg.Abort]: true,
  [Msg.Plan]: true,
  [Msg.BindSources]: true,
  [Msg.Exec]: true,
};

/** A message as it goes on the socket. */
export function encodeMessage(msg: Message): Buffer {
  return Buffer.from(JSON.stringify(msg) + '\n');
}

/** A message that reached a step where it has no meaning: the other side is not the program this one expects. */
export function unexpectedMessage(who: string, m: Message): Error {
  return new Error(`${who}: unexpected message ${JSON.stringify(m)}`);
}

/** For a switch over a union that handles every case: TypeScript checks it does. */
export function exhausted(m: never): never {
  throw new Error(`sync socket: unhandled message ${JSON.stringify(m)}`);
}
