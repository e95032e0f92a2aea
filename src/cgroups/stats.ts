// Container statistics in the layout of runc's `events --stats` "data"
// object (runc's types/events.go), read from whichever version serves each
// controller. Counters beyond 2^53 stay exact as BigInt; serialize with
// statsToJson, which writes them as plain JSON integers like Go does.
import { readdirSync } from 'node:fs';
import { cgTryRead, readKeyed } from './files';
import { isCpuList } from './validate';

export type Num = number | bigint;

export interface ControllerDir {
  version: 1 | 2;
  dir: string;
}

export type Locate = (controller: string) => ControllerDir | undefined;

const MAX_UINT64 = 2n ** 64n - 1n;

function num(s: string | undefined): Num | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (t === 'max') return MAX_UINT64;
  if (!/^-?\d+$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : BigInt(t);
}

const read = (d: ControllerDir, file: string) => num(cgTryRead(d.dir, file));
const nums = (s: string | undefined) =>
  (s ?? '')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((x) => num(x) ?? 0);
const isZero = (v: unknown) => v === undefined || v === 0 || v === 0n || (Array.isArray(v) && v.length === 0);

/** Drops zero/empty values of Go's `omitempty` fields. */
function omitEmpty<T extends Record<string, unknown>>(obj: T, keys: (keyof T)[]): T {
  for (const k of keys) if (isZero(obj[k])) delete obj[k];
  return obj;
}

function expandList(s: string | undefined): number[] {
  const t = (s ?? '').trim();
  if (!t || !isCpuList(t)) return [];
  const out: number[] = [];
  for (const part of t.split(',')) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

function cpuStats(locate: Locate) {
  const usage: Record<string, unknown> = { kernel: 0, user: 0 };
  const throttling: Record<string, unknown> = {};
  const acct = locate('cpuacct');
  const cpu = locate('cpu');
  if (acct?.version === 1) {
    usage.total = read(acct, 'cpuacct.usage');
    usage.percpu = nums(cgTryRead(acct.dir, 'cpuacct.usage_percpu'));
    const all = (cgTryRead(acct.dir, 'cpuacct.usage_all') ?? '').trim().split('\n').slice(1).map(nums);
    usage.percpu_user = all.map((r) => r[1] ?? 0);
    usage.percpu_kernel = all.map((r) => r[2] ?? 0);
    const st = readKeyed(acct.dir, 'cpuacct.stat');
    const ticksToNs = 1e9 / 100;
    usage.user = (st.user ?? 0) * ticksToNs;
    usage.kernel = (st.system ?? 0) * ticksToNs;
  }
  if (cpu?.version === 1) {
    const st = readKeyed(cpu.dir, 'cpu.stat');
    throttling.periods = st.nr_periods;
    throttling.throttledPeriods = st.nr_throttled;
    throttling.throttledTime = st.throttled_time;
  } else if (cpu || locate('unified')) {
    // cpu.stat exists in every v2 cgroup, with or without the cpu controller.
    const d = cpu ?? locate('unified')!;
    const st = readKeyed(d.dir, 'cpu.stat');
    usage.total = (st.usage_usec ?? 0) * 1000;
    usage.user = (st.user_usec ?? 0) * 1000;
    usage.kernel = (st.system_usec ?? 0) * 1000;
    throttling.periods = st.nr_periods;
    throttling.throttledPeriods = st.nr_throttled;
    throttling.throttledTime = st.throttled_usec === undefined ? undefined : st.throttled_usec * 1000;
  }
  omitEmpty(usage, ['total', 'percpu', 'percpu_kernel', 'percpu_user']);
  // runc's types.Throttling spells these in camelCase, unlike the rest.
  omitEmpty(throttling, ['periods', 'throttledPeriods', 'throttledTime']);
  return { usage, throttling };
}

function cpusetStats(locate: Locate) {
  // runc reads cpuset statistics from v1 only (its fs2 driver has none): on v2 every field stays empty.
  const d = locate('cpuset')?.version === 1 ? locate('cpuset') : undefined;
  // runc's types.CPUSet: only cpus and mems are omitempty, the rest is always there.
  const out: Record<string, unknown> = {
    cpus: d ? expandList(cgTryRead(d.dir, 'cpuset.cpus')) : [],
    cpu_exclusive: 0,
    mems: d ? expandList(cgTryRead(d.dir, 'cpuset.mems')) : [],
    mem_hardwall: 0,
    mem_exclusive: 0,
    memory_migrate: 0,
    memory_spread_page: 0,
    memory_spread_slab: 0,
    memory_pressure: 0,
    sched_load_balance: 0,
    sched_relax_domain_level: 0,
  };
  if (d) {
    for (const [key, file] of [
      ['cpu_exclusive', 'cpu_exclusive'],
      ['mem_hardwall', 'mem_hardwall'],
      ['mem_exclusive', 'mem_exclusive'],
      ['memory_migrate', 'memory_migrate'],
      ['memory_spread_page', 'memory_spread_page'],
      ['memory_spread_slab', 'memory_spread_slab'],
      ['memory_pressure', 'memory_pressure'],
      ['sched_load_balance', 'sched_load_balance'],
      ['sched_relax_domain_level', 'sched_relax_domain_level'],
    ])
      out[key] = read(d, `cpuset.${file}`) ?? 0;
  }
  return omitEmpty(out, ['cpus', 'mems']);
}

function memoryEntry(d: ControllerDir, prefix: string, tcp = false) {
  const e: Record<string, unknown> = {
    limit: read(d, `${prefix}limit_in_bytes`) ?? 0,
    usage: read(d, `${prefix}usage_in_bytes`),
    max: read(d, `${prefix}max_usage_in_bytes`),
    failcnt: read(d, `${prefix}failcnt`) ?? 0,
  };
  if (tcp) e.usage ??= 0;
  return omitEmpty(e, ['usage', 'max']);
}

function memoryStats(locate: Locate) {
  const d = locate('memory');
  if (!d) return {};
  const raw = readKeyed(d.dir, 'memory.stat');
  if (d.version === 1) {
    return omitEmpty(
      {
        cache: raw.cache,
        usage: memoryEntry(d, 'memory.'),
        swap: memoryEntry(d, 'memory.memsw.'),
        kernel: memoryEntry(d, 'memory.kmem.'),
        kernelTCP: memoryEntry(d, 'memory.kmem.tcp.', true),
        raw,
      } as Record<string, unknown>,
      ['cache', 'raw'],
    );
  }
  const events = readKeyed(d.dir, 'memory.events');
  const usage = omitEmpty(
    {
      limit: read(d, 'memory.max') ?? 0,
      usage: read(d, 'memory.current'),
      max: read(d, 'memory.peak'),
      failcnt: events.max ?? 0,
    } as Record<string, unknown>,
    ['usage', 'max'],
  );
  const swap = v2SwapEntry(d, usage);
  return omitEmpty(
    {
      cache: raw.file,
      usage,
      swap,
      kernel: { limit: 0, failcnt: 0 },
      kernelTCP: { limit: 0, failcnt: 0 },
      raw,
    } as Record<string, unknown>,
    ['cache', 'raw'],
  );
}

const add = (a: Num, b: Num): Num => {
  const sum = BigInt(a) + BigInt(b);
  return sum <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(sum) : sum;
};

/**
 * runc's v2 swap entry: v1's memsw counted memory and swap together, so
 * runc reports memory.swap.current + memory.current, and swap.max +
 * memory.max unless unlimited; no peak (mem+swap has none).
 */
function v2SwapEntry(d: ControllerDir, mem: Record<string, unknown>): Record<string, unknown> {
  const swapUsage = read(d, 'memory.swap.current');
  // No swap accounting in this kernel: runc leaves the entry empty.
  if (swapUsage === undefined) return { limit: 0, failcnt: 0 };
  const swapLimit = read(d, 'memory.swap.max') ?? 0;
  const memLimit = (mem.limit as Num | undefined) ?? 0;
  return omitEmpty(
    {
      limit: swapLimit === MAX_UINT64 || memLimit === MAX_UINT64 ? MAX_UINT64 : add(swapLimit, memLimit),
      usage: add(swapUsage, (mem.usage as Num | undefined) ?? 0),
      failcnt: readKeyed(d.dir, 'memory.swap.events').max ?? 0,
    },
    ['usage'],
  );
}

function pidsStats(locate: Locate) {
  const d = locate('pids');
  if (!d) return {};
  const limit = read(d, 'pids.max');
  return omitEmpty(
    { current: read(d, 'pids.current'), limit: limit === MAX_UINT64 ? 0 : limit } as Record<string, unknown>,
    ['current', 'limit'],
  );
}

type BlkioEntry = { major: number; minor: number; op: string; value: Num };

function blkioV1(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3], value: num(m[4]) ?? 0 });
  }
  return out;
}

function blkioStats(locate: Locate) {
  const d = locate('blkio') ?? locate('io');
  if (!d) return {};
  const out: Record<string, BlkioEntry[]> = {};
  if (d.version === 1) {
    const first = (...files: string[]) =>
      files.map((f) => cgTryRead(d.dir, f)).find((t) => t !== undefined && t.trim() !== '' && t.trim() !== 'Total 0');
    out.ioServiceBytesRecursive = blkioV1(
      first(
        'blkio.io_service_bytes_recursive',
        'blkio.bfq.io_service_bytes_recursive',
        'blkio.throttle.io_service_bytes_recursive',
      ),
    );
    out.ioServicedRecursive = blkioV1(
      first('blkio.io_serviced_recursive', 'blkio.bfq.io_serviced_recursive', 'blkio.throttle.io_serviced_recursive'),
    );
  } else {
    out.ioServiceBytesRecursive = [];
    out.ioServicedRecursive = [];
    for (const line of (cgTryRead(d.dir, 'io.stat') ?? '').split('\n')) {
      const [dev, ...kv] = line.trim().split(/\s+/);
      const m = /^(\d+):(\d+)$/.exec(dev ?? '');
      if (!m) continue;
      const f = Object.fromEntries(kv.map((p) => p.split('=')).map(([k, v]) => [k, num(v) ?? 0]));
      const e = (op: string, value: Num | undefined) => ({
        major: Number(m[1]),
        minor: Number(m[2]),
        op,
        value: value ?? 0,
      });
      out.ioServiceBytesRecursive.push(e('Read', f.rbytes), e('Write', f.wbytes));
      out.ioServicedRecursive.push(e('Read', f.rios), e('Write', f.wios));
    }
  }
  for (const k of Object.keys(out)) {
    if (out[k].length === 0) delete out[k];
    // runc's types.BlkioEntry: every field is omitempty.
    else for (const e of out[k]) omitEmpty(e as unknown as Record<string, unknown>, ['major', 'minor', 'op', 'value']);
  }
  return out;
}

function hugetlbStats(locate: Locate) {
  const d = locate('hugetlb');
  const out: Record<string, unknown> = {};
  if (!d) return out;
  let files: string[];
  try {
    files = readdirSync(d.dir);
  } catch {
    return out;
  }
  const sizes = new Set(files.map((f) => /^hugetlb\.(\d+[KMGTP]B)\./.exec(f)?.[1]).filter((s): s is string => !!s));
  for (const size of sizes) {
    const entry =
      d.version === 1
        ? {
            usage: read(d, `hugetlb.${size}.usage_in_bytes`),
            max: read(d, `hugetlb.${size}.max_usage_in_bytes`),
            failcnt: read(d, `hugetlb.${size}.failcnt`) ?? 0,
          }
        : { usage: read(d, `hugetlb.${size}.current`), failcnt: readKeyed(d.dir, `hugetlb.${size}.events`).max ?? 0 };
    out[size] = omitEmpty(entry as Record<string, unknown>, ['usage', 'max']);
  }
  return out;
}

export function collectStats(locate: Locate): Record<string, unknown> {
  return {
    cpu: cpuStats(locate),
    cpuset: cpusetStats(locate),
    memory: memoryStats(locate),
    pids: pidsStats(locate),
    blkio: blkioStats(locate),
    hugetlb: hugetlbStats(locate),
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** JSON with BigInt counters written as exact integers. */
export function statsToJson(value: unknown): string {
  const marks: string[] = [];
  const text = JSON.stringify(value, (_k, v) => {
    if (typeof v !== 'bigint') return v;
    marks.push(v.toString());
    return `\u0000big${marks.length - 1}\u0000`;
  });
  return text.replace(/"\\u0000big(\d+)\\u0000"/g, (_m, i) => marks[Number(i)]);
}
