// waitpid(2): node cannot wait for processes it did not spawn through libuv.
import { constants } from 'node:os';
import { libc, check } from './libc';

const _waitpid = libc.func('int waitpid(int pid, _Out_ int *status, int options)');

export const WNOHANG = 1;

export interface WaitResult {
  pid: number;
  /** Exit status, or undefined when killed by a signal. */
  code?: number;
  signal?: number;
}

const signalNames: Record<number, string> = {};
for (const [name, n] of Object.entries(constants.signals)) signalNames[n] ??= name;

/** SIGSEGV for 11; "signal N" for one without a name. */
export function signalName(n: number): string {
  return signalNames[n] ?? `signal ${n}`;
}

function decode(pid: number, status: number): WaitResult {
  const sig = status & 0x7f;
  if (sig === 0) return { pid, code: (status >> 8) & 0xff };
  return { pid, signal: sig };
}

/** Blocking wait for one child (pid -1: any); retries EINTR. */
export function waitpid(pid: number, options = 0): WaitResult | undefined {
  for (;;) {
    const status = [0];
    const ret = _waitpid(pid, status, options) as number;
    if (ret === 0) return undefined;
    if (ret > 0) return decode(ret, status[0]);
    try {
      check(ret, 'waitpid', String(pid));
    } catch (e) {
      if ((e as { code?: string }).code === 'EINTR') continue;
      throw e;
    }
  }
}

/** The same wait on a koffi worker thread, so the event loop (signal forwarding) keeps running. */
export function waitpidAsync(pid: number): Promise<WaitResult> {
  return new Promise((resolve, reject) => {
    const status = [0];
    _waitpid.async(pid, status, 0, (err: unknown, ret: number) => {
      if (err) return reject(err);
      if (ret < 0) return reject(new Error(`waitpid(${pid}) failed`));
      resolve(decode(ret, status[0]));
    });
  });
}
