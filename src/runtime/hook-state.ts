// The state a hook reads on its stdin (runtime-spec "State"), from what
// tsrun saved. Shared by create, start and delete without loading create.
import type { Saved } from '../state/status';

export function hookState(s: Saved, status: string): Record<string, unknown> {
  const st: Record<string, unknown> = {
    ociVersion: s.ociVersion,
    id: s.id,
    status,
    pid: s.pid,
    bundle: s.bundle,
  };
  if (s.annotations) st.annotations = s.annotations;
  return st;
}
