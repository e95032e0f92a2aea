// The full command line parser: yargs with runc's global flags and every
// command (one file each). The lifecycle commands usually take the fast path
// (fast-path.ts) and come here only when it declines.
import yargs from 'yargs';
import type { CommandModule } from 'yargs';
import { configureLog, out } from './log';
import { UserError } from './errors';
import { GLOBAL_FLAGS, PARSER_CONFIGURATION, type GlobalArgs } from './globals';
import { commandsFor } from './commands';
import { OCI_VERSION } from '../spec/version';
import { version } from '../../package.json';

/** Parses argv and runs its command; resolves to the exit code. */
export async function parseAndRun(argv: string[]): Promise<number> {
  const parser = yargs(argv)
    .scriptName('tsrun')
    .usage('tsrun [global options] <command> [command options]')
    .version(false)
    .options(GLOBAL_FLAGS)
    .parserConfiguration(PARSER_CONFIGURATION)
    .middleware((args) => configureLog(args as unknown as GlobalArgs))
    .strict()
    .help('help')
    .alias('help', 'h')
    .wrap(null)
    .fail((msg, err) => {
      throw err ?? new UserError(msg);
    });
  for (const c of commandsFor(argv)) parser.command(c as CommandModule);
  const args = await parser.parseAsync();
  if (args.version && args._.length === 0) {
    // runc's layout, which dockerd and podman parse; the commit is the build's.
    out(`tsrun version ${version}\ncommit: ${process.env.TSRUN_COMMIT || 'unknown'}\nspec: ${OCI_VERSION}\n`);
    return 0;
  }
  if (args._.length === 0) {
    out((await parser.getHelp()) + '\n');
    return 0;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}
