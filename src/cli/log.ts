// Diagnostics as runc writes them: logrus lines, text or JSON (containerd's
// shim reads the last "error" line of the JSON log to say why a command
// failed), to --log or, without it, to fd 2. Never through
// process.stdout/stderr: those streams set O_NONBLOCK on descriptions the
// container shares.
import { openSync, writeSync } from 'node:fs';
import { logLine, type Fields, type Level } from './log-format';
import { commandIndex } from './globals';
import { UserError } from './errors';

export type { Level } from './log-format';
const rank: Record<Level, number> = { debug: 0, info: 1, warning: 2, error: 3 };

/** Where a process logs; handed to the container init, which logs to the same place. */
export interface LogTarget {
  /** The open log file, or 2 when there is no --log. */
  fd: number;
  json: boolean;
  debug: boolean;
}

let target: LogTarget = { fd: 2, json: false, debug: false };
/** Whether --log named a file: fatal errors then go to both it and fd 2. */
let toFile = false;
let configured = false;

export interface LogOptions {
  log?: string;
  logFormat?: string;
  debug?: boolean;
}

export function configureLog(opts: LogOptions): void {
  if (configured) return;
  configured = true;
  target = { fd: 2, json: opts.logFormat === 'json', debug: !!opts.debug };
  if (opts.log) {
    try {
      target.fd = openSync(opts.log, 'a', 0o600);
    } catch (e) {
      throw new UserError(`--log ${opts.log}: cannot open: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    toFile = true;
  }
}

/**
 * For an error before the command line was parsed (a bad flag, a bad
 * --log-format): the log flags as typed among the global flags, so that the
 * error still reaches --log. An unusable log file leaves fd 2 alone to say it.
 */
export function configureLogFromArgv(argv: string[]): void {
  if (configured) return;
  const end = commandIndex(argv);
  const globals = end < 0 ? argv : argv.slice(0, end);
  const opts: LogOptions = {};
  for (let i = 0; i < globals.length; i++) {
    const [flag, inline] = globals[i].split(/=(.*)/s, 2);
    if (flag === '--log') opts.log = inline ?? globals[++i];
    else if (flag === '--log-format') opts.logFormat = inline ?? globals[++i];
    else if (flag === '--debug') opts.debug = inline === undefined || inline === 'true';
  }
  try {
    configureLog(opts);
  } catch {
    configured = true;
  }
}

/** The container init's side: log where its parent logs (the fd came with the plan). */
export function adoptLog(t: LogTarget): void {
  target = t;
  toFile = false;
  configured = true;
}

export function logTarget(): LogTarget {
  return { ...target };
}

export function log(level: Level, msg: string, fields?: Fields): void {
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

/**
 * A fatal error: as runc, to the log file in its format and to fd 2 as the
 * bare message; without a log file, fd 2 gets it once (as `tsrun: msg`).
 */
export function fatal(msg: string): void {
  if (toFile) log('error', msg);
  try {
    writeSync(2, `tsrun: ${msg}\n`);
  } catch {
    // fd 2 may be closed; the log has it.
  }
}

/** Write command output to fd 1 without touching process.stdout. */
export function out(text: string): void {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) off += writeSync(1, buf, off);
}
