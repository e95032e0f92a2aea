// Turns a runner record (runner.mjs) into flat "group.key" → string fields
// that can be compared across runtimes: run-specific values (container ids,
// bundle and temp paths, cgroup path, pids, pipe and namespace inodes, mount
// ids and device numbers of anonymous filesystems) are replaced by stable names.

/**
 * record: runner.mjs's record; suite: { base, hostNs: {link: 'host'} }.
 * Returns { fields: {name: string}, probeError?: string }.
 */
export function normalise(record, suite) {
  if (record.setupError) return { fields: {}, setupError: record.setupError };
  const fields = { accepted: String(record.accepted) };
  if (!record.accepted) return { fields, refusal: `refused (${record.create}): ${lastLine(record.stderr)}` };
  fields.start = record.start;
  fields.exit = record.exit;
  if (record.exec) fields.exec = record.exec;
  const swap = replacer(record, suite);
  for (const [k, v] of Object.entries(record.hooks)) Object.assign(fields, hookFields(k, v, swap));
  if (!record.stdout.trim()) return { fields, probeError: `no probe output; stderr: ${record.stderr.trim()}` };
  let probe;
  try {
    probe = JSON.parse(swap(record.stdout));
  } catch (e) {
    return { fields, probeError: `probe output is not JSON (${e.message}): ${record.stdout.slice(0, 200)}` };
  }
  const ns = { ...suite.hostNs, ...record.holders };
  const groups = {
    ...probe,
    env: envMap(probe.env),
    // Names in the order the program sees them: runc keeps a name given twice in its first place.
    envOrder: probe.env.map((e) => e.split('=', 1)[0]).join(' '),
    cgroup: lines(probe.cgroup, (l) => [l.split(':').slice(0, 2).join(':'), l.split(':').slice(2).join(':')]),
    mounts: mounts(probe.mountinfo),
    fds: mapValues(probe.fds, (v) => v.replace(/^(pipe|socket|anon_inode):\[?[^\] ]*\]?/, '$1')),
    ns: mapValues(probe.ns, (v) => ns[v] ?? (v.startsWith('E') ? v : 'private')),
    args: probe.args.join(' '),
    // The kernel lists v1 device exceptions in the order they were written; the set is what counts.
    files: mapValues(probe.files, (v, k) => (k.endsWith('/devices.list') ? v.split('\n').sort().join('\n') : v)),
  };
  delete groups.mountinfo;
  for (const [group, value] of Object.entries(groups)) {
    if (value && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) fields[`${group}.${k}`] = String(v);
    else fields[group] = String(value).trimEnd();
  }
  return { fields };
}

function lastLine(text) {
  return text.trim().split('\n').pop() ?? '';
}

/** Replace every run-specific string (longest first) in a text. */
function replacer(record, suite) {
  const pairs = [
    [record.id, '<id>'],
    [record.cgroupsPath, '<cgroup>'],
    [record.bundle, '<bundle>'],
    [suite.base, '<base>'],
  ];
  return (text) => pairs.reduce((t, [from, to]) => t.split(from).join(to), text);
}

/**
 * A hook's record: the order file as one field, or each member of the state
 * the hook read on stdin as its own field (pid only as "number": it differs per run).
 */
function hookFields(name, text, swap) {
  if (!name.endsWith('.json')) return { [`hooks.${name}`]: swap(text).trim().split('\n').join(',') };
  const hook = name.replace(/\.json$/, '');
  try {
    const state = JSON.parse(swap(text));
    if (typeof state.pid === 'number') state.pid = 'number';
    return Object.fromEntries(Object.entries(state).map(([k, v]) => [`hooks.${hook}.${k}`, JSON.stringify(sorted(v))]));
  } catch {
    return { [`hooks.${hook}`]: `not JSON: ${text.slice(0, 100)}` };
  }
}

function sorted(v) {
  return v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sorted(v[k])]),
      )
    : v;
}

/** env as NAME → value (repeated names: every value, in order). */
function envMap(env) {
  const out = {};
  for (const e of env) {
    const i = e.indexOf('=');
    const k = i < 0 ? e : e.slice(0, i);
    const v = i < 0 ? '(no =)' : e.slice(i + 1);
    out[k] = k in out ? `${out[k]} | ${v}` : v;
  }
  return out;
}

function lines(text, split) {
  return Object.fromEntries(
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => split(l)),
  );
}

function mapValues(obj, fn) {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, fn(v, k)]));
}

/**
 * mountinfo → mount point → "fstype source root=R opts [propagation] superopts"
 * (stacked mounts joined with " | ", bottom first). Mount ids, parent ids and
 * major:minor are dropped; shared:N / master:N keep their kind only.
 */
export function mounts(text) {
  const out = {};
  for (const line of text.split('\n').filter(Boolean)) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    const optional = f
      .slice(6, sep)
      .map((o) => o.replace(/:\d+$/, ''))
      .join(',');
    const [fstype, source, superOpts] = f.slice(sep + 1);
    const value = `${fstype} ${source} root=${f[3]} ${f[5]} [${optional}] ${superOpts}`;
    const at = f[4];
    out[at] = at in out ? `${out[at]} | ${value}` : value;
  }
  return out;
}
