// Commands of runc's command line that tsrun knows by name but does not
// implement: their help says so, and running them fails saying so, whatever
// flags they are given (a caller's runc flags must not turn the answer into
// "Unknown argument").
import type { CommandModule } from 'yargs';
import { InvalidInputError } from '../errors';

export function unsupportedCommand(usage: string, what: string, why: string): CommandModule<object, object> {
  const name = usage.split(' ')[0];
  return {
    command: usage,
    describe: `${what} (not supported by tsrun)`,
    builder: (y) => y.strict(false).epilogue(`Not supported: ${why}.`),
    handler: () => {
      throw new InvalidInputError(`${name} is not supported: ${why}`);
    },
  };
}

/** Why checkpoint and restore are not there. */
export const CRIU_UNSUPPORTED = 'tsrun does not implement checkpoint/restore with CRIU';
