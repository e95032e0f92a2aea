import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';
import { createFlags, createOptions, type CreateArgs } from './create';
import { createContainer } from '../runtime/create';
import { startContainer } from '../runtime/start';
import { runForeground } from '../runtime/run';
import { ContainerDir } from '../state/store';

interface RunArgs extends CreateArgs {
  detach: boolean;
  keep: boolean;
}

export const run: CommandModule<GlobalArgs, RunArgs> = {
  command: 'run <id>',
  describe: 'create and run a container',
  builder: (y) =>
    y
      .options(createFlags)
      .option('detach', { alias: 'd', type: 'boolean', default: false, describe: 'detach from the container\'s process' })
      .option('keep', { type: 'boolean', default: false, describe: 'do not delete the container after it exits' }) as never,
  handler: async (args) => {
    if (args.detach) {
      const { container } = createContainer(createOptions(args, true));
      container.unlock();
      startContainer(ContainerDir.open(args.root, args.id));
      return;
    }
    process.exitCode = await runForeground(createOptions(args, false), args.keep);
  },
};
