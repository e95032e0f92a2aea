import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';

export const start: CommandModule<GlobalArgs, GlobalArgs & { id: string }> = {
  command: 'start <id>',
  describe: 'executes the user defined process in a created container',
  handler: async (args) => {
    const [{ ContainerDir }, { startContainer }] = await Promise.all([
      import('../state/store'),
      import('../runtime/start'),
    ]);
    startContainer(ContainerDir.open(args.root, args.id));
  },
};
