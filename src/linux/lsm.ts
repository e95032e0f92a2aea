// The Linux security modules a process can ask for: an AppArmor profile
// (process.apparmorProfile) and an SELinux label (process.selinuxLabel),
// which tsrun refuses rather than ignores.
import { readFileSync, existsSync } from 'node:fs';
import { closeQuiet, O } from '../sys/fs';
import { isErrno } from '../sys/libc';
import { openProcFile, readProcFile, writeProcFile } from './proc-file';

export function apparmorEnabled(): boolean {
  try {
    return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    // No sysfs (e.g. after pivot_root into a rootfs without /sys): the
    // AppArmor attr files only read when AppArmor is the active LSM.
    try {
      readProcFile('/proc/thread-self/attr/apparmor/current');
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
    throw new Error(
      `apparmor profile "${profile}" specified (process.apparmorProfile) but AppArmor is not enabled on the host`,
    );
  }
  // attr is per thread: thread-self, not self.
  const modern = '/proc/thread-self/attr/apparmor/exec';
  writeProcFile(procFileExists(modern) ? modern : '/proc/thread-self/attr/exec', `exec ${profile}`);
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
