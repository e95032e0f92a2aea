// process.scheduler, process.ioPriority, process.execCPUAffinity and
// linux.personality: applied to the init's main thread just before execve,
// so they are what the container's program starts with.
import type { Scheduler, LinuxIOPriority, LinuxPersonality } from '../spec/types';
import { schedSetattr, ioprioSet, setAffinity, personality } from '../sys/sched';
import { listMask } from './id-list';

const POLICY: Record<Scheduler['policy'], number> = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_ISO: 4,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
};

const FLAG: Record<NonNullable<Scheduler['flags']>[number], bigint> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01n,
  SCHED_FLAG_RECLAIM: 0x02n,
  SCHED_FLAG_DL_OVERRUN: 0x04n,
  SCHED_FLAG_KEEP_POLICY: 0x08n,
  SCHED_FLAG_KEEP_PARAMS: 0x10n,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20n,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40n,
};

export function applyScheduler(s: Scheduler | undefined): void {
  if (!s) return;
  schedSetattr(
    {
      policy: POLICY[s.policy],
      flags: (s.flags ?? []).reduce((acc, f) => acc | FLAG[f], 0n),
      nice: s.nice ?? 0,
      priority: s.priority ?? 0,
      runtime: BigInt(s.runtime ?? 0),
      deadline: BigInt(s.deadline ?? 0),
      period: BigInt(s.period ?? 0),
    },
    s.policy,
  );
}

const IOPRIO_CLASS: Record<LinuxIOPriority['class'], number> = {
  IOPRIO_CLASS_RT: 1,
  IOPRIO_CLASS_BE: 2,
  IOPRIO_CLASS_IDLE: 3,
};

export function applyIoPriority(p: LinuxIOPriority | undefined): void {
  if (!p) return;
  ioprioSet((IOPRIO_CLASS[p.class] << 13) | p.priority, `${p.class}, ${p.priority}`);
}

/** "0-3,7" → a cpu_set_t bit mask. */
export function cpuListMask(list: string, where: string): Uint8Array {
  return listMask(list, 128, 'CPU', where);
}

export function applyCpuAffinity(pid: number, list: string | undefined, where: string): void {
  if (list) setAffinity(pid, cpuListMask(list, where), list);
}

const PER_LINUX = 0x0000;
const PER_LINUX32 = 0x0008;

export function applyPersonality(p: LinuxPersonality | undefined): void {
  if (!p) return;
  personality(p.domain === 'LINUX32' ? PER_LINUX32 : PER_LINUX, p.domain);
}
