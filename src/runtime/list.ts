// `list`: runc's state of every container under a root, with its owner.
import { statSync, readFileSync } from 'node:fs';
import { ContainerFiles, statusOf, publicState } from '../state/status';

/** runc's `state` JSON of one container plus the name of the user owning its directory. */
export type ListedState = Record<string, unknown> & { id: string; owner: string };

function userName(uid: number): string {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (Number(f[2]) === uid && f[0]) return f[0];
    }
  } catch {
    // no passwd: fall back to the number
  }
  return `#${uid}`;
}

/** Sorted by id; directories that are not (or no longer) containers are skipped. */
export function listContainers(root: string): ListedState[] {
  const entries: ListedState[] = [];
  for (const id of ContainerFiles.list(root)) {
    let c: ContainerFiles;
    try {
      c = ContainerFiles.find(root, id);
    } catch {
      continue; // deleted meanwhile, or not a container directory
    }
    const saved = c.read();
    if (!saved) continue;
    const st = publicState(saved, statusOf(c, saved)) as ListedState;
    st.owner = userName(statSync(c.dir).uid);
    entries.push(st);
  }
  return entries;
}
