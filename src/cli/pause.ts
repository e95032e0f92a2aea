import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';

export const pause: CommandModule<GlobalArgs, GlobalArgs & { id: string }> = {
  command: 'pause <id>',
  describe: 'pause suspends all processes inside the container',
  handler: async (args) => {
    const { pauseContainer } = await import('../runtime/pause');
    pauseContainer(args.root, args.id);
  },
};
