// Assertions and parsers for what containers report about themselves.

export class ClauseFailure extends Error {}
export class ClauseSkip extends Error {}

export function fail(msg) {
  throw new ClauseFailure(msg);
}
export function skip(reason) {
  throw new ClauseSkip(reason);
}
export function assert(cond, msg) {
  if (!cond) fail(msg);
}
export function eq(actual, expected, what) {
  if (actual !== expected) fail(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** A runtime command must have failed (non-zero exit, not killed by our timeout). */
export function mustFail(res, what) {
  if (res.timedOut) fail(`${what}: ${res.cmd} timed out instead of failing`);
  if (res.code === 0) fail(`${what}: ${res.cmd} exited 0, expected an error`);
}
/** A runtime command must have succeeded. */
export function mustSucceed(res, what) {
  if (res.timedOut) fail(`${what}: ${res.cmd} timed out`);
  if (res.code !== 0) fail(`${what}: ${res.cmd} exited ${res.code}: ${(res.stderr || '').trim().slice(0, 300)}`);
}

/** "Key:\tvalue" lines of /proc/PID/status → object. */
export function parseStatus(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** /proc/PID/mountinfo → [{ id, parent, root, mountPoint, mountOpts:Set, optional:[], fstype, source, superOpts:Set }] */
export function parseMountinfo(text) {
  const entries = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep < 0) continue;
    entries.push({
      id: f[0],
      parent: f[1],
      root: unescapeMount(f[3]),
      mountPoint: unescapeMount(f[4]),
      mountOpts: new Set(f[5].split(',')),
      optional: f.slice(6, sep),
      fstype: f[sep + 1],
      source: f[sep + 2],
      superOpts: new Set((f[sep + 3] || '').split(',')),
    });
  }
  return entries;
}
function unescapeMount(s) {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}
/** The visible (last) mount at a mount point. */
export function mountAt(entries, mountPoint) {
  const all = entries.filter((e) => e.mountPoint === mountPoint);
  return all[all.length - 1];
}

const CAPS = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
];
/** ['CAP_KILL', ...] → the hex mask /proc/PID/status prints (16 digits). */
export function capMask(names) {
  let m = 0n;
  for (const n of names) {
    const i = CAPS.indexOf(n.replace(/^CAP_/, ''));
    if (i < 0) throw new Error(`unknown capability ${n}`);
    m |= 1n << BigInt(i);
  }
  return m.toString(16).padStart(16, '0');
}

/** Lines "KEY=value" printed by a container script → object (first occurrence wins). */
export function parseKv(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0 && !(line.slice(0, i) in out)) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Structural equality, ignoring object key order. */
export function deepEq(actual, expected, what) {
  const norm = (v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, norm(v[k])]),
        )
      : Array.isArray(v)
        ? v.map(norm)
        : v;
  const a = JSON.stringify(norm(actual));
  const e = JSON.stringify(norm(expected));
  if (a !== e) fail(`${what}: expected ${e}, got ${a}`);
}
