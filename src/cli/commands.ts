// Every command tsrun understands; each lives in its own file.
import type { CommandModule } from 'yargs';
import { commandIndex } from './globals';
import { featuresCommand } from './features';
import { specCommand } from './spec';
import { create } from './create';
import { start } from './start';
import { state } from './state';
import { kill } from './kill';
import { del } from './delete';
import { run } from './run';
import { list } from './list';
import { seccompCommand } from './seccomp';
import { pause } from './pause';
import { resume } from './resume';
import { ps } from './ps';
import { update } from './update';
import { events } from './events';
import { exec } from './exec';
import { checkpoint } from './checkpoint';
import { restore } from './restore';

/**
 * A command whatever its arguments: the list mixes commands of different argument types (yargs builds the arguments
 * at run time). Argv is invariant in its type, so neither unknown nor never fits every command here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above: the one place the argument types are lost
export type AnyCommand = CommandModule<any, any>;

export const commands: AnyCommand[] = [
  create,
  start,
  state,
  kill,
  del,
  run,
  list,
  specCommand,
  featuresCommand,
  seccompCommand,
  pause,
  resume,
  ps,
  update,
  events,
  exec,
  checkpoint,
  restore,
];

const namesOf = (c: AnyCommand): string[] => [
  ...[c.command ?? []].flat().map((s) => s.split(' ')[0]),
  ...[c.aliases ?? []].flat(),
];

/**
 * The command argv names, alone, when it names one: yargs parses each
 * registered command's usage string on every start (~1.5 ms for all of
 * them), and only --help without a command needs them all.
 */
export function commandsFor(argv: string[]): AnyCommand[] {
  const named = commandNamed(argv[commandIndex(argv)]);
  return named ? [named] : commands;
}

export function commandNamed(word: string | undefined): AnyCommand | undefined {
  return word === undefined ? undefined : commands.find((c) => namesOf(c).includes(word));
}
