import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';
import { phase } from '../log/phase';

export const start: CommandModule<GlobalArgs, GlobalArgs & { id: string }> = {
  command: 'start <id>',
  describe: 'executes the user defined process in a created container',
  handler: async (args) => {
    const notifySocket = process.env.NOTIFY_SOCKET;
    const [{ ContainerDir }, { startContainer }, notify] = await Promise.all([
      import('../state/store'),
      import('../runtime/start'),
      // Only then: its datagram socket and poll(2) load FFI.
      notifySocket ? import('../runtime/start-notify') : undefined,
    ]);
    phase('start.modules');
    const c = ContainerDir.open(args.root, args.id);
    phase('start.locked');
    try {
      // runc's: the container's READY=1 goes on to the caller's NOTIFY_SOCKET.
      if (notify && notifySocket) notify.startNotifying(c, notifySocket);
      else startContainer(c);
    } finally {
      c.unlock();
    }
  },
};
