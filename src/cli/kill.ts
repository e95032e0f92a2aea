import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';
import { ContainerDir, statusOf } from '../state/store';
import { UserError } from './errors';
import { parseSignal } from '../runtime/signals';
import { signalContainer } from '../runtime/kill';

interface KillArgs extends GlobalArgs {
  id: string;
  signal?: string;
  all: boolean;
}

export const kill: CommandModule<GlobalArgs, KillArgs> = {
  command: 'kill <id> [signal]',
  describe: 'kill sends the specified signal (default: SIGTERM) to the container\'s init process',
  builder: (y) => y.option('all', { alias: 'a', type: 'boolean', default: false, describe: 'send the signal to all processes in the container' }) as never,
  handler: (args) => {
    const signal = parseSignal(args.signal === undefined ? undefined : String(args.signal));
    const c = ContainerDir.open(args.root, args.id);
    const saved = c.read();
    const status = statusOf(c, saved);
    if (!saved || (status !== 'created' && status !== 'running' && status !== 'paused')) {
      throw new UserError('container not running');
    }
    signalContainer(saved, signal, args.all);
  },
};
