import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';
import { warn } from './log';
import { createFlags, createOptions, type CreateArgs } from './create';
import { loadSystemdDriver } from '../cgroups/systemd-link';

interface RunArgs extends CreateArgs {
  detach: boolean;
  keep: boolean;
  'no-subreaper': boolean;
}

export const runFlags = {
  ...createFlags,
  detach: { alias: 'd', type: 'boolean', default: false, describe: "detach from the container's process" },
  keep: { type: 'boolean', default: false, describe: 'do not delete the container after it exits' },
  'no-subreaper': {
    type: 'boolean',
    default: false,
    describe: 'disable the use of the subreaper used to reap reparented processes',
  },
} as const;

export const run: CommandModule<GlobalArgs, RunArgs> = {
  command: 'run <id>',
  describe: 'create and run a container',
  builder: (y) => y.options(runFlags) as never,
  handler: async (args) => {
    // After the double fork the init is not run's child: without being its
    // subreaper, a foreground run could not wait for it.
    if (args['no-subreaper'] && !args.detach)
      warn('--no-subreaper: ignored; the foreground run reaps its init as subreaper');
    if (args.systemdCgroup) await loadSystemdDriver();
    if (args.detach) {
      const { runDetached } = await import('../runtime/run');
      await runDetached(createOptions(args, true));
      return;
    }
    const { runForeground } = await import('../runtime/run');
    process.exitCode = await runForeground(createOptions(args, false), args.keep);
  },
};
