// process.scheduler, process.ioPriority and linux.personality: applied to
// the main thread of the init and of exec's process just before execve, so
// they are what the container's program starts with. CPU affinity: reset for
// every new process, process.execCPUAffinity for exec's (never the init's).
import type { Scheduler, LinuxIOPriority, LinuxPersonality, Process } from '../spec/types';
import { schedSetattr, ioprioSet, setAffinity, getAffinity, personality } from '../sys/sched';
import { InvalidInputError } from '../errors';
import { isErrno } from '../sys/libc';
import { warn, debug } from '../log';
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

/** The process's scheduling attributes, shared by the init and exec's process (the calling thread). */
export function applySchedulingAttrs(proc: Pick<Process, 'scheduler' | 'ioPriority'>, p?: LinuxPersonality): void {
  applyScheduler(proc.scheduler);
  applyIoPriority(proc.ioPriority);
  applyPersonality(p);
}

/** 64K CPUs, runc 1.4's bound (1.4.0 used 1024; the kernel clamps either to the same set here). */
const MASK_BYTES = (64 * 1024) / 8;

/**
 * As runc 1.4 (tryResetCPUAffinity): every bit of a 64K-CPU mask set. The
 * kernel clamps it to the CPUs that exist and to the task's cpuset, so a new
 * process gets what its cgroup allows, not the caller's (e.g. taskset's)
 * affinity; since Linux 6.2 joining a cpuset no longer resets it. A failure
 * is a warning there too.
 */
export function resetCpuAffinity(pid: number): void {
  try {
    setAffinity(pid, new Uint8Array(MASK_BYTES).fill(0xff), `${pid}, all CPUs`);
    debug('CPU affinity reset to all CPUs', { pid });
  } catch (e) {
    warn(`resetting the CPU affinity of pid ${pid} failed -- the container process may inherit tsrun's: ${String(e)}`);
  }
}

/** process.execCPUAffinity parsed: `where` names the JSON object ("/process/execCPUAffinity"). */
export interface ExecAffinity {
  initial?: { list: string; mask: Uint8Array };
  final?: { list: string; mask: Uint8Array };
  where: string;
}

export function execAffinity(aff: Process['execCPUAffinity'], where: string): ExecAffinity {
  const parse = (which: 'initial' | 'final') => {
    const list = aff?.[which];
    if (!list) return undefined;
    try {
      return { list, mask: cpuListMask(list, `${where}/${which}`) };
    } catch (e) {
      throw new InvalidInputError((e as Error).message);
    }
  };
  return { initial: parse('initial'), final: parse('final'), where };
}

/** EINVAL: no CPU of the list is there (or in the cpuset): said with the JSON path. */
function pin(pid: number, a: ExecAffinity, which: 'initial' | 'final'): void {
  const { list, mask } = a[which]!;
  try {
    setAffinity(pid, mask, `${pid}, ${list}`);
  } catch (e) {
    const why = isErrno(e, 'EINVAL') ? ': no CPU of the list is online and allowed' : '';
    throw new InvalidInputError(`${a.where}/${which} ${JSON.stringify(list)}${why} (${String((e as Error).message)})`);
  }
}

/**
 * Runs `clone` (the child is cloned from this thread) on the `initial` CPUs,
 * so that the child starts there and stays there until it is in the
 * container's cgroup (runc: a thread set aside for the clone); this thread
 * gets its own affinity back at once.
 */
export function withInitialAffinity<T>(a: ExecAffinity, clone: () => T): T {
  if (!a.initial) return clone();
  const own = getAffinity(0, MASK_BYTES);
  pin(0, a, 'initial');
  debug(`exec: CPU affinity ${a.initial.list} (initial, before the cgroup)`);
  try {
    return clone();
  } finally {
    setAffinity(0, own, "the caller's own");
  }
}

/**
 * Once the child is in the container's cgroup: `final`, or, with no
 * execCPUAffinity at all, the reset every new process gets (runc 1.2+).
 * With `initial` alone the affinity stays (config.md: the kernel decides).
 */
export function applyFinalAffinity(pid: number, a: ExecAffinity): void {
  if (a.final) {
    pin(pid, a, 'final');
    debug(`exec: CPU affinity ${a.final.list} (final, in the cgroup)`, { pid });
  } else if (!a.initial) resetCpuAffinity(pid);
}

const PER_LINUX = 0x0000;
const PER_LINUX32 = 0x0008;

export function applyPersonality(p: LinuxPersonality | undefined): void {
  if (!p) return;
  personality(p.domain === 'LINUX32' ? PER_LINUX32 : PER_LINUX, p.domain);
}
