// The library's logger: runc's logrus lines (text or JSON) written to one fd,
// or handed to a sink of the caller's. It knows nothing of the command line:
// the CLI opens --log and sets the target (src/cli/log.ts); the container init
// and exec's process get the parent's target with their plan. Never through
// process.stdout/stderr: those streams set O_NONBLOCK on descriptions the
// container shares.
import { writeSync } from 'node:fs';
import { logLine, type Fields, type Level } from './format';

export type { Level, Fields } from './format';
const rank: Record<Level, number> = { debug: 0, info: 1, warning: 2, error: 3 };

/** Where lines go; handed to the container init, which logs to the same place. */
export interface LogTarget {
  /** An open file, or 2. */
  fd: number;
  json: boolean;
  /** Whether debug lines are written. */
  debug: boolean;
}

/** A caller's own logger: every line, debug included, instead of the fd. */
export type LogSink = (level: Level, msg: string, fields?: Fields) => void;

let target: LogTarget = { fd: 2, json: false, debug: false };
let sink: LogSink | undefined;

export function setLogTarget(t: LogTarget): void {
  target = { ...t };
}

export function logTarget(): LogTarget {
  return { ...target };
}

/** Replace the fd target with a function (undefined: back to the fd). */
export function setLogSink(s: LogSink | undefined): void {
  sink = s;
}

export function log(level: Level, msg: string, fields?: Fields): void {
  if (sink) return sink(level, msg, fields);
  if (rank[level] < rank[target.debug ? 'debug' : 'info']) return;
  try {
    writeSync(target.fd, logLine(level, msg, target.json, fields));
  } catch {
    // a full pipe or a closed fd: nowhere left to say it
  }
}

export const debug = (msg: string, fields?: Fields) => log('debug', msg, fields);
export const info = (msg: string, fields?: Fields) => log('info', msg, fields);
export const warn = (msg: string, fields?: Fields) => log('warning', msg, fields);
