// The container process's credentials, set by the init on the thread that
// will execve (the raw setres*id calls, capset and no_new_privs are
// per-thread): supplementary groups, gid and uid with the capability sets
// kept across the switch, umask, no_new_privs.
import { readFileSync, fstatSync, fchownSync } from 'node:fs';
import type { User, LinuxCapabilities } from '../spec/types';
import { isErrno } from '../sys/libc';
import { setgroups, setresgid, setresuid, capset, setKeepCaps, setNoNewPrivs, umask } from '../sys/process';
import { dropBoundingSet, planCaps, raiseAmbient } from './capability-sets';

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

function setgroupsDenied(): boolean {
  try {
    return readFileSync('/proc/self/setgroups', 'utf8').trim() === 'deny';
  } catch {
    return false;
  }
}

function applyGroups(user: User): void {
  const gids = user.additionalGids ?? [];
  try {
    // Also with no additionalGids: the init must not pass on the groups it inherited.
    setgroups(gids);
  } catch (err) {
    if (!isErrno(err, 'EPERM') || !setgroupsDenied()) throw err;
    if (gids.length > 0) {
      throw new Error(
        `cannot set additional groups [${gids.join(', ')}] (process.user.additionalGids): ` +
          'setgroups is denied in this user namespace (/proc/self/setgroups is "deny")',
        { cause: err },
      );
    }
    // Nothing was asked for and the kernel forbids changing groups: keep them.
  }
}

/**
 * Switches to the container user and sets the capability sets. Order matters:
 * the bounding set is dropped while still root (needs CAP_SETPCAP), caps are
 * kept across setresuid with PR_SET_KEEPCAPS, then capset and ambient.
 * Without a capabilities object nothing is changed about capabilities (a
 * non-root user then loses them all at setresuid, as the kernel does).
 */
export function applyUser(user: User, capabilities: LinuxCapabilities | undefined): void {
  const plan = capabilities ? planCaps(capabilities) : undefined;
  if (plan) dropBoundingSet(plan.bounding);
  giveStdioTo(user.uid);
  applyGroups(user);
  if (plan) setKeepCaps(true);
  setresgid(user.gid);
  setresuid(user.uid);
  if (plan) {
    setKeepCaps(false);
    capset({ effective: plan.effective, permitted: plan.permitted, inheritable: plan.inheritable });
    raiseAmbient(plan.ambient);
  }
  if (user.umask !== undefined) umask(user.umask);
}

export function applyNoNewPrivileges(on: boolean | undefined): void {
  if (on) setNoNewPrivs();
}
