// Bindings to tsrun's own native helper (native/tsrun.c, built by hack/build.mjs).
import { koffi, SysError } from './libc';
import { loadHelperLibrary } from './helper-library';
import { phase } from '../log/phase';

const lib = loadHelperLibrary((path) => koffi.load(path));

const _spawn = lib.func(
  'int tsrun_spawn(int sync_fd, const int *join_fds, const int *join_types, int njoin, int unshare_flags, ' +
    'int fork_again, const int *keep_fds, int nkeep, int quiet_fd, ' +
    'const char *path, const char **argv, const char **envp, int cgroup_fd)',
);
const Hook = koffi.struct('tsrun_hook', {
  path: 'const char *',
  argv: 'const char **',
  envp: 'const char **',
  timeout: 'int',
});
// Registered by name: tsrun_finish's signature below names both structs.
koffi.struct('tsrun_final', {
  filter: 'const uint8_t *',
  filter_len: 'uint',
  filter_flags: 'uint',
  filter_first: 'int',
  notify_fd: 'int',
  notify_msg: 'const uint8_t *',
  notify_len: 'uint',
  set_groups: 'int',
  ngroups: 'uint',
  groups: 'const uint32_t *',
  uid: 'uint',
  gid: 'uint',
  set_caps: 'int',
  cap_data: koffi.array('uint32_t', 6),
  ambient: 'uint64_t',
  no_new_privs: 'int',
  hooks: koffi.pointer(Hook),
  nhooks: 'uint',
  hook_input: 'const uint8_t *',
  hook_input_len: 'uint',
  path: 'const char *',
  argv: 'const char **',
  envp: 'const char **',
  stderr_fd: 'int',
});
koffi.struct('tsrun_failure', {
  step: 'int',
  err: 'int',
  hook: 'int',
  hook_status: 'int',
  hook_signal: 'int',
  hook_timed_out: 'int',
  hook_stderr: koffi.array('uint8_t', 8192),
});
const _finish = lib.func('int tsrun_finish(const tsrun_final *f, _Out_ tsrun_failure *out)');
const _usernsHolder = lib.func('int tsrun_userns_holder(void)');
phase('tsrun-helper.bound'); // its functions and structs declared

export interface SpawnPlan {
  syncFd: number;
  /** Namespaces to join: an open fd of the namespace file and its CLONE_NEW* type. */
  joins: { fd: number; type: number }[];
  /** CLONE_NEW* flags of the namespaces to create. */
  unshareFlags: number;
  /** Fork once more after unsharing: needed for pid and time namespaces. */
  forkAgain: boolean;
  /** fds the child keeps across execve (their FD_CLOEXEC is cleared). */
  keepFds: number[];
  /** Put on the child's fd 2 before it runs tsrun (/dev/null: no crash report reaches the container); -1: none. */
  quietFd: number;
  path: string;
  argv: string[];
  env: string[];
  /** A cgroup v2 directory (an O_PATH fd and its path) to clone the child into with clone3's CLONE_INTO_CGROUP. */
  cgroup?: { fd: number; path: string };
}

const nullTerminated = (a: string[]) => [...a, null];

/** fork (or clone3 into a cgroup) + namespace setup + execve in C; returns the child's pid. */
export function nativeSpawn(p: SpawnPlan): number {
  const pid = _spawn(
    p.syncFd,
    p.joins.map((j) => j.fd),
    p.joins.map((j) => j.type),
    p.joins.length,
    p.unshareFlags,
    p.forkAgain ? 1 : 0,
    p.keepFds,
    p.keepFds.length,
    p.quietFd,
    p.path,
    nullTerminated(p.argv),
    nullTerminated(p.env),
    p.cgroup?.fd ?? -1,
  ) as number;
  if (pid < 0 && p.cgroup) throw new SysError('clone3', `CLONE_INTO_CGROUP ${p.cgroup.path}`, -pid);
  if (pid < 0) throw new SysError('fork', p.path, -pid);
  return pid;
}

/** A startContainer hook as tsrun_finish runs it. */
export interface NativeHook {
  path: string;
  argv: string[];
  env: string[];
  /** Seconds; 0: none. */
  timeout: number;
}

/** Everything tsrun_finish does, prepared (src/init/final-plan.ts). */
export interface FinalPlan {
  /** A struct sock_filter[], loaded with these SECCOMP_FILTER_FLAG_*s; none without seccomp. */
  filter?: { program: Buffer; flags: number; first: boolean; notify?: { fd: number; message: Buffer } };
  /** The supplementary groups; none: leave them. */
  groups?: number[];
  uid: number;
  gid: number;
  /** The capability sets after the user switch; none: leave them to the kernel. */
  caps?: { effective: bigint; permitted: bigint; inheritable: bigint; ambient: bigint };
  noNewPrivs: boolean;
  hooks: NativeHook[];
  hookInput: Buffer;
  path: string;
  argv: string[];
  env: string[];
  /** The program's stderr, put on fd 2 first (fd 2 is /dev/null until then); none: fd 2 is already it. */
  stderrFd?: number;
}

/** The step of tsrun_finish that failed (enum in native/tsrun.c), with errno and, for a hook, its outcome. */
export const FINISH_STEP = {
  SECCOMP: 1,
  NOTIFY_SEND: 2,
  SETGROUPS: 3,
  KEEPCAPS_ON: 4,
  SETRESGID: 5,
  SETRESUID: 6,
  KEEPCAPS_OFF: 7,
  CAPSET: 8,
  AMBIENT_CLEAR: 9,
  NO_NEW_PRIVS: 10,
  HOOK_SETUP: 11,
  HOOK_EXEC: 12,
  HOOK_WAIT: 13,
  HOOK_STATUS: 14,
  EXECVE: 15,
  STDERR: 16,
} as const;

export interface FinishFailure {
  step: number;
  errno: number;
  /** The hook that failed, or -1. */
  hook: number;
  /** Its exit status, or -1 when it did not exit. */
  hookStatus: number;
  /** The signal that ended it, or 0. */
  hookSignal: number;
  hookTimedOut: boolean;
  /** The start of its stderr. */
  hookStderr: string;
}

const lo = (v: bigint) => Number(v & 0xffffffffn);
const hi = (v: bigint) => Number((v >> 32n) & 0xffffffffn);

/**
 * The process's last steps in C, with no JavaScript in between: seccomp,
 * user, capabilities, no_new_privs, startContainer hooks, signals reset,
 * execve (native/tsrun.c, tsrun_finish). Returns only on failure.
 */
export function nativeFinish(p: FinalPlan): FinishFailure {
  const c = p.caps;
  const out: Record<string, unknown> = {};
  _finish(
    {
      filter: p.filter?.program ?? null,
      filter_len: (p.filter?.program.length ?? 0) / 8,
      filter_flags: p.filter?.flags ?? 0,
      filter_first: p.filter?.first ? 1 : 0,
      notify_fd: p.filter?.notify?.fd ?? -1,
      notify_msg: p.filter?.notify?.message ?? null,
      notify_len: p.filter?.notify?.message.length ?? 0,
      set_groups: p.groups ? 1 : 0,
      ngroups: p.groups?.length ?? 0,
      groups: Uint32Array.from(p.groups ?? []),
      uid: p.uid,
      gid: p.gid,
      set_caps: c ? 1 : 0,
      cap_data: c
        ? [lo(c.effective), lo(c.permitted), lo(c.inheritable), hi(c.effective), hi(c.permitted), hi(c.inheritable)]
        : [0, 0, 0, 0, 0, 0],
      ambient: c?.ambient ?? 0n,
      no_new_privs: p.noNewPrivs ? 1 : 0,
      hooks: p.hooks.map((h) => ({ ...h, argv: nullTerminated(h.argv), envp: nullTerminated(h.env) })),
      nhooks: p.hooks.length,
      hook_input: p.hookInput,
      hook_input_len: p.hookInput.length,
      path: p.path,
      argv: nullTerminated(p.argv),
      envp: nullTerminated(p.env),
      stderr_fd: p.stderrFd ?? -1,
    },
    out,
  );
  const stderr = out.hook_stderr as Uint8Array;
  const end = stderr.indexOf(0);
  return {
    step: out.step as number,
    errno: out.err as number,
    hook: out.hook as number,
    hookStatus: out.hook_status as number,
    hookSignal: out.hook_signal as number,
    hookTimedOut: out.hook_timed_out !== 0,
    hookStderr: Buffer.from(stderr.subarray(0, end < 0 ? stderr.length : end)).toString('utf8'),
  };
}

/** A child alone in a new user namespace without maps, pausing until killed (it dies with us); returns its pid. */
export function spawnUsernsHolder(): number {
  const pid = _usernsHolder() as number;
  if (pid < 0) throw new SysError('clone', 'CLONE_NEWUSER', -pid);
  return pid;
}
