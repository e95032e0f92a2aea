// The one place libc is loaded. Every other src/sys module declares its
// functions against `libc` and reports failures through `SysError`.
import koffi from 'koffi';
import { constants } from 'node:os';

export { koffi };
export const libc = koffi.load('libc.so.6');

/** Shared by the modules that issue ioctls (terminals, namespaces); variadic as in libc. */
export const ioctl = libc.func('int ioctl(int fd, unsigned long request, ...)');

const errnoNames: Record<number, string> = {};
for (const [name, value] of Object.entries(constants.errno)) {
  if (errnoNames[value] === undefined) errnoNames[value] = name;
}

export function errnoName(errno: number): string {
  return errnoNames[errno] ?? `errno ${errno}`;
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

export function lastErrno(): number {
  return koffi.errno();
}

/** Throws SysError when a libc call returned -1 (or a negative value). */
export function check<T extends number | bigint>(ret: T, call: string, arg: string): T {
  if (ret < 0) throw new SysError(call, arg, koffi.errno());
  return ret;
}

export function isErrno(err: unknown, name: string): boolean {
  return err instanceof SysError && err.code === name;
}
