// process.oomScoreAdj: how readily the OOM killer picks the container's process.
import { writeProcFile } from './proc-file';

export function applyOomScoreAdj(v: number | undefined): void {
  if (v === undefined) return;
  writeProcFile('/proc/self/oom_score_adj', String(v));
}
