// The session keyring: runc gives each container its own unless
// --no-new-keyring, so containers do not share the host's keys.
import { libc, lastErrno, errnoName } from './libc';

const SYS_keyctl = 250;
const KEYCTL_JOIN_SESSION_KEYRING = 1;
const _keyctl = libc.func('long syscall(long nr, int op, const char *name)');

export function joinSessionKeyring(name: string): void {
  if ((_keyctl(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name) as number) >= 0) return;
  const err = lastErrno();
  // Kernels without keyrings, or keyrings disabled by a seccomp profile, are fine (as for runc).
  if (errnoName(err) === 'ENOSYS' || errnoName(err) === 'EPERM') return;
  throw new Error(`keyctl(KEYCTL_JOIN_SESSION_KEYRING, ${name}): ${errnoName(err)}`);
}
