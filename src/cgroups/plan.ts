// linux.resources → the interface-file writes that express it on this
// host, per controller and cgroup version. Pure: nothing is written here,
// so the same plan doubles as the host-capability check before creation.
import type { LinuxResources } from '../spec/types';

type LinuxThrottleDevice = { major: number; minor: number; rate: number };
import { controllerOfKey } from './unified-keys';
import { hugePageSizes, hugePageSupported } from './hugepages';
import { type DeviceState, reduceDeviceRules } from './device-rules';
import { isDefaultDeviceRule } from './default-devices';

export interface Write {
  where: string; // JSON path it comes from
  controller: string; // "unified" for v2 core files
  dir: string;
  file: string;
  value: string;
  /** The kernel may not have this file any more: skip with this debug line on ENOENT/EOPNOTSUPP/EINVAL. */
  optional?: string;
  /** A single value that can be read back and written again (for rollback). */
  restorable: boolean;
  /** What the kernel's refusal means for this write, by errno code ("ENODEV"). */
  why?: Partial<Record<string, string>>;
}

export interface Plan {
  writes: Write[];
  /** Debug lines for settings that this cgroup version does not have. */
  ignored: string[];
  errors: string[];
  devices?: { version: 1 | 2; dir: string; state: DeviceState };
}

/** What the plan needs to know about the host and the container's directories. */
export interface Target {
  /** 1 or 2 when the controller is usable, undefined when not. */
  version(controller: string): 1 | 2 | undefined;
  /** The container's directory for a controller. */
  dir(controller: string): string;
  /** Does the host's hierarchy for this controller have this interface file? */
  hasFile(controller: string, file: string): boolean;
  hasUnified: boolean;
}

const str = (n: number) => String(n);
const limitValue = (n: number, v: 1 | 2) => (n < 0 ? (v === 1 ? '-1' : 'max') : str(n));

/** runc's shares → cpu.weight mapping ([2, 262144] → [1, 10000]). */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** runc's blkio weight → io.weight mapping ([10, 1000] → [1, 10000]). */
export function blkioToIoWeight(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/** The spec's memory+swap limit → memory.swap.max (swap alone). */
export function swapForV2(swap: number, limit: number | undefined): string {
  if (swap < 0) return 'max';
  return String(swap - (limit ?? 0));
}

/** One planner's view: the plan it adds to and the host it plans for. */
interface Planning {
  plan: Plan;
  t: Target;
  /** The controller's version, or an error at w when the host lacks it. */
  need(controller: string, w: string): 1 | 2 | undefined;
  add(
    w: string,
    controller: string,
    file: string,
    value: string,
    restorable?: boolean,
    optional?: string,
    why?: Write['why'],
  ): void;
  ignore(w: string, why: string): void;
}

function planning(t: Target): Planning {
  const plan: Plan = { writes: [], ignored: [], errors: [] };
  return {
    plan,
    t,
    need(controller, w) {
      const v = t.version(controller);
      if (v === undefined) plan.errors.push(`${w}: the ${controller} controller is not available on this host`);
      return v;
    },
    add: (w, controller, file, value, restorable = true, optional, why) =>
      plan.writes.push({ where: w, controller, dir: t.dir(controller), file, value, restorable, optional, why }),
    ignore: (w, why) => plan.ignored.push(`${w}: ignored, ${why}`),
  };
}

/** Each part of linux.resources has its planner; they only add to the plan. */
export function planResources(r: LinuxResources | undefined, t: Target, where = 'linux.resources'): Plan {
  const p = planning(t);
  if (!r) return p.plan;
  if (r.memory && Object.values(r.memory).some((v) => v !== undefined)) planMemory(p, r.memory, `${where}.memory`);
  if (r.cpu) planCpu(p, r.cpu, `${where}.cpu`);
  if (r.pids?.limit !== undefined) planPids(p, r.pids.limit, `${where}.pids.limit`);
  if (r.blockIO && Object.values(r.blockIO).some((x) => x !== undefined && !(Array.isArray(x) && x.length === 0)))
    planBlockIO(p, r.blockIO, `${where}.blockIO`);
  (r.hugepageLimits ?? []).forEach((h, i) => planHugepages(p, h, `${where}.hugepageLimits[${i}]`));
  if (r.network) planNetwork(p, r.network, `${where}.network`);
  for (const [dev, lim] of Object.entries(r.rdma ?? {}))
    if (lim) planRdma(p, dev, lim, `${where}.rdma[${JSON.stringify(dev)}]`);
  for (const [key, value] of Object.entries(r.unified ?? {}))
    if (value !== undefined) planUnified(p, key, value, `${where}.unified[${JSON.stringify(key)}]`);
  if (r.devices && r.devices.length > 0) planDevices(p, r.devices, `${where}.devices`);
  return p.plan;
}

type Resources = NonNullable<LinuxResources>;

function planMemory({ need, add, ignore, t, plan }: Planning, m: NonNullable<Resources['memory']>, w: string): void {
  const v = need('memory', w);
  if (v === 1) {
    if (m.limit) add(`${w}.limit`, 'memory', 'memory.limit_in_bytes', limitValue(m.limit, 1));
    if (m.swap) add(`${w}.swap`, 'memory', 'memory.memsw.limit_in_bytes', limitValue(m.swap, 1));
    else if (m.limit === -1 && t.hasFile('memory', 'memory.memsw.limit_in_bytes'))
      add(`${w}.swap`, 'memory', 'memory.memsw.limit_in_bytes', '-1');
    if (m.reservation) add(`${w}.reservation`, 'memory', 'memory.soft_limit_in_bytes', limitValue(m.reservation, 1));
    const gone = 'the kernel no longer supports it';
    if (m.kernel) add(`${w}.kernel`, 'memory', 'memory.kmem.limit_in_bytes', limitValue(m.kernel, 1), true, gone);
    if (m.kernelTCP)
      add(`${w}.kernelTCP`, 'memory', 'memory.kmem.tcp.limit_in_bytes', limitValue(m.kernelTCP, 1), true, gone);
    if (m.swappiness !== undefined) add(`${w}.swappiness`, 'memory', 'memory.swappiness', str(m.swappiness));
    if (m.disableOOMKiller !== undefined)
      add(`${w}.disableOOMKiller`, 'memory', 'memory.oom_control', m.disableOOMKiller ? '1' : '0', false);
    if (m.useHierarchy !== undefined) {
      add(
        `${w}.useHierarchy`,
        'memory',
        'memory.use_hierarchy',
        m.useHierarchy ? '1' : '0',
        true,
        m.useHierarchy ? undefined : 'the kernel always uses the hierarchy',
      );
    }
  } else if (v === 2) {
    if (m.limit) add(`${w}.limit`, 'memory', 'memory.max', limitValue(m.limit, 2));
    if (m.swap || m.limit === -1) {
      if (t.hasFile('memory', 'memory.swap.max'))
        add(`${w}.swap`, 'memory', 'memory.swap.max', swapForV2(m.swap || -1, m.limit));
      else if (m.swap && m.swap > 0)
        plan.errors.push(`${w}.swap: swap accounting is not enabled on this host (no memory.swap.max)`);
    }
    if (m.reservation) add(`${w}.reservation`, 'memory', 'memory.low', limitValue(m.reservation, 2));
    if (m.kernel) ignore(`${w}.kernel`, 'cgroup v2 has no kernel memory limit');
    if (m.kernelTCP) ignore(`${w}.kernelTCP`, 'cgroup v2 has no kernel TCP memory limit');
    if (m.swappiness !== undefined) ignore(`${w}.swappiness`, 'cgroup v2 has no swappiness');
    if (m.disableOOMKiller) ignore(`${w}.disableOOMKiller`, 'cgroup v2 cannot disable the OOM killer');
    if (m.useHierarchy !== undefined) ignore(`${w}.useHierarchy`, 'cgroup v2 is always hierarchical');
  }
}

type Cpu = NonNullable<Resources['cpu']>;

function planCpu(p: Planning, c: Cpu, w: string): void {
  const wantsCpu = [c.shares, c.quota, c.period, c.burst, c.realtimeRuntime, c.realtimePeriod, c.idle].some(
    (x) => x !== undefined,
  );
  const v = wantsCpu ? p.need('cpu', w) : undefined;
  if (v === 1) planCpuV1(p, c, w);
  else if (v === 2) planCpuV2(p, c, w);
  if (c.cpus !== undefined || c.mems !== undefined) {
    const vs = p.need('cpuset', w);
    if (vs !== undefined && c.cpus) p.add(`${w}.cpus`, 'cpuset', 'cpuset.cpus', c.cpus);
    if (vs !== undefined && c.mems) p.add(`${w}.mems`, 'cpuset', 'cpuset.mems', c.mems);
  }
}

/**
 * The kernel refuses a weight (shares) for an idle group and resets it to the default when the group leaves
 * idle: so idle 0 is written before the weight, idle 1 after everything else.
 */
function planIdle(p: Planning, c: Cpu, w: string, at: 'first' | 'last'): void {
  if (c.idle !== undefined && (c.idle === 0) === (at === 'first')) p.add(`${w}.idle`, 'cpu', 'cpu.idle', str(c.idle));
}

function planCpuV1(p: Planning, c: Cpu, w: string): void {
  const { add } = p;
  planIdle(p, c, w, 'first');
  if (c.shares) add(`${w}.shares`, 'cpu', 'cpu.shares', str(c.shares));
  if (c.period) add(`${w}.period`, 'cpu', 'cpu.cfs_period_us', str(c.period));
  if (c.quota) add(`${w}.quota`, 'cpu', 'cpu.cfs_quota_us', str(c.quota));
  if (c.burst !== undefined)
    add(`${w}.burst`, 'cpu', 'cpu.cfs_burst_us', str(c.burst), true, 'the kernel has no CFS burst');
  if (c.realtimePeriod) add(`${w}.realtimePeriod`, 'cpu', 'cpu.rt_period_us', str(c.realtimePeriod));
  if (c.realtimeRuntime) add(`${w}.realtimeRuntime`, 'cpu', 'cpu.rt_runtime_us', str(c.realtimeRuntime));
  planIdle(p, c, w, 'last');
}

function planCpuV2(p: Planning, c: Cpu, w: string): void {
  const { add, plan } = p;
  planIdle(p, c, w, 'first');
  if (c.shares) add(`${w}.shares`, 'cpu', 'cpu.weight', str(sharesToWeight(c.shares)));
  if (c.quota || c.period) {
    const quota = c.quota ? limitValue(c.quota, 2) : 'max';
    add(c.quota ? `${w}.quota` : `${w}.period`, 'cpu', 'cpu.max', c.period ? `${quota} ${c.period}` : quota);
  }
  if (c.burst !== undefined) add(`${w}.burst`, 'cpu', 'cpu.max.burst', str(c.burst));
  for (const k of ['realtimeRuntime', 'realtimePeriod'] as const)
    if (c[k]) plan.errors.push(`${w}.${k}: the cpu controller of cgroup v2 has no real-time limits (cpu.rt_*)`);
  planIdle(p, c, w, 'last');
}

/**
 * runtime-spec 1.3: -1 is "max", 0 a real limit (runc 1.1 skipped it; runc 1.4 writes 1, for systemd's sake,
 * which tsrun does not drive), an absent limit leaves pids.max as it is.
 */
function planPids({ need, add }: Planning, limit: number, w: string): void {
  if (need('pids', w)) add(w, 'pids', 'pids.max', limit < 0 ? 'max' : str(limit));
}

type BlockIO = NonNullable<Resources['blockIO']>;

const THROTTLES = [
  ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device', 'rbps'],
  ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device', 'wbps'],
  ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device', 'riops'],
  ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device', 'wiops'],
] as const;

function planBlockIO(p: Planning, b: BlockIO, w: string): void {
  const v = p.need(p.t.version('blkio') ? 'blkio' : 'io', w);
  if (v === 1) planBlkioV1(p, b, w);
  else if (v === 2) planIoV2(p, b, w);
}

function planBlkioV1({ add, t, plan }: Planning, b: BlockIO, w: string): void {
  const bfq = !t.hasFile('blkio', 'blkio.weight') && t.hasFile('blkio', 'blkio.bfq.weight');
  const weightFile = bfq ? 'blkio.bfq.weight' : 'blkio.weight';
  // Written when the host has the file, else an error at the field's path.
  const addIfHas = (where: string, file: string, value: string, lacking: string, restorable = true) => {
    if (!t.hasFile('blkio', file)) plan.errors.push(`${where}: this host's blkio controller has no ${lacking}`);
    else add(where, 'blkio', file, value, restorable);
  };
  if (b.weight)
    addIfHas(
      `${w}.weight`,
      weightFile,
      str(b.weight),
      'weight (no blkio.weight or blkio.bfq.weight: the I/O scheduler is not CFQ or BFQ)',
    );
  if (b.leafWeight) addIfHas(`${w}.leafWeight`, 'blkio.leaf_weight', str(b.leafWeight), 'leaf weight');
  (b.weightDevice ?? []).forEach((d, i) => {
    const at = `${w}.weightDevice[${i}]`;
    const dev = `${d.major}:${d.minor}`;
    if (d.weight !== undefined)
      addIfHas(`${at}.weight`, `${weightFile}_device`, `${dev} ${d.weight}`, 'per-device weight', false);
    if (d.leafWeight !== undefined)
      addIfHas(
        `${at}.leafWeight`,
        'blkio.leaf_weight_device',
        `${dev} ${d.leafWeight}`,
        'per-device leaf weight',
        false,
      );
  });
  for (const [key, file] of THROTTLES) {
    ((b[key] ?? []) as LinuxThrottleDevice[]).forEach((d, i) =>
      add(`${w}.${key}[${i}]`, 'blkio', file, `${d.major}:${d.minor} ${d.rate}`, false),
    );
  }
}

function planIoV2({ add, ignore, t }: Planning, b: BlockIO, w: string): void {
  const bfq = t.hasFile('io', 'io.bfq.weight');
  const weightFile = bfq ? 'io.bfq.weight' : 'io.weight';
  if (b.weight)
    add(`${w}.weight`, 'io', weightFile, bfq ? str(b.weight) : `default ${blkioToIoWeight(b.weight)}`, false);
  if (b.leafWeight) ignore(`${w}.leafWeight`, 'cgroup v2 has no leaf weight');
  (b.weightDevice ?? []).forEach((d, i) => {
    const dev = `${d.major}:${d.minor}`;
    if (d.weight !== undefined) {
      const value = bfq ? str(d.weight) : str(blkioToIoWeight(d.weight));
      const why =
        `the io controller cannot weigh device ${dev}: per-device weights need BFQ as its I/O scheduler ` +
        '(io.bfq.weight) or the io cost model enabled for it (io.cost.qos)';
      const hints = { ENOTSUP: why, EOPNOTSUPP: why, ENODEV: `the io controller has no block device ${dev}` };
      add(`${w}.weightDevice[${i}].weight`, 'io', weightFile, `${dev} ${value}`, false, undefined, hints);
    }
    if (d.leafWeight !== undefined) ignore(`${w}.weightDevice[${i}].leafWeight`, 'cgroup v2 has no leaf weight');
  });
  for (const [key, , name] of THROTTLES) {
    ((b[key] ?? []) as LinuxThrottleDevice[]).forEach((d, i) => {
      const dev = `${d.major}:${d.minor}`;
      const line = `${dev} ${name}=${d.rate === 0 ? 'max' : d.rate}`;
      add(`${w}.${key}[${i}]`, 'io', 'io.max', line, false, undefined, {
        ENODEV: `the io controller has no block device ${dev}`,
      });
    });
  }
}

function planHugepages(
  { need, add, t, plan }: Planning,
  h: NonNullable<Resources['hugepageLimits']>[number],
  w: string,
): void {
  if (!hugePageSupported(h.pageSize)) {
    const sizes = hugePageSizes();
    const has = sizes.length > 0 ? `it has ${sizes.join(', ')}` : 'the kernel has no huge pages';
    plan.errors.push(`${w}.pageSize: the hugetlb controller has no ${h.pageSize} huge pages on this host (${has})`);
    return;
  }
  const v = need('hugetlb', w);
  if (v === 1) add(`${w}.limit`, 'hugetlb', `hugetlb.${h.pageSize}.limit_in_bytes`, str(h.limit));
  if (v === 2) {
    add(`${w}.limit`, 'hugetlb', `hugetlb.${h.pageSize}.max`, str(h.limit));
    if (t.hasFile('hugetlb', `hugetlb.${h.pageSize}.rsvd.max`))
      add(`${w}.limit`, 'hugetlb', `hugetlb.${h.pageSize}.rsvd.max`, str(h.limit));
  }
}

function planNetwork({ need, add }: Planning, n: NonNullable<Resources['network']>, w: string): void {
  if (n.classID !== undefined && need('net_cls', `${w}.classID`))
    add(`${w}.classID`, 'net_cls', 'net_cls.classid', str(n.classID));
  (n.priorities ?? []).forEach((p, i) => {
    if (need('net_prio', `${w}.priorities[${i}]`))
      add(`${w}.priorities[${i}]`, 'net_prio', 'net_prio.ifpriomap', `${p.name} ${p.priority}`, false);
  });
}

function planRdma(
  { need, add }: Planning,
  dev: string,
  lim: { hcaHandles?: number; hcaObjects?: number },
  w: string,
): void {
  if (!need('rdma', w)) return;
  const val = (x: number | undefined) => (x === undefined ? 'max' : str(x));
  const line = `${dev} hca_handle=${val(lim.hcaHandles)} hca_object=${val(lim.hcaObjects)}`;
  add(w, 'rdma', 'rdma.max', line, false, undefined, {
    ENODEV: `the rdma controller has no device ${dev} on this host`,
  });
}

/** runc's words for unified keys on cgroup v1 (ErrV1NoUnified), which tools look for. */
const INVALID = 'invalid configuration:';

function planUnified({ add, t, plan }: Planning, key: string, value: string, w: string): void {
  if (!t.hasUnified) {
    plan.errors.push(`${INVALID} ${w}: this host has no cgroup v2 hierarchy (cgroup v1 only)`);
    return;
  }
  const controller = controllerOfKey(key);
  const v = controller ? t.version(controller) : 2;
  if (v === 1)
    return void plan.errors.push(
      `${INVALID} ${w}: the ${controller} controller is bound to cgroup v1 on this host, not to the v2 hierarchy`,
    );
  if (v === undefined)
    return void plan.errors.push(
      `${w}: the ${controller} controller is not available on this host's cgroup v2 hierarchy`,
    );
  if (!value.includes('\n')) return void add(w, controller || 'unified', key, value);
  // The kernel parses one line a write ("MAJ:MIN rbps=…" of io.max): one write per line, as runc 1.2+.
  for (const line of value.split('\n').filter((l) => l.trim() !== ''))
    add(w, controller || 'unified', key, line, false);
}

function planDevices({ t, plan }: Planning, rules: NonNullable<Resources['devices']>, w: string): void {
  const v = t.version('devices');
  if (v === undefined)
    return void plan.errors.push(
      `${w}: neither a v1 devices controller nor a cgroup v2 hierarchy is available on this host`,
    );
  const label = (i: number) => (isDefaultDeviceRule(rules[i]) ? `${w}: the default rule` : `${w}[${i}]`);
  let refused = false; // the first refusal says it all (later ones follow from the same wildcard)
  const refuse = (msg: string) => {
    if (!refused) plan.errors.push(msg);
    refused = true;
  };
  plan.devices = { version: v, dir: t.dir('devices'), state: reduceDeviceRules(rules, refuse, label) };
}
