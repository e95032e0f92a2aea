// process.rlimits → prlimit(2).
import type { POSIXRlimit } from '../spec/types';
import { setRlimit, RLIM_INFINITY } from '../sys/process';

export const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

/**
 * JSON numbers above 2^53 arrive rounded: 18446744073709551615 (RLIM_INFINITY)
 * parses as 2^64. Anything at or beyond 2^64 - 1 means unlimited.
 */
export function rlimValue(v: number): bigint {
  if (v >= 2 ** 64 - 1) return RLIM_INFINITY;
  return BigInt(Math.trunc(v));
}

/** Must run before the user switch: raising a hard limit needs CAP_SYS_RESOURCE. */
export function applyRlimits(rlimits: POSIXRlimit[] | undefined): void {
  (rlimits ?? []).forEach((r, i) => {
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw new Error(`process.rlimits[${i}]: unknown rlimit type "${r.type}"`);
    setRlimit(resource, rlimValue(r.soft), rlimValue(r.hard), r.type);
  });
}
