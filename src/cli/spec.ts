// tsrun spec: write a starter config.json into the bundle, like `runc spec`.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { defaultSpec } from '../spec/default';
import { InvalidInputError } from '../errors';

interface SpecArgs {
  bundle?: string;
  rootless?: boolean | string;
}

/**
 * spec's --rootless is a bare flag; yargs merges it with the global
 * --rootless, a string: the bare flag then arrives as "".
 */
function wantsRootless(v: boolean | string | undefined): boolean {
  return v === true || v === '' || v === 'true' || v === '1';
}

export const specCommand: CommandModule<object, SpecArgs> = {
  command: 'spec',
  describe: 'create a new specification file',
  builder: (y) =>
    y
      .option('bundle', { alias: 'b', type: 'string', describe: 'path to the root of the bundle directory' })
      .option('rootless', { type: 'string', describe: 'generate a configuration for a rootless container' }),
  handler: (args) => {
    const path = resolve(args.bundle ?? '.', 'config.json');
    const text = JSON.stringify(defaultSpec(wantsRootless(args.rootless)), null, '\t');
    try {
      // 'wx': never overwrite, and no window between a check and the write.
      writeFileSync(path, text, { flag: 'wx', mode: 0o666 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new InvalidInputError('File config.json exists. Remove it first');
      const bundle = resolve(args.bundle ?? '.');
      if (code === 'ENOENT') throw new InvalidInputError(`bundle ${bundle}: does not exist`);
      if (code === 'ENOTDIR') throw new InvalidInputError(`bundle ${bundle}: is not a directory`);
      throw new InvalidInputError(`${path}: cannot be written: ${code ?? String(err)}`);
    }
  },
};
