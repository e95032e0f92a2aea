import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';
import type { ContainerDir } from '../state/store';
import { NoSuchContainerError } from '../errors';

export const deleteFlags = {
  force: { alias: 'f', type: 'boolean', default: false, describe: 'forcibly delete the container if it is still running (uses SIGKILL)' },
} as const;

export const del: CommandModule<GlobalArgs, GlobalArgs & { id: string; force: boolean }> = {
  command: 'delete <id>',
  describe: 'delete any resources held by the container',
  builder: (y) => y.options(deleteFlags) as never,
  handler: async (args) => {
    const [{ ContainerDir }, { destroyContainer }] = await Promise.all([import('../state/store'), import('../runtime/destroy')]);
    let c: ContainerDir;
    try {
      c = ContainerDir.open(args.root, args.id);
    } catch (e) {
      // runc: deleting a missing container with --force is not an error.
      if (args.force && e instanceof NoSuchContainerError) return;
      throw e;
    }
    destroyContainer(c, args.force);
  },
};
