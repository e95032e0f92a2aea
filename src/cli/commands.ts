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

export const commands: CommandModule<any, any>[] = [
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

const namesOf = (c: CommandModule<any, any>): string[] => [
  ...[c.command ?? []].flat().map((s) => s.split(' ')[0]),
  ...[c.aliases ?? []].flat(),
];

/**
 * The command argv names, alone, when it names one: yargs parses each
 * registered command's usage string on every start (~1.5 ms for all of
 * them), and only --help without a command needs them all.
 */
export function commandsFor(argv: string[]): CommandModule<any, any>[] {
  const named = commandNamed(argv[commandIndex(argv)]);
  return named ? [named] : commands;
}

export function commandNamed(word: string | undefined): CommandModule<any, any> | undefined {
  return word === undefined ? undefined : commands.find((c) => namesOf(c).includes(word));
}
