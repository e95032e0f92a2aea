// Bindings to tsrun's own native helper (native/tsrun.c, built by hack/build.mjs).
import { koffi, SysError } from './libc';
import { loadHelperLibrary } from './helper-library';

const lib = loadHelperLibrary((path) => koffi.load(path));

const _spawn = lib.func(
  'int tsrun_spawn(int sync_fd, const int *join_fds, const int *join_types, int njoin, int unshare_flags, ' +
    'int fork_again, const int *keep_fds, int nkeep, const char *path, const char **argv, const char **envp)',
);
const _exec = lib.func('int tsrun_exec(const char *path, const char **argv, const char **envp)');
const _usernsHolder = lib.func('int tsrun_userns_holder(void)');

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
  path: string;
  argv: string[];
  env: string[];
}

const nullTerminated = (a: string[]) => [...a, null];

/** fork + namespace setup + execve in C; returns the child's pid. */
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
    p.path,
    nullTerminated(p.argv),
    nullTerminated(p.env),
  ) as number;
  if (pid < 0) throw new SysError('fork', p.path, -pid);
  return pid;
}

/** Reset every signal disposition and the mask, then execve. Returns only on failure. */
export function nativeExec(path: string, argv: string[], env: string[]): never {
  const ret = _exec(path, nullTerminated(argv), nullTerminated(env)) as number;
  throw new SysError('execve', path, -ret);
}

/** A child alone in a new user namespace without maps, pausing until killed (it dies with us); returns its pid. */
export function spawnUsernsHolder(): number {
  const pid = _usernsHolder() as number;
  if (pid < 0) throw new SysError('clone', 'CLONE_NEWUSER', -pid);
  return pid;
}
