// tsrun features: print what this runtime implements (runtime-spec features.md).
import type { CommandModule } from 'yargs';
import { out } from './log';

export const featuresCommand: CommandModule<object, object> = {
  command: 'features',
  describe: 'show the enabled features',
  handler: async () => {
    const { features } = await import('../spec/features');
    out(JSON.stringify(features(), null, 4) + '\n');
  },
};
