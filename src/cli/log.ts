// Diagnostics go to --log (text or runc's JSON lines, which containerd's shim
// parses) and, for fatal errors, to fd 2. Never through process.stdout/stderr:
// those streams set O_NONBLOCK on descriptions the container shares.
import { openSync, writeSync } from 'node:fs';

export type Level = 'debug' | 'info' | 'warning' | 'error';
const rank: Record<Level, number> = { debug: 0, info: 1, warning: 2, error: 3 };

let logFd = -1;
let jsonFormat = false;
let minLevel: Level = 'info';

export function configureLog(opts: { log?: string; logFormat?: string; debug?: boolean }): void {
  jsonFormat = opts.logFormat === 'json';
  minLevel = opts.debug ? 'debug' : 'info';
  if (opts.log) logFd = openSync(opts.log, 'a', 0o600);
}

function format(level: Level, msg: string): string {
  const time = new Date().toISOString();
  if (jsonFormat) return JSON.stringify({ level, msg, time }) + '\n';
  return `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
}

export function log(level: Level, msg: string): void {
  if (rank[level] < rank[minLevel] || logFd < 0) return;
  writeSync(logFd, format(level, msg));
}

export const debug = (msg: string) => log('debug', msg);
export const info = (msg: string) => log('info', msg);
export const warn = (msg: string) => log('warning', msg);

/** A fatal error: to the log in its format, and to fd 2 as plain text. */
export function fatal(msg: string): void {
  log('error', msg);
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
