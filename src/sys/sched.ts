// Scheduling attributes of the calling thread (the init's main thread, which
// becomes the container's process at execve): policy, I/O priority, CPU
// affinity, execution domain.
import { koffi, libc, check } from './libc';

const SYS_sched_setattr = 314;
const SYS_ioprio_set = 251;

const SchedAttr = koffi.struct('tsrun_sched_attr', {
  size: 'uint32_t',
  sched_policy: 'uint32_t',
  sched_flags: 'uint64_t',
  sched_nice: 'int32_t',
  sched_priority: 'uint32_t',
  sched_runtime: 'uint64_t',
  sched_deadline: 'uint64_t',
  sched_period: 'uint64_t',
  sched_util_min: 'uint32_t',
  sched_util_max: 'uint32_t',
});
const _schedSetattr = libc.func('long syscall(long nr, int pid, tsrun_sched_attr *attr, unsigned int flags)');
const _ioprioSet = libc.func('long syscall(long nr, int which, int who, int ioprio)');
const _setaffinity = libc.func('int sched_setaffinity(int pid, size_t size, const uint8_t *mask)');
const _getaffinity = libc.func('int sched_getaffinity(int pid, size_t size, _Out_ uint8_t *mask)');
const _personality = libc.func('int personality(unsigned long persona)');

export interface SchedAttrs {
  policy: number;
  flags: bigint;
  nice: number;
  priority: number;
  runtime: bigint;
  deadline: bigint;
  period: bigint;
}

export function schedSetattr(a: SchedAttrs, label: string): void {
  const attr = {
    size: koffi.sizeof(SchedAttr),
    sched_policy: a.policy,
    sched_flags: a.flags,
    sched_nice: a.nice,
    sched_priority: a.priority,
    sched_runtime: a.runtime,
    sched_deadline: a.deadline,
    sched_period: a.period,
    sched_util_min: 0,
    sched_util_max: 0,
  };
  check(_schedSetattr(SYS_sched_setattr, 0, attr, 0) as number, 'sched_setattr', label);
}

const IOPRIO_WHO_PROCESS = 1;

export function ioprioSet(ioprio: number, label: string): void {
  check(_ioprioSet(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, ioprio) as number, 'ioprio_set', label);
}

/** pid 0: the calling thread. */
export function setAffinity(pid: number, mask: Uint8Array, label: string): void {
  check(_setaffinity(pid, mask.length, mask), 'sched_setaffinity', label);
}

/** The affinity of `pid` (0: the calling thread), as a mask of `bytes` bytes (enough for the kernel's CPUs). */
export function getAffinity(pid: number, bytes: number): Uint8Array {
  const mask = new Uint8Array(bytes);
  check(_getaffinity(pid, bytes, mask), 'sched_getaffinity', String(pid));
  return mask;
}

export function personality(persona: number, label: string): void {
  check(_personality(persona), 'personality', label);
}
