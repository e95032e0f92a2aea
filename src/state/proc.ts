// Facts about a process read from /proc, used to tell whether the pid saved
// for a container still belongs to it.
import { readFileSync } from 'node:fs';
import { sleepMs } from '../sys/sleep';

export interface ProcStat {
  state: string;
  ppid: number;
  startTime: string;
}

export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // comm may contain spaces and parentheses: fields resume after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0], ppid: Number(rest[1]), startTime: rest[19] };
}

/** Alive and the same process (start time matches), not a zombie. */
export function isSameLiveProcess(pid: number, startTime: string | undefined): boolean {
  if (!pid) return false;
  const st = procStat(pid);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return startTime === undefined || st.startTime === startTime;
}

/** Poll until the process is gone (or a zombie); false on timeout. */
export function waitGone(pid: number, startTime: string | undefined, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 20)) {
    if (!isSameLiveProcess(pid, startTime)) return true;
    if (Date.now() > deadline) return false;
    sleepMs(delay);
  }
}
