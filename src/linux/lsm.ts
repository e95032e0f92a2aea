// The Linux security modules a process can ask for: an AppArmor profile
// (process.apparmorProfile) and an SELinux label (process.selinuxLabel),
// which tsrun refuses rather than ignores.
import { readFileSync, existsSync } from 'node:fs';
import { closeQuiet, O } from '../sys/fs';
import { isErrno } from '../sys/libc';
import { openProcFile, readProcFile, writeProcFile } from './proc-file';

/** Whether AppArmor is the host's LSM (runc's test: its sysfs parameter), for `features`. */
export function apparmorEnabled(): boolean {
  return sysfsSaysEnabled() ?? attrReadable() === true;
}

/** AppArmor's own parameter; undefined where no sysfs says (in a rootfs without /sys). */
function sysfsSaysEnabled(): boolean | undefined {
  try {
    return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    return undefined;
  }
}

/**
 * Whether this thread's AppArmor attr reads, through the runtime's procfs
 * handle: it reads only where AppArmor is the active LSM (EINVAL elsewhere).
 * undefined: the kernel has no attr/apparmor/ (before 5.8, or built without AppArmor).
 */
function attrReadable(): boolean | undefined {
  try {
    readProcFile('/proc/thread-self/attr/apparmor/current');
    return true;
  } catch (err) {
    return isErrno(err, 'ENOENT') ? undefined : false;
  }
}

const NOT_LOADED =
  'no profile of that name is loaded (/sys/kernel/security/apparmor/profiles lists them; apparmor_parser -r loads one)';

/**
 * Asks AppArmor to confine the next execve of this thread with `profile`
 * (runc's aa_change_onexec). Called in the container's mount namespace: the
 * kernel is asked through the procfs handle, not the container's /sys, which
 * the bundle controls; only a kernel without attr/apparmor/ needs sysfs.
 */
export function applyApparmor(profile: string | undefined): void {
  if (!profile) return;
  if (!(attrReadable() ?? sysfsSaysEnabled())) {
    throw new Error(
      `apparmor profile "${profile}" specified (process.apparmorProfile) but AppArmor is not enabled on the host`,
    );
  }
  // attr is per thread: thread-self, not self.
  const modern = '/proc/thread-self/attr/apparmor/exec';
  try {
    writeProcFile(procFileExists(modern) ? modern : '/proc/thread-self/attr/exec', `exec ${profile}`);
  } catch (err) {
    // The kernel's ENOENT: no loaded profile has that name.
    const why = isErrno(err, 'ENOENT') ? `: ${NOT_LOADED}` : '';
    throw new Error(`apparmor profile "${profile}" (process.apparmorProfile): ${(err as Error).message}${why}`, {
      cause: err,
    });
  }
}

/** Whether the kernel has a /proc file, asked through the runtime's procfs handle. */
function procFileExists(path: string): boolean {
  try {
    closeQuiet(openProcFile(path, O.PATH));
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
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
