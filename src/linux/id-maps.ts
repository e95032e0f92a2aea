// Who writes a new user namespace's uid_map and gid_map, decided before
// anything is made. root writes them itself; an unprivileged caller may write
// only one line mapping its own id (the kernel's rule, with setgroups denied
// for gid_map); any other map goes through the setuid newuidmap/newgidmap
// (Debian's uidmap), which allow the ranges /etc/subuid and /etc/subgid
// grant the caller, plus its own id alone — checked here, naming the field.
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { userInfo } from 'node:os';
import type { LinuxIDMapping, Spec } from '../spec/types';
import { InvalidInputError } from '../errors';

export type IdKind = 'uid' | 'gid';

/** How one map gets written: straight to /proc, or by the named tool. */
export interface MapWriter {
  kind: IdKind;
  maps: LinuxIDMapping[];
  /** Absolute path of newuidmap/newgidmap; undefined: write /proc/PID/{u,g}id_map. */
  tool?: string;
  /** gid_map written by an unprivileged caller: setgroups must be denied first. */
  denySetgroups: boolean;
}

const FIELD: Record<IdKind, string> = { uid: '/linux/uidMappings', gid: '/linux/gidMappings' };
const TOOL: Record<IdKind, string> = { uid: 'newuidmap', gid: 'newgidmap' };
const SUBID: Record<IdKind, string> = { uid: '/etc/subuid', gid: '/etc/subgid' };

interface Caller {
  uid: number;
  gid: number;
  name?: string;
}

function caller(): Caller {
  const uid = process.geteuid?.() ?? 0;
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    // no passwd entry: /etc/subuid can still name the uid
  }
  return { uid, gid: process.getegid?.() ?? 0, name };
}

/** The caller's ranges in /etc/subuid or /etc/subgid ("name-or-id:start:count" lines). */
export function subIdRanges(file: string, who: { id: number; name?: string }): { start: number; count: number }[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: { start: number; count: number }[] = [];
  for (const line of text.split('\n')) {
    const [owner, start, count] = line.trim().split(':');
    if (owner !== who.name && owner !== String(who.id)) continue;
    if (/^\d+$/.test(start ?? '') && /^\d+$/.test(count ?? ''))
      out.push({ start: Number(start), count: Number(count) });
  }
  return out;
}

function findTool(name: string): string | undefined {
  for (const dir of (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const path = `${dir || '.'}/${name}`;
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

function planOne(kind: IdKind, maps: LinuxIDMapping[], who: Caller): MapWriter {
  const own = kind === 'uid' ? who.uid : who.gid;
  if (who.uid === 0) return { kind, maps, denySetgroups: false };
  if (maps.length === 1 && maps[0].hostID === own && maps[0].size === 1)
    return { kind, maps, denySetgroups: kind === 'gid' };
  const ranges = subIdRanges(SUBID[kind], { id: kind === 'uid' ? who.uid : who.gid, name: who.name });
  maps.forEach((m, i) => {
    const ownAlone = m.hostID === own && m.size === 1;
    const granted = ranges.some((r) => m.hostID >= r.start && m.hostID + m.size <= r.start + r.count);
    if (!ownAlone && !granted) {
      const have = ranges.length ? ranges.map((r) => `${r.start}-${r.start + r.count - 1}`).join(', ') : 'none';
      throw new InvalidInputError(
        `config.json: ${FIELD[kind]}/${i}: host ${kind}s ${m.hostID}-${m.hostID + m.size - 1} are not the caller's: ` +
          `${SUBID[kind]} grants ${who.name ?? own} ${have} (and its own ${kind} ${own} alone)`,
      );
    }
  });
  const tool = findTool(TOOL[kind]);
  if (!tool) {
    throw new InvalidInputError(
      `config.json: ${FIELD[kind]}: more than the caller's own ${kind} needs ${TOOL[kind]}, ` +
        'which is not in PATH (Debian: apt-get install uidmap)',
    );
  }
  return { kind, maps, tool, denySetgroups: false };
}

/** Both writers for a new user namespace; throws naming the field when the caller may not have these maps. */
export function planIdMaps(config: Spec, who = caller()): MapWriter[] {
  const uid = config.linux?.uidMappings ?? [];
  const gid = config.linux?.gidMappings ?? [];
  if (!uid.length || !gid.length) {
    throw new InvalidInputError(
      'config.json: /linux/uidMappings and /linux/gidMappings: a new user namespace needs both mappings',
    );
  }
  return [planOne('uid', uid, who), planOne('gid', gid, who)];
}

/** uid_map / gid_map text: "containerID hostID size" lines. */
export function mapText(maps: LinuxIDMapping[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/** Write a user-namespace file of `pid` (uid_map, gid_map, setgroups); `what` leads the error. */
export function writeProc(pid: number, file: string, text: string, what = `write /proc/${pid}/${file}`): void {
  try {
    writeFileSync(`/proc/${pid}/${file}`, text);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InvalidInputError(`${what} (${JSON.stringify(text.trim())}): ${err.code ?? err.message}`);
  }
}

function runTool(pid: number, w: MapWriter): void {
  const args = [String(pid), ...w.maps.flatMap((m) => [String(m.containerID), String(m.hostID), String(m.size)])];
  const r = spawnSync(w.tool!, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status === 0) return;
  const why =
    r.stderr?.trim() ||
    (r.error
      ? (r.error as NodeJS.ErrnoException).code
      : r.signal
        ? `killed by ${r.signal}`
        : `exit status ${r.status}`);
  throw new InvalidInputError(`config.json: ${FIELD[w.kind]}: ${w.tool} ${args.join(' ')}: ${why}`);
}

/** Carry out the plan for the child `pid` (parent side of the user-namespace handshake). */
export function writeIdMapsFor(pid: number, writers: MapWriter[]): void {
  for (const w of writers) {
    if (w.tool) runTool(pid, w);
    else {
      if (w.denySetgroups) writeProc(pid, 'setgroups', 'deny');
      writeProc(pid, `${w.kind}_map`, mapText(w.maps));
    }
  }
}
