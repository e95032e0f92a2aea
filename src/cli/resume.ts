import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';

export const resume: CommandModule<GlobalArgs, GlobalArgs & { id: string }> = {
  command: 'resume <id>',
  describe: 'resumes all processes that have been previously paused',
  handler: async (args) => {
    const { resumeContainer } = await import('../runtime/pause');
    resumeContainer(args.root, args.id);
  },
};
