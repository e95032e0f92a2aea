import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';
import { out } from './log';
import { phase } from '../log/phase';

export const state: CommandModule<GlobalArgs, GlobalArgs & { id: string }> = {
  command: 'state <id>',
  describe: 'output the state of a container',
  handler: async (args) => {
    const { ContainerFiles, statusOf, publicState } = await import('../state/status');
    phase('state.modules');
    const c = ContainerFiles.find(args.root, args.id);
    const saved = c.readExisting();
    out(JSON.stringify(publicState(saved, statusOf(c, saved)), null, 2) + '\n');
  },
};
