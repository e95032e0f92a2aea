import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';
import { ContainerDir, statusOf, publicState } from '../state/store';
import { UserError } from './errors';
import { out } from './log';

export const state: CommandModule<GlobalArgs, GlobalArgs & { id: string }> = {
  command: 'state <id>',
  describe: 'output the state of a container',
  handler: (args) => {
    const c = ContainerDir.open(args.root, args.id);
    const saved = c.read();
    if (!saved) throw new UserError(`container does not exist: ${args.id}`);
    out(JSON.stringify(publicState(saved, statusOf(c, saved)), null, 2) + '\n');
  },
};
