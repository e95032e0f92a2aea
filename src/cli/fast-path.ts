// The lifecycle commands a shim runs for every container (create, start,
// state, kill, delete) and run, parsed by yargs-parser, the parser inside
// yargs, with the same flag tables: building yargs' command machinery cost
// ~4.5 ms per start, more than half of a `state`. Whatever the plain parse does not take as it
// is (help, an unknown or negated flag, a bad choice, a missing or extra
// word) is declined and goes to yargs, which words the error as always.
import parse from 'yargs-parser';
import type { AnyCommand } from './commands';
import { GLOBAL_FLAGS, PARSER_CONFIGURATION, commandIndex } from './globals';
import { create, createFlags } from './create';
import { start } from './start';
import { state } from './state';
import { kill, killFlags } from './kill';
import { del, deleteFlags } from './delete';
import { run, runFlags } from './run';
import { exec, execFlags, EXEC_PARSER_CONFIGURATION } from './exec';

interface Flag {
  type: 'string' | 'boolean' | 'number';
  alias?: string;
  default?: unknown;
  choices?: readonly string[];
}
type Flags = Record<string, Flag>;

type Configuration = parse.Options['configuration'];
const HOT: Record<string, [AnyCommand, Flags, Configuration?]> = {
  create: [create, createFlags],
  start: [start, {}],
  state: [state, {}],
  kill: [kill, killFlags],
  delete: [del, deleteFlags],
  run: [run, runFlags],
  // Health checks and probes run exec all the time.
  exec: [exec, execFlags, EXEC_PARSER_CONFIGURATION],
};
const DECLINED = new Set(['--help', '-h', '--version', '-v']);

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function parserOptions(flags: Flags, configuration: Configuration): parse.Options {
  const of = (type: Flag['type']) => Object.keys(flags).filter((k) => flags[k].type === type);
  const alias: Record<string, string> = {};
  const defaults: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(flags)) {
    if (f.alias) alias[name] = f.alias;
    if (f.default !== undefined) defaults[name] = f.default;
  }
  return {
    string: of('string'),
    boolean: of('boolean'),
    number: of('number'),
    alias,
    default: defaults,
    configuration: { ...configuration, 'populate--': true },
  };
}

/** Every key a clean parse may hold: the flags, their aliases and camelCase forms. */
function knownKeys(flags: Flags): Set<string> {
  return new Set(Object.entries(flags).flatMap(([name, f]) => [name, camel(name), ...(f.alias ? [f.alias] : [])]));
}

/** The positional words of a usage string such as 'kill <id> [signal]' or 'exec <id> [command..]'. */
function positionals(usage: string): { required: string[]; optional: string[]; rest?: string } {
  const words = usage.split(' ').slice(1);
  const rest = words.find((w) => w.endsWith('..]'));
  return {
    required: words.filter((w) => w.startsWith('<')).map((w) => w.slice(1, -1)),
    optional: words.filter((w) => w.startsWith('[') && w !== rest).map((w) => w.slice(1, -1)),
    rest: rest?.slice(1, -3),
  };
}

/** The command and its yargs-shaped arguments, or undefined when yargs must parse argv. */
export function hotCommand(argv: string[]): { command: AnyCommand; args: Record<string, unknown> } | undefined {
  const word = argv[commandIndex(argv)];
  const hot = Object.hasOwn(HOT, word) ? HOT[word] : undefined;
  if (!hot || argv.some((a) => DECLINED.has(a))) return undefined;
  const [command, own, configuration = PARSER_CONFIGURATION] = hot;
  const flags: Flags = { ...GLOBAL_FLAGS, ...own };
  const parsed = parse(argv, parserOptions(flags, configuration));
  const known = knownKeys(flags);
  if (Object.keys(parsed).some((k) => k !== '_' && k !== '--' && !known.has(k))) return undefined;
  if (Object.entries(flags).some(([name, f]) => f.choices && !f.choices.includes(parsed[name]))) return undefined;
  const [first, ...words] = parsed._.map(String);
  const { required, optional, rest } = positionals(String(command.command));
  const fixed = required.length + optional.length;
  if (first !== word || words.length < required.length || (!rest && (words.length > fixed || parsed['--']?.length)))
    return undefined;
  const args: Record<string, unknown> = { ...parsed, _: [word], $0: 'tsrun' };
  [...required, ...optional].forEach((name, i) => {
    if (i < words.length) args[name] = words[i];
  });
  if (rest) args[rest] = words.slice(fixed);
  return { command, args };
}
