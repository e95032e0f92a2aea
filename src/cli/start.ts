import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';
import { ContainerDir } from '../state/store';
import { startContainer } from '../runtime/start';

export const start: CommandModule<GlobalArgs, GlobalArgs & { id: string }> = {
  command: 'start <id>',
  describe: 'executes the user defined process in a created container',
  handler: (args) => {
    startContainer(ContainerDir.open(args.root, args.id));
  },
};
