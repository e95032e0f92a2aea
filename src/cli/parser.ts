// The full command line parser: yargs with runc's global flags and every
// command (one file each). The lifecycle commands usually take the fast path
// (fast-path.ts) and come here only when it declines.
import yargs from 'yargs';
import type { CommandModule } from 'yargs';
import { configureLog, out } from './log';
import { InvalidInputError } from '../errors';
import { GLOBAL_FLAGS, PARSER_CONFIGURATION, commandIndex, type GlobalArgs } from './globals';
import { commandNamed, commandsFor } from './commands';
import { OCI_VERSION } from '../spec/version';
import { version } from '../../package.json';

/** Parses argv and runs its command; resolves to the exit code. */
export async function parseAndRun(typed: string[]): Promise<number> {
  const argv = checkCommandWord(typed);
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
      throw err ?? new InvalidInputError(msg);
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

const GLOBAL_HELP = new Set(['--help', '-h']);
const GLOBAL_VERSION = new Set(['--version', '-v']);
/** runc's exit status for a command that does not exist (urfave/cli's). */
const NO_SUCH_COMMAND = 3;

/**
 * runc's `help [command]` (or `h`) becomes `[command] --help`; a word that
 * names no command is refused by name. yargs would take that word for an
 * extra argument ("Unknown argument: foo"), or, with -h, print the global
 * help and exit 0. Flags before the word are global: `--help foo` is the
 * global help and `-v foo` the version, as with runc.
 */
function checkCommandWord(argv: string[]): string[] {
  let i = commandIndex(argv);
  if (i < 0) return argv;
  const globals = argv.slice(0, i);
  if (globals.some((a) => GLOBAL_VERSION.has(a))) return globals;
  if (globals.some((a) => GLOBAL_HELP.has(a))) return argv;
  if (argv[i] === 'help' || argv[i] === 'h') {
    argv = [...argv.slice(0, i), ...argv.slice(i + 1), '--help'];
    i = commandIndex(argv);
    if (i < 0) return argv;
  }
  if (!commandNamed(argv[i]))
    throw new InvalidInputError(
      // runc's (urfave/cli's) words first: runc's help.bats and tools look for them.
      `No help topic for '${argv[i]}': command "${argv[i]}" does not exist (tsrun --help lists the commands)`,
      NO_SUCH_COMMAND,
    );
  return argv;
}
