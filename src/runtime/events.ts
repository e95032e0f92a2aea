// `events`: runc's JSON event stream — {"type":"stats",…} every interval and
// {"type":"oom",…} on each OOM kill — until the container stops; or, with
// --stats, one stats event. The container lock is held only while reading
// its state, so delete and kill are never blocked by a watcher.
import { InvalidInputError, ContainerStateError } from '../errors';
import { warn } from '../log';
import { statsToJson, loadCgroup } from '../cgroups';
import { isSameLiveProcess } from '../state/proc';
import { openContainerCgroup } from './container-cgroup';

export interface EventsOptions {
  intervalMs: number;
  statsOnly: boolean;
  /** Ends the stream early (the library's iterator when its consumer stops). */
  signal?: AbortSignal;
}

/** One event of runc's stream; `data` (stats) may hold BigInt: serialize with eventLine. */
export interface ContainerEvent {
  type: 'stats' | 'oom';
  id: string;
  data?: Record<string, unknown>;
}

/** How often the stream checks that the container still lives. */
const LIVENESS_MS = 100;
/** One more OOM poll after the end, so a kill that ended the container is reported. */
const FINAL_OOM_MS = 150;

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };

/** Go's time.ParseDuration ("5s", "1m30s", "250ms", "0"), in milliseconds. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === '0' || s === '+0' || s === '-0') return 0;
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(s);
  if (!m) throw new InvalidInputError(`invalid value "${text}" for flag -interval: parse error`);
  let ms = 0;
  for (const part of s.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) ms += Number(part[1]) * UNITS[part[2]];
  return m[1] === '-' ? -ms : ms;
}

export function eventLine(type: ContainerEvent['type'], id: string, data?: unknown): string {
  return statsToJson(data === undefined ? { type, id } : { type, id, data }) + '\n';
}

export async function streamEvents(
  root: string,
  id: string,
  opts: EventsOptions,
  emit: (event: ContainerEvent) => void,
): Promise<void> {
  if (!(opts.intervalMs > 0)) throw new InvalidInputError('duration interval must be greater than 0');
  const { container, saved, status, cgroup } = openContainerCgroup(root, id, loadCgroup);
  container.unlock();
  if (status === 'stopped') throw new ContainerStateError(`container with id ${id} is not running`);
  if (opts.statsOnly) {
    emit({ type: 'stats', id, data: cgroup.stats() });
    return;
  }
  // A rootless container may run in no cgroup at all: then the init alone tells.
  const inCgroup = cgroup.exists();
  const alive = () => isSameLiveProcess(saved.pid, saved.pidStart) && (!inCgroup || cgroup.exists());
  await new Promise<void>((resolve) => {
    const stopOom = cgroup.watchOom(() => emit({ type: 'oom', id }));
    const statsTimer = setInterval(() => {
      try {
        emit({ type: 'stats', id, data: cgroup.stats() });
      } catch (e) {
        // runc logs a failed stats read and carries on.
        warn(`events: ${(e as Error).message}`);
      }
    }, opts.intervalMs);
    const stop = (finalOomMs: number) => {
      clearInterval(liveness);
      clearInterval(statsTimer);
      opts.signal?.removeEventListener('abort', aborted);
      setTimeout(() => {
        stopOom();
        resolve();
      }, finalOomMs);
    };
    const aborted = () => stop(0);
    const liveness = setInterval(() => {
      if (!alive()) stop(FINAL_OOM_MS);
    }, LIVENESS_MS);
    if (opts.signal?.aborted) aborted();
    else opts.signal?.addEventListener('abort', aborted);
  });
}
