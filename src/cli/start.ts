import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';
import { phase } from '../log/phase';

export const start: CommandModule<GlobalArgs, GlobalArgs & { id: string }> = {
  command: 'start <id>',
  describe: 'executes the user defined process in a created container',
  handler: async (args) => {
    const [{ ContainerDir }, { startContainer, startNotifying }] = await Promise.all([
      import('../state/store'),
      import('../runtime/start'),
    ]);
    phase('start.modules');
    const c = ContainerDir.open(args.root, args.id);
    phase('start.locked');
    // runc's: the container's READY=1 goes on to the caller's NOTIFY_SOCKET.
    if (process.env.NOTIFY_SOCKET) startNotifying(c, process.env.NOTIFY_SOCKET);
    else startContainer(c);
  },
};
