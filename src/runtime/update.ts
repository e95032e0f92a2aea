// `update`: new resource limits for a live container, in runc's terms —
// a zero or empty value means "leave as it is", a rejected update leaves the
// previous values in place, and state.json keeps what was applied.
import { existsSync } from 'node:fs';
import { InvalidInputError, ContainerStateError } from '../errors';
import { warn } from '../log';
import type { LinuxResources } from '../spec/types';
import { CgroupError } from '../cgroups';
import { openContainerCgroup } from './container-cgroup';

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
    throw new InvalidInputError(`invalid value for ${flag}: ${JSON.stringify(text)} is not ${min >= 0 ? 'an unsigned' : 'an'} integer`);
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
  set(f.blkioWeight, (s) => integer('blkio-weight', s, 0), (x) => (r.blockIO = { weight: x }));
  set(f.cpusetCpus, (s) => s, (x) => (cpu.cpus = x));
  set(f.cpusetMems, (s) => s, (x) => (cpu.mems = x));
  set(f.cpuPeriod, (s) => integer('cpu-period', s, 0), (x) => (cpu.period = x));
  set(f.cpuRtPeriod, (s) => integer('cpu-rt-period', s, 0), (x) => (cpu.realtimePeriod = x));
  set(f.cpuShare, (s) => integer('cpu-share', s, 0), (x) => (cpu.shares = x));
  set(f.cpuQuota, (s) => integer('cpu-quota', s, Number.MIN_SAFE_INTEGER), (x) => (cpu.quota = x));
  set(f.cpuRtRuntime, (s) => integer('cpu-rt-runtime', s, Number.MIN_SAFE_INTEGER), (x) => (cpu.realtimeRuntime = x));
  set(f.memory, (s) => size('memory', s), (x) => (memory.limit = x));
  set(f.memorySwap, (s) => size('memory-swap', s), (x) => (memory.swap = x));
  set(f.kernelMemory, (s) => size('kernel-memory', s), (x) => (memory.kernel = x));
  set(f.kernelMemoryTcp, (s) => size('kernel-memory-tcp', s), (x) => (memory.kernelTCP = x));
  set(f.memoryReservation, (s) => size('memory-reservation', s), (x) => (memory.reservation = x));
  set(f.pidsLimit, (s) => integer('pids-limit', s, Number.MIN_SAFE_INTEGER), (x) => (r.pids = { limit: x }));
  if (Object.keys(memory).length > 0) r.memory = memory;
  if (Object.keys(cpu).length > 0) r.cpu = cpu;
  return r;
}

const isUnchanged = (v: unknown) => v === undefined || v === null || v === 0 || v === '';

/** Drops runc's "unchanged" values (0, ""), kernel memory (ignored, as runc does) and devices (runc's update cannot change them). */
export function normalizeUpdate(input: LinuxResources, previous: LinuxResources | undefined): LinuxResources {
  const r = JSON.parse(JSON.stringify(input ?? {})) as LinuxResources;
  if (typeof r !== 'object' || Array.isArray(r)) throw new InvalidInputError('update: the resources must be a JSON object');
  if (r.devices !== undefined) {
    warn('update: linux.resources.devices cannot be changed on a live container; ignored');
    delete r.devices;
  }
  const m = r.memory;
  if (m) {
    if (!isUnchanged(m.kernel) || !isUnchanged(m.kernelTCP)) warn('Kernel memory settings are ignored and will be removed');
    delete m.kernel;
    delete m.kernelTCP;
    for (const k of ['limit', 'reservation', 'swap'] as const) if (isUnchanged(m[k])) delete m[k];
    // A new memory+swap limit is checked against the limit in force.
    if (m.swap !== undefined && m.limit === undefined && previous?.memory?.limit) m.limit = previous.memory.limit;
    if (Object.keys(m).length === 0) delete r.memory;
  }
  const c = r.cpu;
  if (c) {
    for (const k of ['shares', 'quota', 'period', 'realtimeRuntime', 'realtimePeriod', 'cpus', 'mems'] as const) if (isUnchanged(c[k])) delete c[k];
    // runc: quota or period alone keeps the other at its previous value (cgroup v2 writes both at once).
    if (c.quota !== undefined && c.period === undefined && previous?.cpu?.period) c.period = previous.cpu.period;
    if (c.period !== undefined && c.quota === undefined && previous?.cpu?.quota) c.quota = previous.cpu.quota;
    if (Object.keys(c).length === 0) delete r.cpu;
  }
  if (r.blockIO && isUnchanged(r.blockIO.weight)) delete r.blockIO.weight;
  if (r.blockIO && Object.keys(r.blockIO).length === 0) delete r.blockIO;
  if (r.pids && isUnchanged(r.pids.limit)) delete r.pids;
  return r;
}

/** Applies the update and records it in state.json; the container stays locked throughout. */
export function updateContainer(root: string, id: string, resources: LinuxResources): void {
  const { container, saved, status, cgroup } = openContainerCgroup(root, id);
  try {
    if (status === 'stopped') throw new ContainerStateError('container not running');
    const update = normalizeUpdate(resources, cgroup.saved.resources);
    try {
      cgroup.set(update);
    } catch (e) {
      if (e instanceof CgroupError) throw new InvalidInputError(e.message);
      throw e;
    }
    saved.cgroup = cgroup.saved;
    container.write(saved);
  } finally {
    // A long-lived caller (the library) would otherwise hold the lock until it exits.
    container.unlock();
  }
}
