// The one place libc is loaded. Every other src/sys module declares its
// functions against `libc` and reports failures through `SysError`.
import koffi from 'koffi';
import { SysError } from './errno';
import { phase } from '../log/phase';

export { koffi };
export const libc = koffi.load('libc.so.6');

/** Shared by the modules that issue ioctls (terminals, namespaces); variadic as in libc. */
export const ioctl = libc.func('int ioctl(int fd, unsigned long request, ...)');
phase('koffi.libc'); // koffi evaluated, libc loaded

export { errnoName, SysError } from './errno';

export function lastErrno(): number {
  return koffi.errno();
}

const EINTR = 4;

/** Retries a call interrupted by a signal; node's own signal handlers can cause that. */
export function retryEintr<T extends number | bigint>(fn: () => T): T {
  for (;;) {
    const ret = fn();
    if (!(ret < 0 && lastErrno() === EINTR)) return ret;
  }
}

/** Throws SysError when a libc call returned -1 (or a negative value). */
export function check<T extends number | bigint>(ret: T, call: string, arg: string): T {
  if (ret < 0) throw new SysError(call, arg, koffi.errno());
  return ret;
}

export function isErrno(err: unknown, name: string): boolean {
  return err instanceof SysError && err.code === name;
}
