// The container process's attributes, applied by the init on the thread that
// will execve (capabilities, no_new_privs and the raw setres*id calls are
// per-thread): rlimits and oom score first, then user and capabilities,
// no_new_privs and the LSM checks, and finally the executable's path.
import { readFileSync, writeSync, fstatSync, fchownSync, statSync, existsSync } from 'node:fs';
import { delimiter, isAbsolute, resolve as resolvePath } from 'node:path';
import type { User, LinuxCapabilities } from '../spec/types';
import { open, closeQuiet, fsType, FS_MAGIC, O } from '../sys/fs';
import {
  setgroups, setresgid, setresuid, capset, setKeepCaps, capBoundingHas, capBoundingDrop,
  ambientClearAll, ambientRaise, setNoNewPrivs, umask,
} from '../sys/process';
import { capMask, capNames, lastCap, supportedMask, CAPS } from './capabilities';
import { debug, warn } from '../log';

export { applyRlimits } from './rlimits';

/** Opens a /proc file for writing and refuses it unless it really is on procfs. */
function writeProcFile(path: string, value: string): void {
  const fd = open(path, O.WRONLY | O.NOFOLLOW);
  try {
    if (fsType(fd, path) !== FS_MAGIC.PROC) throw new Error(`${path} is not on procfs; refusing to write it`);
    try {
      writeSync(fd, value);
    } catch (err) {
      throw new Error(`write(${path}, "${value}"): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  } finally {
    closeQuiet(fd);
  }
}

export function applyOomScoreAdj(v: number | undefined): void {
  if (v === undefined) return;
  writeProcFile('/proc/self/oom_score_adj', String(v));
}

interface CapPlan {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

// A missing list is an empty set, as in runc: listing nothing grants nothing.
function planCaps(c: LinuxCapabilities): CapPlan {
  const plan = {
    bounding: capMask(c.bounding, 'process.capabilities.bounding'),
    effective: capMask(c.effective, 'process.capabilities.effective'),
    permitted: capMask(c.permitted, 'process.capabilities.permitted'),
    inheritable: capMask(c.inheritable, 'process.capabilities.inheritable'),
    ambient: capMask(c.ambient, 'process.capabilities.ambient'),
  };
  const all = plan.bounding | plan.effective | plan.permitted | plan.inheritable | plan.ambient;
  const unavailable = all & ~supportedMask();
  if (unavailable) warn(`ignoring capabilities this kernel does not have: ${capNames(unavailable).join(', ')}`);
  const keep = supportedMask();
  return {
    bounding: plan.bounding & keep,
    effective: plan.effective & keep,
    permitted: plan.permitted & keep,
    inheritable: plan.inheritable & keep,
    ambient: plan.ambient & keep,
  };
}

function dropBoundingSet(keep: bigint): void {
  for (let cap = 0; cap <= lastCap(); cap++) {
    if ((keep >> BigInt(cap)) & 1n) continue;
    if (capBoundingHas(cap)) capBoundingDrop(cap, capNames(1n << BigInt(cap))[0] ?? String(cap));
  }
}

function raiseAmbient(ambient: bigint): void {
  ambientClearAll();
  for (const name of capNames(ambient)) {
    try {
      ambientRaise(CAPS[name], name);
    } catch (err) {
      // The kernel only raises what is both permitted and inheritable; runc
      // goes on silently (runc spec's own default asks for ambient caps
      // without inheritable ones), so only --debug says so.
      debug(`cannot raise ambient capability ${name}: ${(err as Error).message}`);
    }
  }
}

const DEV_NULL_RDEV = (1 << 8) | 3;

/**
 * The user must be able to reopen its stdio (/proc/self/fd/N, /dev/stdout),
 * so hand those files to it, as runc does. Leave /dev/null and anything the
 * kernel will not let us change alone.
 */
function giveStdioTo(uid: number): void {
  for (const fd of [0, 1, 2]) {
    let st;
    try {
      st = fstatSync(fd);
    } catch {
      continue; // not open
    }
    if (st.uid === uid || (st.isCharacterDevice() && st.rdev === DEV_NULL_RDEV)) continue;
    try {
      fchownSync(fd, uid, st.gid);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EINVAL' || code === 'EPERM' || code === 'EROFS') continue;
      throw new Error(`fchown(stdio fd ${fd} → uid ${uid}): ${code ?? (err as Error).message}`);
    }
  }
}

function setgroupsDenied(): boolean {
  try {
    return readFileSync('/proc/self/setgroups', 'utf8').trim() === 'deny';
  } catch {
    return false;
  }
}

/** The groups to set: the additionalGids (none is an empty list), or undefined where setgroups is denied. */
function groupsToSet(user: User): number[] | undefined {
  // Also with no additionalGids: the init must not pass on the groups it inherited.
  const gids = user.additionalGids ?? [];
  if (!setgroupsDenied()) return gids;
  if (gids.length > 0) {
    throw new Error(
      `cannot set additional groups [${gids.join(', ')}] (process.user.additionalGids): ` +
        'setgroups is denied in this user namespace (/proc/self/setgroups is "deny")',
    );
  }
  return undefined; // nothing was asked for and the kernel forbids changing groups: keep them
}

/** What is left of the user switch once prepareUserSwitch ran: ids, groups and capability sets to set. */
export interface UserSwitch {
  /** Undefined: keep the groups. */
  groups?: number[];
  uid: number;
  gid: number;
  /** The sets to capset after the switch, and the ambient caps the kernel will raise; undefined: leave caps alone. */
  caps?: { effective: bigint; permitted: bigint; inheritable: bigint; ambient: bigint };
}

/**
 * The part of the user switch that can come first, while still root and
 * before any seccomp filter: the bounding set (needs CAP_SETPCAP), stdio
 * handed to the user, the umask. The rest (UserSwitch) must be done in order
 * on the thread that will execve: by tsrun_finish, or by applyUser.
 */
export function prepareUserSwitch(user: User, capabilities: LinuxCapabilities | undefined): UserSwitch {
  const plan = capabilities ? planCaps(capabilities) : undefined;
  if (plan) dropBoundingSet(plan.bounding);
  giveStdioTo(user.uid);
  const groups = groupsToSet(user);
  if (user.umask !== undefined) umask(user.umask);
  if (!plan) return { groups, uid: user.uid, gid: user.gid };
  // The kernel only raises what is both permitted and inheritable; runc goes
  // on silently (runc spec's own default asks for ambient caps without
  // inheritable ones), so only --debug says so.
  const raisable = plan.ambient & plan.permitted & plan.inheritable;
  for (const name of capNames(plan.ambient & ~raisable)) {
    debug(`cannot raise ambient capability ${name}: not both permitted and inheritable`);
  }
  const { effective, permitted, inheritable } = plan;
  return { groups, uid: user.uid, gid: user.gid, caps: { effective, permitted, inheritable, ambient: raisable } };
}

/**
 * Switches to the container user and sets the capability sets. Order matters:
 * the bounding set is dropped while still root (needs CAP_SETPCAP), caps are
 * kept across setresuid with PR_SET_KEEPCAPS, then capset and ambient.
 * Without a capabilities object nothing is changed about capabilities (a
 * non-root user then loses them all at setresuid, as the kernel does).
 * A container's process gets the same from tsrun_finish, in native code.
 */
export function applyUser(user: User, capabilities: LinuxCapabilities | undefined): void {
  const s = prepareUserSwitch(user, capabilities);
  if (s.groups) setgroups(s.groups);
  if (s.caps) setKeepCaps(true);
  setresgid(s.gid);
  setresuid(s.uid);
  if (s.caps) {
    setKeepCaps(false);
    capset(s.caps);
    raiseAmbient(s.caps.ambient);
  }
}

export function applyNoNewPrivileges(on: boolean | undefined): void {
  if (on) setNoNewPrivs();
}

// ---- LSMs ----

export function apparmorEnabled(): boolean {
  try {
    return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    // No sysfs (e.g. after pivot_root into a rootfs without /sys): the
    // AppArmor attr files only read when AppArmor is the active LSM.
    try {
      readFileSync('/proc/thread-self/attr/apparmor/current', 'utf8');
      return true;
    } catch {
      return false;
    }
  }
}

/** Asks AppArmor to confine the next execve of this thread with `profile`. */
export function applyApparmor(profile: string | undefined): void {
  if (!profile) return;
  if (!apparmorEnabled()) {
    throw new Error(`apparmor profile "${profile}" specified (process.apparmorProfile) but AppArmor is not enabled on the host`);
  }
  // attr is per thread: thread-self, not self.
  const modern = '/proc/thread-self/attr/apparmor/exec';
  writeProcFile(existsSync(modern) ? modern : '/proc/thread-self/attr/exec', `exec ${profile}`);
}

export function selinuxEnabled(): boolean {
  return existsSync('/sys/fs/selinux/enforce');
}

/** tsrun does not label processes; an empty label is the only one it accepts. */
export function checkSelinuxLabel(label: string | undefined): void {
  if (!label) return;
  if (!selinuxEnabled()) {
    throw new Error(`SELinux label "${label}" specified (process.selinuxLabel) but SELinux is not enabled on the host`);
  }
  throw new Error(`SELinux label "${label}" specified (process.selinuxLabel): tsrun does not support SELinux labels`);
}

// ---- environment ----

/**
 * runc's one change to the process's env: when HOME is missing, it is the
 * user's home from the container's /etc/passwd, or "/". Call after pivot_root.
 */
export function withHome(env: string[] | undefined, uid: number): string[] {
  const list = env ?? [];
  if (list.some((e) => e.startsWith('HOME='))) return list;
  let home = '/';
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 6 && Number(f[2]) === uid && f[2] !== '' && f[5]) {
        home = f[5];
        break;
      }
    }
  } catch {
    // No /etc/passwd in the image: "/" as runc does.
  }
  return [...list, `HOME=${home}`];
}

// ---- the executable ----

function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const texts: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    ENOTDIR: 'not a directory',
    ELOOP: 'too many levels of symbolic links',
  };
  return (e.code && texts[e.code]) ?? e.message;
}

/** Like Go's exec.LookPath check: a regular-ish file with some execute bit. */
function executableProblem(path: string): string | undefined {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    return `stat ${path}: ${errnoText(err)}`;
  }
  if (st.isDirectory()) return `is a directory`;
  if ((st.mode & 0o111) === 0) return 'permission denied';
  return undefined;
}

/**
 * args[0] → the path to execve, looked up in the container (call it after
 * pivot_root). A name with a slash is used as is (relative to `cwd`); a bare
 * name is searched in the PATH of the process's env. Errors read like runc's.
 */
export function resolveExecutable(args0: string, env: string[] | undefined, cwd: string): string {
  if (args0.includes('/')) {
    const path = isAbsolute(args0) ? args0 : resolvePath(cwd, args0);
    const problem = executableProblem(path);
    if (problem) throw new Error(`exec: "${args0}": ${problem}`);
    return path;
  }
  const pathVar = (env ?? []).filter((e) => e.startsWith('PATH=')).pop()?.slice(5) ?? '';
  if (pathVar !== '') {
    for (const dir of pathVar.split(delimiter)) {
      // An empty PATH entry means the current directory, which is cwd.
      const candidate = resolvePath(cwd, dir === '' ? '.' : dir, args0);
      if (!executableProblem(candidate)) return candidate;
    }
  }
  throw new Error(`exec: "${args0}": executable file not found in $PATH`);
}
