// Every command tsrun understands; each lives in its own file.
import type { CommandModule } from 'yargs';
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
];
