// Checks on config.json that JSON Schema cannot express: rules relating one
// field to another (namespaces ↔ hostname, sysctl, id mappings, …). The list
// follows the spec's MUSTs and runc's libcontainer/configs/validate, whose
// behaviour is the default where the spec is silent. Every problem names the
// JSON path it is about.
import { statSync } from 'node:fs';
import type { Spec, LinuxNamespaceType, Process } from './types';
import { capabilityWarnings } from './capabilities';
import { cpuListMask } from '../linux/sched';
import { memoryPolicyErrors } from '../linux/mempolicy';
import { configError, configWarning, fromPathMessage, type Diagnostic } from './diagnostic';

type Problem = Pick<Diagnostic, 'path' | 'message'>;

interface Found {
  errors: Problem[];
  warnings: Problem[];
}

const at = (path: string, message: string): Problem => ({ path, message });

/** Every cross-field problem of a config the schema accepts: the errors, then the warnings. */
export function semanticDiagnostics(config: Spec): Diagnostic[] {
  const r: Found = { errors: [], warnings: [] };
  const ns = namespaceTable(config, r);
  checkMounts(config, ns, r);
  checkRlimits(config, r);
  checkUts(config, ns, r);
  checkUserNamespace(config, ns, r);
  checkTimeNamespace(config, ns, r);
  checkPathRestrictions(config, ns, r);
  checkSysctl(config, ns, r);
  checkProcessValues(config, r);
  checkDeviceRules(config, r);
  if (config.linux?.memoryPolicy)
    r.errors.push(...memoryPolicyErrors(config.linux.memoryPolicy).map((e) => fromPathMessage('error', e)));
  return [
    ...r.errors.map((p) => configError(p.path, p.message)),
    ...r.warnings.map((p) => configWarning(p.path, p.message)),
  ];
}

/**
 * Device cgroup rules runc accepts but that do not mean what they say:
 * accepted as runc does (the kernel and runc read only r, w, m, and only the
 * letter of an "a" rule), with a warning saying what is actually applied.
 */
function checkDeviceRules(config: Spec, r: Found): void {
  const rules = config.linux?.resources?.devices;
  if (!Array.isArray(rules)) return;
  rules.forEach((d, i) => {
    const p = `/linux/resources/devices/${i}`;
    const num = (v: number | null | undefined) => v !== undefined && v !== null && v !== -1;
    if ((d?.type ?? 'a') === 'a' && (num(d?.major) || num(d?.minor))) {
      r.warnings.push(
        at(
          p,
          'type "a" applies to every device: major and minor are ignored, ' +
            `so this ${d.allow ? 'allows' : 'denies'} all devices`,
        ),
      );
    }
    if (typeof d?.access !== 'string') return;
    const unknown = [...new Set(d.access.replace(/[rwm]/g, ''))].join('');
    if (unknown)
      r.warnings.push(
        at(`${p}/access`, `${JSON.stringify(unknown)} ignored: only "r", "w" and "m" are device access types`),
      );
    if (!/[rwm]/.test(d.access) && d.type !== undefined && d.type !== 'a')
      r.warnings.push(
        at(`${p}/access`, `${JSON.stringify(d.access)} grants or denies no access: the rule has no effect`),
      );
  });
}

/**
 * Relative mount destinations are deprecated; like runc 1.1 (which warns and
 * joins them onto the rootfs) tsrun treats them as relative to "/". This
 * rewrites them in place and returns one warning per mount it changed.
 */
export function absolutizeMountDestinations(config: Spec): Diagnostic[] {
  const warnings: Diagnostic[] = [];
  config.mounts?.forEach((m, i) => {
    if (m.destination.startsWith('/')) return;
    const abs = '/' + m.destination;
    warnings.push(
      configWarning(
        `/mounts/${i}/destination`,
        `relative path ${JSON.stringify(m.destination)} is deprecated, using ${JSON.stringify(abs)}`,
      ),
    );
    m.destination = abs;
  });
  return warnings;
}

/** Namespace type → its entry (path undefined means a new namespace). */
type NamespaceTable = Map<LinuxNamespaceType, { path?: string; index: number }>;

function namespaceTable(config: Spec, r: Found): NamespaceTable {
  const table: NamespaceTable = new Map();
  config.linux?.namespaces?.forEach((n, i) => {
    const first = table.get(n.type);
    if (first)
      r.errors.push(
        at(
          `/linux/namespaces/${i}/type`,
          `duplicate namespace type "${n.type}" (first at /linux/namespaces/${first.index})`,
        ),
      );
    else table.set(n.type, { path: n.path, index: i });
  });
  return table;
}

// config.md, mounts: uidMappings/gidMappings and the idmap/ridmap options.
function checkMounts(config: Spec, ns: NamespaceTable, r: Found): void {
  config.mounts?.forEach((m, i) => {
    const p = `/mounts/${i}`;
    const mapped = m.uidMappings !== undefined || m.gidMappings !== undefined;
    const bind = m.type === 'bind' || m.options?.some((o) => o === 'bind' || o === 'rbind');
    const option = m.options?.findIndex((o) => o === 'idmap' || o === 'ridmap') ?? -1;
    const name = option >= 0 ? JSON.stringify(m.options![option]) : '';
    if (mapped && !bind)
      r.errors.push(at(p, 'uidMappings/gidMappings are only supported on bind mounts (options "bind" or "rbind")'));
    if (option >= 0 && !bind)
      r.errors.push(
        at(`${p}/options/${option}`, `${name} is only supported on bind mounts (options "bind" or "rbind")`),
      );
    if (!bind) return;
    if (mapped && option < 0) {
      // The spec's SHOULD, made a MUST: the option says whether submounts are mapped too.
      const field = m.uidMappings !== undefined ? 'uidMappings' : 'gidMappings';
      r.errors.push(
        at(`${p}/${field}`, 'an id mapping needs the "idmap" or "ridmap" option (is it applied to the submounts too?)'),
      );
    }
    for (const field of ['uidMappings', 'gidMappings'] as const) {
      if (m[field] !== undefined && m[field]!.length === 0)
        r.errors.push(at(`${p}/${field}`, 'an empty mapping maps no id'));
    }
    if (option >= 0 && !mapped && !ns.has('user')) {
      r.errors.push(
        at(
          `${p}/options/${option}`,
          `${name} without uidMappings and gidMappings takes the container's mapping, ` +
            'but there is no user namespace in /linux/namespaces',
        ),
      );
    }
  });
}

function checkRlimits(config: Spec, r: Found): void {
  const seen = new Map<string, number>();
  config.process?.rlimits?.forEach((l, i) => {
    const first = seen.get(l.type);
    if (first !== undefined)
      r.errors.push(
        at(`/process/rlimits/${i}/type`, `duplicate rlimit "${l.type}" (first at /process/rlimits/${first})`),
      );
    else seen.set(l.type, i);
    if (l.soft > l.hard)
      r.errors.push(at(`/process/rlimits/${i}`, `soft limit ${l.soft} is above the hard limit ${l.hard}`));
  });
}

// Like runc, a joined uts namespace (with a path) is enough: the hostname is
// then set in that namespace.
function checkUts(config: Spec, ns: NamespaceTable, r: Found): void {
  if (ns.has('uts')) return;
  for (const field of ['hostname', 'domainname'] as const) {
    if (config[field])
      r.errors.push(at(`/${field}`, `cannot set the ${field} without a uts namespace in /linux/namespaces`));
  }
}

function checkUserNamespace(config: Spec, ns: NamespaceTable, r: Found): void {
  const linux = config.linux;
  const user = ns.get('user');
  if (!user) {
    for (const field of ['uidMappings', 'gidMappings'] as const) {
      if (linux?.[field] !== undefined)
        r.errors.push(at(`/linux/${field}`, 'id mappings need a user namespace in /linux/namespaces'));
    }
    return;
  }
  if (user.path !== undefined) return;
  // A new user namespace without maps leaves the container as the overflow
  // uid with no capabilities: certainly not what was asked for.
  for (const field of ['uidMappings', 'gidMappings'] as const) {
    if (!linux?.[field]?.length)
      r.errors.push(at(`/linux/${field}`, 'a new user namespace needs uidMappings and gidMappings'));
  }
}

function checkTimeNamespace(config: Spec, ns: NamespaceTable, r: Found): void {
  if (config.linux?.timeOffsets === undefined) return;
  const time = ns.get('time');
  if (!time) r.errors.push(at('/linux/timeOffsets', 'time offsets need a time namespace in /linux/namespaces'));
  // Offsets can only be written before any process has entered the namespace.
  else if (time.path !== undefined)
    r.errors.push(
      at(
        '/linux/timeOffsets',
        `time offsets cannot be applied to a joined time namespace (/linux/namespaces/${time.index}/path is set)`,
      ),
    );
}

function checkPathRestrictions(config: Spec, ns: NamespaceTable, r: Found): void {
  if (ns.has('mount')) return;
  for (const field of ['maskedPaths', 'readonlyPaths'] as const) {
    if (config.linux?.[field]?.length)
      r.errors.push(at(`/linux/${field}`, 'needs a mount namespace in /linux/namespaces'));
  }
  // Without one, the remount would make the caller's mount holding the rootfs read-only.
  if (config.root?.readonly) r.errors.push(at('/root/readonly', 'needs a mount namespace in /linux/namespaces'));
}

/** Values the init applies only after `start`: wrong ones must fail `create`. */
function checkProcessValues(config: Spec, r: Found): void {
  const p = config.process;
  if (!p) return;
  r.errors.push(...processValueErrors(p, '/process'));
  r.warnings.push(...capabilityWarnings(p.capabilities, '/process/capabilities'));
}

/**
 * A process's values the schema cannot check (scheduler, execCPUAffinity),
 * their paths under `base`: "/process" in config.json, "" in exec's process.json.
 */
export function processValueErrors(p: Process, base: string): Problem[] {
  const r: Found = { errors: [], warnings: [] };
  checkScheduler(p.scheduler, base, r);
  for (const which of ['initial', 'final'] as const) {
    const list = p.execCPUAffinity?.[which];
    if (list) collect(r, () => cpuListMask(list, `${base}/execCPUAffinity/${which}`));
  }
  return r.errors;
}

function collect(r: Found, check: () => unknown): void {
  try {
    check();
  } catch (e) {
    r.errors.push(fromPathMessage('error', (e as Error).message));
  }
}

const ipcSysctls = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

/** sysctl(8) accepts "/" as separator; when the first one is "/", "." and "/" swap. */
function dottedSysctl(key: string): string {
  const first = key.search(/[./]/);
  if (first < 0 || key[first] === '.') return key;
  return key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

// /proc/sys is only partly namespaced: a key is allowed only when the
// namespace that owns it is the container's own.
function checkSysctl(config: Spec, ns: NamespaceTable, r: Found): void {
  for (const raw of Object.keys(config.linux?.sysctl ?? {})) {
    const key = dottedSysctl(raw);
    const path = `/linux/sysctl/${raw.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (ipcSysctls.has(key) || key.startsWith('fs.mqueue.')) {
      if (!ns.has('ipc')) r.errors.push(at(path, `sysctl "${key}" needs an ipc namespace in /linux/namespaces`));
    } else if (key.startsWith('net.')) {
      const net = ns.get('network');
      if (!net) r.errors.push(at(path, `sysctl "${key}" needs a network namespace in /linux/namespaces`));
      else if (net.path !== undefined && isHostNetns(net.path))
        r.errors.push(
          at(
            path,
            `sysctl "${key}" is not allowed: /linux/namespaces/${net.index}/path is the host's network namespace`,
          ),
        );
    } else if (key === 'kernel.domainname' && ns.has('uts')) {
      // namespaced, and no dedicated field competes with it
    } else if (key === 'kernel.hostname' && ns.has('uts')) {
      r.errors.push(at(path, 'sysctl "kernel.hostname" is not allowed: use /hostname'));
    } else if (key.startsWith('user.')) {
      // The ucounts limits (runc 1.4) belong to the user namespace of the process that writes them: the init,
      // inside the container's. Without one in the config that is the caller's, shared with the host.
      if (!ns.has('user'))
        r.errors.push(
          at(path, `sysctl "${key}" needs a user namespace in /linux/namespaces; without one it sets the host's limit`),
        );
    } else {
      r.errors.push(
        at(
          path,
          `sysctl "${key}" is not namespaced` +
            `${key.startsWith('kernel.') && key.endsWith('name') ? ' without a uts namespace' : ''}; ` +
            'it would change the host',
        ),
      );
    }
  }
}

function isHostNetns(path: string): boolean {
  try {
    const mine = statSync('/proc/self/ns/net');
    const theirs = statSync(path);
    return mine.dev === theirs.dev && mine.ino === theirs.ino;
  } catch {
    return false; // joining a missing path fails later, with its own error
  }
}

function checkScheduler(s: Process['scheduler'], base: string, r: Found): void {
  if (!s) return;
  if (s.nice !== undefined && (s.nice < -20 || s.nice > 19))
    r.errors.push(at(`${base}/scheduler/nice`, `${s.nice} is outside -20..19`));
  if (s.priority && s.policy !== 'SCHED_FIFO' && s.policy !== 'SCHED_RR')
    r.errors.push(at(`${base}/scheduler/priority`, 'only applies to SCHED_FIFO and SCHED_RR'));
  if ((s.runtime || s.deadline || s.period) && s.policy !== 'SCHED_DEADLINE')
    r.errors.push(at(`${base}/scheduler`, 'runtime, deadline and period only apply to SCHED_DEADLINE'));
}
