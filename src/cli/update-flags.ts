// runc update's resource flags (--memory 100m, --cpu-quota …) → the
// LinuxResources they change; runtime/update.ts applies it, as it applies
// the library's update() object.
import { InvalidInputError } from '../errors';
import type { LinuxResources } from '../spec/types';

/** runc's (docker/go-units) RAMInBytes: "100m", "1.5g", "64KiB", "512" — binary multiples. */
export function parseRamSize(text: string): number {
  if (text === '-1') return -1;
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!m || !Number.isFinite(n)) throw new Error(`invalid size: '${text}'`);
  const power = m[2] ? 'kmgtp'.indexOf(m[2].toLowerCase()) + 1 : 0;
  return Math.trunc(n * 1024 ** power);
}

/** runc update's command-line flags, as given (strings, unparsed). */
export interface UpdateFlags {
  blkioWeight?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuShare?: string;
  cpuRtPeriod?: string;
  cpuRtRuntime?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  kernelMemory?: string;
  kernelMemoryTcp?: string;
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  pidsLimit?: string;
}

function integer(flag: string, text: string, min: number): number {
  if (!/^-?\d+$/.test(text.trim()) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw new InvalidInputError(
      `invalid value for ${flag}: ${JSON.stringify(text)} is not ${min >= 0 ? 'an unsigned' : 'an'} integer`,
    );
  }
  return Number(text);
}

function size(flag: string, text: string): number {
  try {
    return parseRamSize(text);
  } catch (e) {
    throw new InvalidInputError(`invalid value for ${flag}: ${(e as Error).message}`);
  }
}

/** The flags → a LinuxResources holding only what they change. */
export function resourcesFromFlags(f: UpdateFlags): LinuxResources {
  const memory: NonNullable<LinuxResources['memory']> = {};
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  const r: LinuxResources = {};
  const set = <T>(v: string | undefined, parse: (s: string) => T, put: (x: T) => void) => {
    if (v !== undefined && v !== '') put(parse(v));
  };
  set(
    f.blkioWeight,
    (s) => integer('blkio-weight', s, 0),
    (x) => (r.blockIO = { weight: x }),
  );
  set(
    f.cpusetCpus,
    (s) => s,
    (x) => (cpu.cpus = x),
  );
  set(
    f.cpusetMems,
    (s) => s,
    (x) => (cpu.mems = x),
  );
  set(
    f.cpuPeriod,
    (s) => integer('cpu-period', s, 0),
    (x) => (cpu.period = x),
  );
  set(
    f.cpuRtPeriod,
    (s) => integer('cpu-rt-period', s, 0),
    (x) => (cpu.realtimePeriod = x),
  );
  set(
    f.cpuShare,
    (s) => integer('cpu-share', s, 0),
    (x) => (cpu.shares = x),
  );
  set(
    f.cpuQuota,
    (s) => integer('cpu-quota', s, Number.MIN_SAFE_INTEGER),
    (x) => (cpu.quota = x),
  );
  set(
    f.cpuRtRuntime,
    (s) => integer('cpu-rt-runtime', s, Number.MIN_SAFE_INTEGER),
    (x) => (cpu.realtimeRuntime = x),
  );
  set(
    f.memory,
    (s) => size('memory', s),
    (x) => (memory.limit = x),
  );
  set(
    f.memorySwap,
    (s) => size('memory-swap', s),
    (x) => (memory.swap = x),
  );
  set(
    f.kernelMemory,
    (s) => size('kernel-memory', s),
    (x) => (memory.kernel = x),
  );
  set(
    f.kernelMemoryTcp,
    (s) => size('kernel-memory-tcp', s),
    (x) => (memory.kernelTCP = x),
  );
  set(
    f.memoryReservation,
    (s) => size('memory-reservation', s),
    (x) => (memory.reservation = x),
  );
  set(
    f.pidsLimit,
    (s) => integer('pids-limit', s, Number.MIN_SAFE_INTEGER),
    (x) => (r.pids = { limit: x }),
  );
  if (Object.keys(memory).length > 0) r.memory = memory;
  if (Object.keys(cpu).length > 0) r.cpu = cpu;
  return r;
}
