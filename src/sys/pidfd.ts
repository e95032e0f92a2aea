// pidfd_open(2): a descriptor that names one process for as long as it is
// held, whatever pid the kernel later reuses (--pidfd-socket hands it out).
import { libc, check } from './libc';

// The same number on every architecture (the generic syscall table).
const SYS_pidfd_open = 434;
const _pidfdOpen = libc.func('long syscall(long nr, int pid, unsigned int flags)');

/** A pidfd of `pid` (in our pid namespace), close-on-exec as the kernel makes it. */
export function pidfdOpen(pid: number): number {
  return Number(check(_pidfdOpen(SYS_pidfd_open, pid, 0) as number, 'pidfd_open', String(pid)));
}
