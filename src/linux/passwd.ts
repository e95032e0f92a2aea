// user[:group] as runc resolves it for exec --user: names and numbers,
// looked up in the container's /etc/passwd and /etc/group (read from inside
// its mount namespace, so no link can send the read elsewhere).
import { readFileSync } from 'node:fs';

interface Entry {
  name: string;
  id: number;
  fields: string[];
}

function entries(file: string): Entry[] {
  let text = '';
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
  const passwd = entries(`${etc}/passwd`);
  const groups = entries(`${etc}/group`);
  const u = /^\d+$/.test(user) ? passwd.find((e) => e.id === Number(user)) ?? { name: '', id: Number(user), fields: [] } : passwd.find((e) => e.name === user);
  if (!u) throw new Error(`--user ${JSON.stringify(spec)}: no user ${JSON.stringify(user)} in the container's /etc/passwd`);
  let gid = u.fields[3] !== undefined && /^\d+$/.test(u.fields[3]) ? Number(u.fields[3]) : 0;
  if (group !== undefined) {
    const g = /^\d+$/.test(group) ? { id: Number(group) } : groups.find((e) => e.name === group);
    if (!g) throw new Error(`--user ${JSON.stringify(spec)}: no group ${JSON.stringify(group)} in the container's /etc/group`);
    gid = g.id;
  }
  const member = u.name ? groups.filter((g) => (g.fields[3] ?? '').split(',').includes(u.name)).map((g) => g.id) : [];
  return { uid: u.id, gid, groups: member };
}
