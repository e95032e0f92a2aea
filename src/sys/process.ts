// Credentials, capabilities, prctl, resource limits, umask and sessions of
// the calling thread. Everything here acts on the CALLING THREAD only: the
// container init calls it on node's main thread, the one that will execve.
import { arch } from 'node:process';
import { libc, check } from './libc';

// glibc's setresuid/setresgid/setgroups broadcast the change to every thread
// with a signal (setxid); inside a user namespace a refused change on any
// node thread aborts the process. The raw syscalls change this thread only.
const SYSCALLS: Record<string, { setgroups: number; setresuid: number; setresgid: number }> = {
  x64: { setgroups: 116, setresuid: 117, setresgid: 119 },
  arm64: { setgroups: 159, setresuid: 147, setresgid: 149 },
};
function sysno(name: 'setgroups' | 'setresuid' | 'setresgid'): number {
  const table = SYSCALLS[arch];
  if (!table) throw new Error(`tsrun: no ${name} syscall number for architecture ${arch}`);
  return table[name];
}

const _syscall = libc.func('long syscall(long nr, ...)');
const _capget = libc.func('int capget(void *hdr, _Inout_ uint32_t *data)');
const _capset = libc.func('int capset(void *hdr, const uint32_t *data)');
const _prctl = libc.func(
  'int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)',
);
const _prlimit = libc.func('int prlimit(int pid, int resource, const uint64_t *newLimit, _Out_ uint64_t *oldLimit)');
const _umask = libc.func('uint32_t umask(uint32_t mask)');
const _setsid = libc.func('int setsid()');
const _getpid = libc.func('int getpid()');

export function setgroups(gids: number[]): void {
  const list = Uint32Array.from(gids);
  const ret = _syscall(sysno('setgroups'), 'long', list.length, 'const uint32_t *', list);
  check(Number(ret), 'setgroups', `[${gids.join(',')}]`);
}

export function setresgid(gid: number): void {
  check(Number(_syscall(sysno('setresgid'), 'long', gid, 'long', gid, 'long', gid)), 'setresgid', String(gid));
}

export function setresuid(uid: number): void {
  check(Number(_syscall(sysno('setresuid'), 'long', uid, 'long', uid, 'long', uid)), 'setresuid', String(uid));
}

// ---- capabilities (capget/capset are per-thread syscalls in glibc too) ----

const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

export interface CapSets {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}

function capHeader(): Buffer {
  const hdr = Buffer.alloc(8);
  hdr.writeUInt32LE(LINUX_CAPABILITY_VERSION_3, 0);
  hdr.writeInt32LE(0, 4); // 0 = the calling thread
  return hdr;
}

const lo = (v: bigint) => Number(v & 0xffffffffn);
const hi = (v: bigint) => Number((v >> 32n) & 0xffffffffn);
const join64 = (l: number, h: number) => (BigInt(h >>> 0) << 32n) | BigInt(l >>> 0);

export function capget(): CapSets {
  // Two struct __user_cap_data_struct {effective, permitted, inheritable}.
  const data = new Uint32Array(6);
  check(_capget(capHeader(), data), 'capget', 'self');
  return {
    effective: join64(data[0], data[3]),
    permitted: join64(data[1], data[4]),
    inheritable: join64(data[2], data[5]),
  };
}

export function capset(sets: CapSets): void {
  const data = Uint32Array.from([
    lo(sets.effective),
    lo(sets.permitted),
    lo(sets.inheritable),
    hi(sets.effective),
    hi(sets.permitted),
    hi(sets.inheritable),
  ]);
  check(_capset(capHeader(), data), 'capset', capsetArg(sets));
}

/** How a failed capset names its argument (also for the native one, sys/native.ts). */
export function capsetArg(sets: CapSets): string {
  return `eff=${sets.effective.toString(16)} prm=${sets.permitted.toString(16)} inh=${sets.inheritable.toString(16)}`;
}

// ---- prctl ----

const PR_SET_KEEPCAPS = 8;
const PR_CAPBSET_READ = 23;
const PR_CAPBSET_DROP = 24;
const PR_SET_NO_NEW_PRIVS = 38;
const PR_GET_NO_NEW_PRIVS = 39;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_RAISE = 2;
const PR_CAP_AMBIENT_CLEAR_ALL = 4;

export function setKeepCaps(on: boolean): void {
  check(_prctl(PR_SET_KEEPCAPS, on ? 1 : 0, 0, 0, 0), 'prctl', `PR_SET_KEEPCAPS, ${on ? 1 : 0}`);
}

export function capBoundingHas(cap: number): boolean {
  return check(_prctl(PR_CAPBSET_READ, cap, 0, 0, 0), 'prctl', `PR_CAPBSET_READ, ${cap}`) === 1;
}

export function capBoundingDrop(cap: number, name = String(cap)): void {
  check(_prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), 'prctl', `PR_CAPBSET_DROP, ${name}`);
}

export function ambientClearAll(): void {
  check(_prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), 'prctl', 'PR_CAP_AMBIENT_CLEAR_ALL');
}

export function ambientRaise(cap: number, name = String(cap)): void {
  check(_prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0), 'prctl', `PR_CAP_AMBIENT_RAISE, ${name}`);
}

export function setNoNewPrivs(): void {
  check(_prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 'prctl', 'PR_SET_NO_NEW_PRIVS, 1');
}

export function getNoNewPrivs(): boolean {
  return check(_prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 'prctl', 'PR_GET_NO_NEW_PRIVS') === 1;
}

// ---- resource limits ----

export const RLIM_INFINITY = 0xffffffffffffffffn;

/** prlimit(2) on this process (limits are per-process, not per-thread). */
export function setRlimit(resource: number, soft: bigint, hard: bigint, name = String(resource)): void {
  const limit = new BigUint64Array([soft, hard]);
  check(_prlimit(0, resource, limit, null), 'prlimit', `${name}, soft=${soft}, hard=${hard}`);
}

export function getRlimit(resource: number, name = String(resource)): { soft: bigint; hard: bigint } {
  const old = new BigUint64Array(2);
  check(_prlimit(0, resource, null, old), 'prlimit', name);
  return { soft: old[0], hard: old[1] };
}

// ---- misc ----

/** Sets the umask and returns the previous one. */
export function umask(mask: number): number {
  return _umask(mask);
}

/** setsid(2); returns the new session id. */
export function setsid(): number {
  return check(_setsid(), 'setsid', `pid ${_getpid()}`);
}

const PR_SET_DUMPABLE = 4;
const PR_SET_CHILD_SUBREAPER = 36;

/** A non-dumpable process cannot be ptraced or have its /proc/<pid>/exe opened by others. */
export function setDumpable(on: boolean): void {
  check(_prctl(PR_SET_DUMPABLE, on ? 1 : 0, 0, 0, 0), 'prctl', 'PR_SET_DUMPABLE');
}

/** Orphaned descendants are reparented to this process instead of pid 1. */
export function setChildSubreaper(): void {
  check(_prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 'prctl', 'PR_SET_CHILD_SUBREAPER');
}
