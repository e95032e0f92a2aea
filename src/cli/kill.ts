import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';
import { phase } from '../log/phase';

interface KillArgs extends GlobalArgs {
  id: string;
  signal?: string;
  all: boolean;
}

export const killFlags = {
  all: { alias: 'a', type: 'boolean', default: false, describe: 'send the signal to all processes in the container' },
} as const;

export const kill: CommandModule<GlobalArgs, KillArgs> = {
  command: 'kill <id> [signal]',
  describe: "kill sends the specified signal (default: SIGTERM) to the container's init process",
  builder: (y) => y.options(killFlags) as never,
  handler: async (args) => {
    const { killContainer } = await import('../runtime/kill');
    phase('kill.modules');
    killContainer(args.root, args.id, args.signal === undefined ? undefined : String(args.signal), args.all);
  },
};
