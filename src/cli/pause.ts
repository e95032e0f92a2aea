import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';
import { ContainerStateError } from '../errors';

export const pause: CommandModule<GlobalArgs, GlobalArgs & { id: string }> = {
  command: 'pause <id>',
  describe: 'pause suspends all processes inside the container',
  handler: async (args) => {
    const { openContainerCgroup } = await import('../runtime/container-cgroup');
    const { status, cgroup } = openContainerCgroup(args.root, args.id);
    // runc pauses created and running containers; anything else is "not running".
    if (status !== 'running' && status !== 'created') throw new ContainerStateError('container not running');
    cgroup.freeze();
  },
};
