// seccomp(2): install a BPF filter on the calling thread, and ask the kernel
// which flags and actions it supports. glibc has no wrapper, so syscall(2).
import { koffi, libc, check, lastErrno, errnoName } from './libc';

const SYS_seccomp: Record<string, number> = { x64: 317, arm64: 277, ia32: 354, arm: 383 };
const SECCOMP_SET_MODE_FILTER = 1;
const SECCOMP_GET_ACTION_AVAIL = 2;
const EFAULT = 14;

const _seccomp = libc.func('long syscall(long nr, unsigned int op, unsigned int flags, void *args)');

function nr(): number {
  const n = SYS_seccomp[process.arch];
  if (n === undefined) throw new Error(`seccomp: no syscall number for architecture ${process.arch}`);
  return n;
}

/**
 * seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog) with `program` a
 * struct sock_filter[]. Returns the listener fd with
 * SECCOMP_FILTER_FLAG_NEW_LISTENER, else 0. Applies to the calling thread
 * (all threads with TSYNC).
 */
export function seccompSetModeFilter(flags: number, program: Buffer): number {
  if (program.length === 0 || program.length % 8 !== 0)
    throw new Error(`seccomp: bad BPF program size ${program.length}`);
  // The filter must stay put in native memory while the kernel copies it.
  const filter = koffi.alloc('uint8_t', program.length);
  try {
    Buffer.from(koffi.view(filter, program.length)).set(program);
    // struct sock_fprog { unsigned short len; struct sock_filter *filter; } (16 bytes on 64-bit)
    const fprog = Buffer.alloc(16);
    fprog.writeUInt16LE(program.length / 8, 0);
    fprog.writeBigUInt64LE(BigInt(koffi.address(filter)), 8);
    return Number(
      check(
        _seccomp(nr(), SECCOMP_SET_MODE_FILTER, flags >>> 0, fprog) as number,
        'seccomp',
        `SET_MODE_FILTER, flags 0x${flags.toString(16)}`,
      ),
    );
  } finally {
    koffi.free(filter);
  }
}

/**
 * Whether the kernel knows a SECCOMP_FILTER_FLAG_*: with a NULL program it
 * fails with EFAULT when the flag is accepted, EINVAL when it is not.
 */
export function seccompFlagSupported(flag: number): boolean {
  const ret = Number(_seccomp(nr(), SECCOMP_SET_MODE_FILTER, flag >>> 0, null));
  if (ret >= 0) throw new Error('seccomp: a NULL filter was accepted');
  const errno = lastErrno();
  if (errno === EFAULT) return true;
  if (errno === 22) return false;
  throw new Error(`seccomp(SET_MODE_FILTER, probe flag 0x${flag.toString(16)}): ${errnoName(errno)}`);
}

/** SECCOMP_GET_ACTION_AVAIL for a SECCOMP_RET_* action. */
export function seccompActionAvailable(action: number): boolean {
  const buf = Buffer.alloc(4);
  buf.writeUInt32LE(action >>> 0, 0);
  return Number(_seccomp(nr(), SECCOMP_GET_ACTION_AVAIL, 0, buf)) === 0;
}
