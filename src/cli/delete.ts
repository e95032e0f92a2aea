import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';
import { phase } from '../log/phase';

export const deleteFlags = {
  force: {
    alias: 'f',
    type: 'boolean',
    default: false,
    describe: 'forcibly delete the container if it is still running (uses SIGKILL)',
  },
} as const;

export const del: CommandModule<GlobalArgs, GlobalArgs & { id: string; force: boolean }> = {
  command: 'delete <id>',
  describe: 'delete any resources held by the container',
  builder: (y) => y.options(deleteFlags) as never,
  handler: async (args) => {
    const { deleteContainer } = await import('../runtime/delete');
    phase('delete.modules');
    await deleteContainer(args.root, args.id, args.force);
  },
};
