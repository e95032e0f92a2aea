/** Global flags shared by every command (runc's names). */
export interface GlobalArgs {
  root: string;
  log?: string;
  logFormat: string;
  debug: boolean;
  systemdCgroup: boolean;
  rootless?: string;
}

import { xdgRoot } from '../linux/rootless';

/** runc's default: /run/<name>, or under $XDG_RUNTIME_DIR for a rootless caller. */
export const DEFAULT_ROOT = xdgRoot() ?? '/run/tsrun';

/** runc's global flags, as yargs options; main.ts and the fast path (fast-path.ts) both read them from here. */
export const GLOBAL_FLAGS = {
  version: { alias: 'v', type: 'boolean', describe: 'print the version' },
  root: { type: 'string', default: DEFAULT_ROOT, describe: 'root directory for storage of container state' },
  log: { type: 'string', describe: 'log file path' },
  'log-format': { type: 'string', default: 'text', choices: ['text', 'json'], describe: 'log format' },
  debug: { type: 'boolean', default: false, describe: 'enable debug logging' },
  'systemd-cgroup': { type: 'boolean', default: false, describe: 'use systemd cgroup driver' },
  rootless: { type: 'string', describe: 'ignore cgroup permission errors (true, false, auto)' },
  criu: { type: 'string', hidden: true },
} as const;

/**
 * How both parsers read argv, as runc does: positionals are words (a
 * container id "123" stays a string), a flag given twice takes its last
 * value rather than becoming an array, and --no-pivot is the flag
 * no-pivot, not the negation of a flag pivot.
 */
export const PARSER_CONFIGURATION = {
  'parse-positional-numbers': false,
  'duplicate-arguments-array': false,
  'boolean-negation': false,
} as const;

/** The global flags that take a value as the next word (`--root /r`). */
const GLOBAL_FLAGS_WITH_VALUE = new Set(
  Object.entries(GLOBAL_FLAGS)
    .filter(([, o]) => o.type === 'string')
    .map(([name]) => `--${name}`),
);

/** Where the command word is in argv (the first word that is neither a flag nor a flag's value); -1 if none. */
export function commandIndex(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    if (GLOBAL_FLAGS_WITH_VALUE.has(argv[i])) i++;
    else if (!argv[i].startsWith('-')) return i;
  }
  return -1;
}
