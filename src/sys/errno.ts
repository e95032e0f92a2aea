// errno numbers to names, and the error of a failed kernel call. No FFI here:
// the commands that load none (state, kill) report errors with these too.
import { constants } from 'node:os';

const errnoNames: Record<number, string> = {};
for (const [name, value] of Object.entries(constants.errno)) {
  if (errnoNames[value] === undefined) errnoNames[value] = name;
}

export function errnoName(errno: number): string {
  return errnoNames[errno] ?? `errno ${errno}`;
}

/** strerror(3)'s words for the errnos whose text tools and runc's tests look for (Go prints these). */
const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links',
  EBUSY: 'device or resource busy',
  EINVAL: 'invalid argument',
  ESRCH: 'no such process',
  EOPNOTSUPP: 'operation not supported',
};

export function errnoText(code: string): string | undefined {
  return ERRNO_TEXT[code];
}

/** A failed system call: `mount(proc → /proc): EPERM`. */
export class SysError extends Error {
  constructor(
    readonly call: string,
    readonly arg: string,
    readonly errno: number,
  ) {
    super(`${call}(${arg}): ${errnoName(errno)}`);
    this.name = 'SysError';
  }
  get code(): string {
    return errnoName(this.errno);
  }
}
