// tsrun features: print what this runtime implements (runtime-spec features.md).
import type { CommandModule } from 'yargs';
import { features } from '../spec/features';
import { out } from './log';

export const featuresCommand: CommandModule<object, object> = {
  command: 'features',
  describe: 'show the enabled features',
  handler: () => {
    out(JSON.stringify(features(), null, 4) + '\n');
  },
};
