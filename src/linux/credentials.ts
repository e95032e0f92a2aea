// The container process's credentials, set by the init on the thread that
// will execve (the raw setres*id calls, capset and no_new_privs are
// per-thread): supplementary groups, gid and uid with the capability sets
// kept across the switch, umask, no_new_privs.
import { fstatSync, fchownSync } from 'node:fs';
import type { User, LinuxCapabilities } from '../spec/types';
import { setgroups, setresgid, setresuid, capset, setKeepCaps, setNoNewPrivs, umask } from '../sys/process';
import { dropBoundingSet, planCaps, raiseAmbient } from './capability-sets';
import { capNames } from './capabilities';
import { debug } from '../log';
import { isErrno } from '../sys/libc';
import { readProcFile } from './proc-file';

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
      throw new Error(`fchown(stdio fd ${fd} → uid ${uid}): ${code ?? (err as Error).message}`, { cause: err });
    }
  }
}

let setgroupsDeny: boolean | undefined;

/**
 * Reads this user namespace's setgroups policy, once (it cannot change
 * afterwards), through the runtime's procfs handle: a file the container put
 * over its /proc/self/setgroups must not make tsrun keep the init's groups.
 * The init calls it before it waits for start, while it still holds the handle.
 */
export function readSetgroupsPolicy(): boolean {
  if (setgroupsDeny !== undefined) return setgroupsDeny;
  try {
    setgroupsDeny = readProcFile('/proc/self/setgroups').trim() === 'deny';
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
    setgroupsDeny = false; // kernels before 3.19: setgroups always allowed
  }
  return setgroupsDeny;
}

/** The groups to set: the additionalGids (none is an empty list), or undefined where setgroups is denied. */
function groupsToSet(user: User): number[] | undefined {
  // Also with no additionalGids: the init must not pass on the groups it inherited.
  const gids = user.additionalGids ?? [];
  if (!readSetgroupsPolicy()) return gids;
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
  /** The sets to capset after the switch, and the ambient caps the kernel will raise. */
  caps: { effective: bigint; permitted: bigint; inheritable: bigint; ambient: bigint };
}

/**
 * The part of the user switch that can come first, while still root and
 * before any seccomp filter: the bounding set (needs CAP_SETPCAP), stdio
 * handed to the user, the umask. The rest (UserSwitch) must be done in order
 * on the thread that will execve: by tsrun_finish, or by applyUser.
 */
export function prepareUserSwitch(user: User, capabilities: LinuxCapabilities | undefined): UserSwitch {
  // No capabilities object means no capabilities, the bounding set included, as in runc: keeping the
  // runtime's own would hand a container every capability of its caller.
  const plan = planCaps(capabilities ?? {});
  dropBoundingSet(plan.bounding);
  giveStdioTo(user.uid);
  const groups = groupsToSet(user);
  if (user.umask !== undefined) umask(user.umask);
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
 * Without a capabilities object every set ends empty, as with empty lists.
 * A container's process gets the same from tsrun_finish, in native code.
 */
export function applyUser(user: User, capabilities: LinuxCapabilities | undefined): void {
  const s = prepareUserSwitch(user, capabilities);
  if (s.groups) setgroups(s.groups);
  setKeepCaps(true);
  setresgid(s.gid);
  setresuid(s.uid);
  setKeepCaps(false);
  capset(s.caps);
  raiseAmbient(s.caps.ambient);
}

export function applyNoNewPrivileges(on: boolean | undefined): void {
  if (on) setNoNewPrivs();
}
