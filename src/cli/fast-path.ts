// The lifecycle commands a shim runs for every container (create, start,
// state, kill, delete) and run, parsed by yargs-parser, the parser inside
// yargs, with the same flag tables: building yargs' command machinery cost
// ~4.5 ms per start, more than half of a `state`. Whatever the plain parse does not take as it
// is (help, an unknown or negated flag, a bad choice, a missing or extra
// word) is declined and goes to yargs, which words the error as always.
import parse from 'yargs-parser';
import type { CommandModule } from 'yargs';
import { GLOBAL_FLAGS, PARSER_CONFIGURATION, commandIndex } from './globals';
import { create, createFlags } from './create';
import { start } from './start';
import { state } from './state';
import { kill, killFlags } from './kill';
import { del, deleteFlags } from './delete';
import { run, runFlags } from './run';

interface Flag {
  type: 'string' | 'boolean' | 'number';
  alias?: string;
  default?: unknown;
  choices?: readonly string[];
}
type Flags = Record<string, Flag>;

const HOT: Record<string, [CommandModule<any, any>, Flags]> = {
  create: [create, createFlags],
  start: [start, {}],
  state: [state, {}],
  kill: [kill, killFlags],
  delete: [del, deleteFlags],
  run: [run, runFlags],
};
const DECLINED = new Set(['--', '--help', '-h', '--version', '-v']);

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function parserOptions(flags: Flags): parse.Options {
  const of = (type: Flag['type']) => Object.keys(flags).filter((k) => flags[k].type === type);
  const alias: Record<string, string> = {};
  const defaults: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(flags)) {
    if (f.alias) alias[name] = f.alias;
    if (f.default !== undefined) defaults[name] = f.default;
  }
  return { string: of('string'), boolean: of('boolean'), number: of('number'), alias, default: defaults, configuration: PARSER_CONFIGURATION };
}

/** Every key a clean parse may hold: the flags, their aliases and camelCase forms. */
function knownKeys(flags: Flags): Set<string> {
  return new Set(Object.entries(flags).flatMap(([name, f]) => [name, camel(name), ...(f.alias ? [f.alias] : [])]));
}

/** The positional words of a usage string such as 'kill <id> [signal]'. */
function positionals(usage: string): { required: string[]; optional: string[] } {
  const words = usage.split(' ').slice(1);
  return {
    required: words.filter((w) => w.startsWith('<')).map((w) => w.slice(1, -1)),
    optional: words.filter((w) => w.startsWith('[')).map((w) => w.slice(1, -1)),
  };
}

/** The command and its yargs-shaped arguments, or undefined when yargs must parse argv. */
export function hotCommand(argv: string[]): { command: CommandModule<any, any>; args: Record<string, unknown> } | undefined {
  const word = argv[commandIndex(argv)];
  const hot = Object.hasOwn(HOT, word) ? HOT[word] : undefined;
  if (!hot || argv.some((a) => DECLINED.has(a))) return undefined;
  const [command, own] = hot;
  const flags: Flags = { ...GLOBAL_FLAGS, ...own };
  const parsed = parse(argv, parserOptions(flags));
  const known = knownKeys(flags);
  if (Object.keys(parsed).some((k) => k !== '_' && !known.has(k))) return undefined;
  if (Object.entries(flags).some(([name, f]) => f.choices && !f.choices.includes(parsed[name]))) return undefined;
  const [first, ...rest] = parsed._.map(String);
  const { required, optional } = positionals(String(command.command));
  if (first !== word || rest.length < required.length || rest.length > required.length + optional.length) return undefined;
  const args: Record<string, unknown> = { ...parsed, _: [word], $0: 'tsrun' };
  [...required, ...optional].forEach((name, i) => {
    if (i < rest.length) args[name] = rest[i];
  });
  return { command, args };
}
