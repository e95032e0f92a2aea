// `list`: runc's state of every container under a root, with its owner.
import { statSync } from 'node:fs';
import { ContainerFiles, statusOf, publicState } from '../state/status';
import { idEntries } from '../linux/passwd';

/** runc's `state` JSON of one container plus the name of the user owning its directory. */
export type ListedState = Record<string, unknown> & { id: string; owner: string };

/** The host's name of the uid; without one, the number. */
function userName(uid: number): string {
  return idEntries('/etc/passwd').find((e) => e.id === uid && e.name)?.name ?? `#${uid}`;
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
