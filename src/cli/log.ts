// The command line's side of logging, as runc does it: --log FILE,
// --log-format text|json (containerd's shim reads the last "error" line of the
// JSON log to say why a command failed) and --debug set the library's log
// target; fatal errors go to the file and to fd 2; command output to fd 1.
import { openSync, writeSync } from 'node:fs';
import { log, setLogTarget } from '../log';
import { commandIndex } from './globals';
import { InvalidInputError } from '../errors';

export { debug, info, warn } from '../log';

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
  let fd = 2;
  if (opts.log) {
    try {
      fd = openSync(opts.log, 'a', 0o600);
    } catch (e) {
      throw new InvalidInputError(
        `--log ${opts.log}: cannot open: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    toFile = true;
  }
  setLogTarget({ fd, json: opts.logFormat === 'json', debug: !!opts.debug });
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
