import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';
import { InvalidInputError } from '../errors';

export const resume: CommandModule<GlobalArgs, GlobalArgs & { id: string }> = {
  command: 'resume <id>',
  describe: 'resumes all processes that have been previously paused',
  handler: async (args) => {
    const { openContainerCgroup } = await import('../runtime/container-cgroup');
    const { status, cgroup } = openContainerCgroup(args.root, args.id);
    if (status !== 'paused') throw new InvalidInputError('container not paused');
    cgroup.thaw();
  },
};
