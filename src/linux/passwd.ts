// What the container's /etc/passwd and /etc/group say (read from inside its
// mount namespace, so no link can send the read elsewhere): the user and
// groups of exec --user, the HOME of a process without one. The host's
// /etc/passwd names the owners `list` shows, with the same reader.
import { readFileSync } from 'node:fs';

export interface IdEntry {
  name: string;
  id: number;
  /** Every colon-separated field: passwd's gid is fields[3], its home fields[5]; group's members fields[3]. */
  fields: string[];
}

/** The entries of a passwd- or group-format file with a numeric id; [] when it cannot be read. */
export function idEntries(file: string): IdEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return []; // no such file: only numbers resolve
  }
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 3 && /^\d+$/.test(f[2]))
    .map((f) => ({ name: f[0], id: Number(f[2]), fields: f }));
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Groups that list the user as a member (by name). */
  groups: number[];
}

/** Resolves `user[:group]`; throws, naming the flag, what does not exist. */
export function resolveUser(spec: string, etc = '/etc'): ResolvedUser {
  const [user, group] = spec.split(':', 2);
  const passwd = idEntries(`${etc}/passwd`);
  const groups = idEntries(`${etc}/group`);
  const u = /^\d+$/.test(user)
    ? (passwd.find((e) => e.id === Number(user)) ?? { name: '', id: Number(user), fields: [] })
    : passwd.find((e) => e.name === user);
  if (!u)
    throw new Error(`--user ${JSON.stringify(spec)}: no user ${JSON.stringify(user)} in the container's /etc/passwd`);
  let gid = u.fields[3] !== undefined && /^\d+$/.test(u.fields[3]) ? Number(u.fields[3]) : 0;
  if (group !== undefined) {
    const g = /^\d+$/.test(group) ? { id: Number(group) } : groups.find((e) => e.name === group);
    if (!g)
      throw new Error(
        `--user ${JSON.stringify(spec)}: no group ${JSON.stringify(group)} in the container's /etc/group`,
      );
    gid = g.id;
  }
  const member = u.name ? groups.filter((g) => (g.fields[3] ?? '').split(',').includes(u.name)).map((g) => g.id) : [];
  return { uid: u.id, gid, groups: member };
}

/**
 * runc's one change to a process's env: without HOME, it is the user's home
 * from /etc/passwd, or "/" when no entry gives one. Call where / is the
 * container's (after pivot_root, or setns into its mount namespace).
 */
export function withHome(env: string[] | undefined, uid: number, etc = '/etc'): string[] {
  const list = env ?? [];
  if (list.some((e) => e.startsWith('HOME='))) return list;
  const home = idEntries(`${etc}/passwd`).find((e) => e.id === uid && e.fields[5])?.fields[5];
  return [...list, `HOME=${home ?? '/'}`];
}
